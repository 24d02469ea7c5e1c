"""Grievance pages: thin views over selectors and services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from civicgrid.accounts.models import Role
from civicgrid.core.errors import FORM_ERRORS, Invalid, http_status
from civicgrid.core.limits import int_param
from civicgrid.core.paging import paginate
from civicgrid.core.scoping import Scope, require, scoped
from civicgrid.core.views import form_errors, scoped_view
from civicgrid.grievances import chain, selectors, services
from civicgrid.grievances.forms import ActForm, AppealForm, DecideForm, FileForm
from civicgrid.grievances.models import Grievance
from civicgrid.registry.models import Household

ACTION_LABELS = {"respond": gettext_lazy("Send an answer"), "pause": gettext_lazy("Pause the clock"), "resume": gettext_lazy("Resume the clock"),
                 "close": gettext_lazy("Decide and close"), "rate": gettext_lazy("Rate")}
STEP_LABELS = {"file": gettext_lazy("filed"), "respond": gettext_lazy("answered"), "pause": gettext_lazy("clock paused"), "resume": gettext_lazy("clock resumed"),
               "close": gettext_lazy("decided"), "rate": gettext_lazy("rated"), "escalate": gettext_lazy("escalated"), "appeal": gettext_lazy("appealed"),
               "appeal_upheld": gettext_lazy("appeal upheld"), "appeal_dismissed": gettext_lazy("appeal not upheld")}


def _is_resident(request: HttpRequest) -> bool:
    return Role.objects.filter(user_id=request.user.pk or 0, role="resident").exists()


@scoped_view
def grievance_list(request: HttpRequest, scope: Scope) -> HttpResponse:
    state = request.GET.get("state", "")
    rows = selectors.grievance_list(scope=scope, state=state, overdue=request.GET.get("overdue") == "1")
    page = paginate(rows, 30, request.GET.get("page"))
    return render(request, "grievances/list.html", {
        "page": page, "state": state, "states": Grievance.State.choices,
        "appeals": selectors.pending_appeals(scope=scope) if scope.may("grievances_review") else []})


@scoped_view
@require_http_methods(["GET", "POST"])
def grievance_new(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, "grievances")
    resident = _is_resident(request)
    form = FileForm(request.POST or None, resident=resident)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        code = data.pop("household_code", "")
        try:
            household = scoped(Household.objects.filter(code=code), scope).first() if code else None
            if code and household is None:
                raise Invalid({"household_code": _("No such household in your area.")})
            g = services.grievance_file(user=request.user, scope=scope, household=household, **data)
        except FORM_ERRORS as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Complaint %(code)s filed. You can follow it here.") % {"code": g.code})
            return redirect("grievances:detail", grievance_id=g.pk)
    return render(request, "grievances/form.html", {"form": form})


def _actions(request: HttpRequest, scope: Scope, g: Grievance) -> list[tuple[str, Any]]:
    allowed = []
    wanted = {"open": ["respond", "pause", "resume", "close"], "closed": ["rate"]}.get(g.state, [])
    for action in wanted:
        if (action == "pause" and g.paused_since) or (action == "resume" and not g.paused_since) \
                or (action == "rate" and g.rating is not None):
            continue
        try:
            services.authorise(user=request.user, scope=scope, grievance=g, action=action)
        except PermissionDenied:
            continue
        allowed.append((action, ACTION_LABELS[action]))
    return allowed


def _detail(request: HttpRequest, scope: Scope, g: Grievance, *, form: ActForm | None = None,
            appeal_form: AppealForm | None = None, decide_form: DecideForm | None = None, status: int = 200
            ) -> HttpResponse:
    actions = _actions(request, scope, g)
    complainant = chain.is_complainant(request.user, g)
    pending = selectors.appeals_of(g).filter(outcome="pending").first()
    may_review = (pending is not None and scope.may("grievances_review")
                  and request.user.pk not in chain.handling_chain(g))
    return render(request, "grievances/detail.html", {
        "g": g, "steps": [(s, STEP_LABELS.get(s.action, "")) for s in selectors.steps_of(g)],
        "pauses": selectors.pauses_of(g), "appeals": selectors.appeals_of(g), "actions": actions,
        "form": form or ActForm(), "show_reason": any(a == "pause" for a, _label in actions),
        "show_rating": any(a == "rate" for a, _label in actions),
        "may_appeal": complainant and g.state == "closed" and g.closed_at is not None
        and not g.appeals.filter(filed_at__gte=g.closed_at).exists(), "appeal_form": appeal_form or AppealForm(),
        "pending": pending, "may_review": may_review, "decide_form": decide_form or DecideForm(),
    }, status=status)


@scoped_view
def grievance_detail(request: HttpRequest, scope: Scope, grievance_id: int) -> HttpResponse:
    return _detail(request, scope, selectors.grievance_get(scope=scope, grievance_id=grievance_id))


@scoped_view
@require_POST
def grievance_act(request: HttpRequest, scope: Scope, grievance_id: int) -> HttpResponse:
    g = selectors.grievance_get(scope=scope, grievance_id=grievance_id)
    action = request.POST.get("action", "")
    form = ActForm(request.POST)
    if action not in ACTION_LABELS or not form.is_valid():
        form.add_error(None, _("Unknown action."))
        return _detail(request, scope, g, form=form, status=400)
    try:
        services.grievance_act(user=request.user, scope=scope, grievance=g, action=action, **form.cleaned_data)
    except FORM_ERRORS as exc:
        form_errors(form, exc)
        return _detail(request, scope, selectors.grievance_get(scope=scope, grievance_id=grievance_id), form=form,
                       status=http_status(exc) or 400)
    messages.success(request, _("Done: %(action)s.") % {"action": ACTION_LABELS[action]})
    return redirect("grievances:detail", grievance_id=g.pk)


@scoped_view
@require_POST
def grievance_appeal(request: HttpRequest, scope: Scope, grievance_id: int) -> HttpResponse:
    g = selectors.grievance_get(scope=scope, grievance_id=grievance_id)
    form = AppealForm(request.POST)
    if form.is_valid():
        try:
            services.grievance_appeal(user=request.user, scope=scope, grievance=g, **form.cleaned_data)
        except FORM_ERRORS as exc:
            form_errors(form, exc)
            return _detail(request, scope, g, appeal_form=form, status=http_status(exc) or 400)
        messages.success(request, _("Your appeal is filed; a reviewer outside the handling chain will decide it."))
        return redirect("grievances:detail", grievance_id=g.pk)
    return _detail(request, scope, g, appeal_form=form, status=400)


@scoped_view
@require_POST
def appeal_decide(request: HttpRequest, scope: Scope, grievance_id: int, appeal_id: int) -> HttpResponse:
    require(scope, "grievances_review")
    g = selectors.grievance_get(scope=scope, grievance_id=grievance_id)
    appeal = selectors.appeal_get(scope=scope, grievance=g, appeal_id=appeal_id)
    form = DecideForm(request.POST)
    if form.is_valid():
        try:
            services.appeal_decide(user=request.user, scope=scope, appeal=appeal, **form.cleaned_data)
        except FORM_ERRORS as exc:
            form_errors(form, exc)
            return _detail(request, scope, g, decide_form=form, status=http_status(exc) or 400)
        messages.success(request, _("The appeal is decided."))
        return redirect("grievances:detail", grievance_id=g.pk)
    return _detail(request, scope, g, decide_form=form, status=400)


@scoped_view
def grievance_rates(request: HttpRequest, scope: Scope) -> HttpResponse:
    communities = list(selectors.rate_communities(scope=scope))
    chosen = communities[0] if communities else None
    if request.GET.get("community") and communities:
        wanted = int_param(request.GET["community"], "community")
        chosen = next((c for c in communities if c.pk == wanted), None)
        if chosen is None:
            from civicgrid.core.errors import NotFound

            raise NotFound()
    return render(request, "grievances/rates.html", {
        "communities": communities, "community": chosen,
        "months": selectors.monthly_rates(community=chosen) if chosen else []})
