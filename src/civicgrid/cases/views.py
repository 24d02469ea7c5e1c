"""Case pages: thin views over selectors and services."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from civicgrid.accounts.models import Role
from civicgrid.cases import selectors, services
from civicgrid.cases import transitions as tx
from civicgrid.cases.forms import CaseActionForm, CaseReportForm
from civicgrid.cases.models import LEVEL_LABELS, STATE_LABELS
from civicgrid.core.errors import FORM_ERRORS, http_status
from civicgrid.core.paging import paginate
from civicgrid.core.scoping import Scope, require
from civicgrid.core.views import form_errors, scoped_view

# Stored photos are re-encoded JPEG or PNG; GIF and WebP were accepted as uploaded before that.
PHOTO_CONTENT_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
                       ".webp": "image/webp"}


@scoped_view
def case_list(request: HttpRequest, scope: Any) -> HttpResponse:
    state, level = request.GET.get("state", ""), request.GET.get("level", "")
    overdue = request.GET.get("overdue") == "1"
    cases = selectors.case_list(scope=scope, state=state if state in STATE_LABELS else "",
                                level=level if level in LEVEL_LABELS else "", overdue=overdue)
    page = paginate(cases, 30, request.GET.get("page"))
    return render(request, "cases/list.html", {
        "page": page, "state": state, "level": level, "overdue": overdue, "states": STATE_LABELS.items(),
        "levels": LEVEL_LABELS.items(), "n_overdue": selectors.overdue_count(scope=scope)})


@scoped_view
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest, scope: Any) -> HttpResponse:
    require(scope, "cases")
    resident = Role.objects.filter(user_id=request.user.pk or 0, role="resident").exists()
    form = CaseReportForm(request.POST or None, request.FILES or None, scope=scope, resident=resident)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_report(user=request.user, scope=scope, **form.cleaned_data)
        except FORM_ERRORS as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Case %(code)s reported.") % {"code": case.code})
            return redirect("cases:detail", case_id=case.pk)
    return render(request, "cases/form.html", {"form": form, "title": _("Report a case")})


def _actions_for(user: Any, scope: Scope, case: Any) -> list[str]:
    """The actions this user may take on the case now (state allows it and the role may)."""
    allowed = []
    for action in tx.allowed_actions(case.state):
        try:
            services.case_authorise(user=user, scope=scope, case=case, action=action)
        except PermissionDenied:
            continue
        if action == "escalate" or (action == "rate" and case.rating is not None):
            continue  # escalation is the clock's job; a case is rated once
        allowed.append(action)
    return allowed


@scoped_view
def case_detail(request: HttpRequest, scope: Any, case_id: int) -> HttpResponse:
    case = selectors.case_get(scope=scope, case_id=case_id)
    return _detail(request, scope, case, CaseActionForm(case=case))


def _detail(request: HttpRequest, scope: Scope, case: Any, form: CaseActionForm, status: int = 200) -> HttpResponse:
    actions = _actions_for(request.user, scope, case)
    return render(request, "cases/detail.html", {
        "case": case, "events": selectors.case_events(case=case), "form": form,
        "actions": [(a, tx.ACTION_LABELS[a]) for a in actions],
        "show_handler": bool({"dispatch", "transfer"} & set(actions)), "show_rating": "rate" in actions,
        "state_label": STATE_LABELS[case.state], "level_label": LEVEL_LABELS[case.level],
    }, status=status)


@scoped_view
@require_POST
def case_act(request: HttpRequest, scope: Any, case_id: int) -> HttpResponse:
    case = selectors.case_get(scope=scope, case_id=case_id)
    action = request.POST.get("action", "")
    form = CaseActionForm(request.POST, case=case)
    if action not in tx.ACTIONS or not form.is_valid():
        messages.error(request, _("Unknown action."))
        return _detail(request, scope, case, form, status=400)
    try:
        services.case_act(user=request.user, scope=scope, case=case, action=action, **form.cleaned_data)
    except FORM_ERRORS as exc:
        form_errors(form, exc)
        return _detail(request, scope, selectors.case_get(scope=scope, case_id=case_id), form,
                       status=http_status(exc) or 400)
    messages.success(request, _("Done: %(action)s.") % {"action": tx.ACTION_LABELS[action]})
    return redirect("cases:detail", case_id=case.pk)


@scoped_view
def case_photo(request: HttpRequest, scope: Any, case_id: int) -> FileResponse:
    case = selectors.case_get(scope=scope, case_id=case_id)
    if not case.photo:
        raise Http404(_("This case has no photo."))
    # Only image types are served inline; anything else (a file stored before photos were re-encoded)
    # is a download. nosniff and a sandboxing policy keep the browser from reading it as a page.
    extension = PurePosixPath(case.photo.name or "").suffix.lower()
    content_type = PHOTO_CONTENT_TYPES.get(extension)
    if content_type:
        response = FileResponse(case.photo.open("rb"), content_type=content_type,
                                filename=f"case-{case.pk}{extension}")
    else:
        response = FileResponse(case.photo.open("rb"), content_type="application/octet-stream",
                                as_attachment=True, filename=f"case-{case.pk}-photo.bin")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@scoped_view
def case_figures(request: HttpRequest, scope: Any) -> HttpResponse:
    by = request.GET.get("by", "grid")
    by = by if by in selectors.GROUPINGS else "grid"
    return render(request, "cases/figures.html", {
        "rows": selectors.case_figures(scope=scope, by=by), "by": by})  # type: ignore[arg-type]
