"""Mediation pages: thin views. Parties and confidential texts reach the template only for the mediator and
the director (selectors.may_see_parties)."""

from __future__ import annotations

import csv
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from civicgrid.core.errors import FORM_ERRORS, http_status
from civicgrid.core.exporting import neutralise
from civicgrid.core.limits import int_param
from civicgrid.core.paging import paginate
from civicgrid.core.places import ancestor_at
from civicgrid.core.scoping import Scope, require
from civicgrid.core.views import form_errors, scoped_view
from civicgrid.mediation import selectors, services
from civicgrid.mediation.forms import AgreementForm, NoteForm, OpenForm, PartyForm
from civicgrid.mediation.models import MediationCase

ACTIONS = ("party", "session", "agreement", "sign", "fail", "followup")


@scoped_view
def case_list(request: HttpRequest, scope: Scope) -> HttpResponse:
    state = request.GET.get("state", "")
    page = paginate(selectors.case_list(scope=scope, state=state), 30, request.GET.get("page"))
    return render(request, "mediation/list.html", {"page": page, "state": state,
                                                   "states": MediationCase.State.choices})


def _community_path(scope: Scope) -> str:
    """The director's community; for a wider area (the district), the area itself."""
    path = scope.place_path()
    return ancestor_at(path, "community") or path


@scoped_view
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, "mediation_manage")
    form = OpenForm(request.POST or None, scope=scope, community_path=_community_path(scope))
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_open(user=request.user, scope=scope, **form.cleaned_data)
        except FORM_ERRORS as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Mediation %(code)s opened.") % {"code": case.code})
            return redirect("mediation:detail", case_id=case.pk)
    return render(request, "mediation/form.html", {"form": form})


def _detail(request: HttpRequest, scope: Scope, case: MediationCase, forms_: dict[str, forms.Form] | None = None,
            status: int = 200) -> HttpResponse:
    privileged = selectors.may_see_parties(request.user, case)
    given = forms_ or {}
    return render(request, "mediation/detail.html", {
        "case": case, "privileged": privileged,
        "parties": selectors.parties(user=request.user, case=case),
        "sessions": selectors.sessions(user=request.user, case=case),
        "agreement": getattr(case, "agreement", None) if privileged else None,
        "party_form": given.get("party", PartyForm()), "session_form": given.get("session", NoteForm()),
        "agreement_form": given.get("agreement", AgreementForm()), "fail_form": given.get("fail", NoteForm()),
        "followup_form": given.get("followup", NoteForm()),
    }, status=status)


@scoped_view
def case_detail(request: HttpRequest, scope: Scope, case_id: int) -> HttpResponse:
    return _detail(request, scope, selectors.case_get(scope=scope, case_id=case_id))


@scoped_view
@require_POST
def case_act(request: HttpRequest, scope: Scope, case_id: int) -> HttpResponse:
    case = selectors.case_get(scope=scope, case_id=case_id)
    action = request.POST.get("action", "")
    form: forms.Form = {"party": PartyForm, "agreement": AgreementForm}.get(action, NoteForm)(request.POST)
    if action not in ACTIONS or (action != "sign" and not form.is_valid()):
        if action not in ACTIONS:
            form.add_error(None, _("Unknown action."))
        return _detail(request, scope, case, {action: form}, status=400)
    data: dict[str, Any] = dict(getattr(form, "cleaned_data", {}))
    try:
        if action == "party":
            services.party_add(user=request.user, scope=scope, case=case, **data)
        elif action == "session":
            services.session_record(user=request.user, scope=scope, case=case, note=data["note"])
        elif action == "agreement":
            services.agreement_record(user=request.user, scope=scope, case=case, text=data["text"])
        elif action == "sign":
            services.party_sign(user=request.user, scope=scope, case=case,
                                party_id=int_param(request.POST.get("party", ""), "party"))
        elif action == "fail":
            services.case_fail(user=request.user, scope=scope, case=case, note=data["note"])
        else:
            services.followup_record(user=request.user, scope=scope, case=case, note=data["note"])
    except FORM_ERRORS as exc:
        form_errors(form, exc)
        return _detail(request, scope, selectors.case_get(scope=scope, case_id=case_id), {action: form},
                       status=http_status(exc) or 400)
    messages.success(request, _("Saved."))
    return redirect("mediation:detail", case_id=case.pk)


@scoped_view
def case_export(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The cases in the user's area as CSV: never a party, a summary or a note (whoever asks)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="mediation.csv"'
    writer = csv.writer(response)
    writer.writerow([_("code"), _("kind of dispute"), _("grid"), _("state"), _("opened"), _("agreement reached"),
                     _("follow-up visit")])
    for c in selectors.case_list(scope=scope):
        writer.writerow([neutralise(v) for v in (
            c.code, c.get_category_display(), c.grid.name, c.get_state_display(), f"{c.opened_at:%Y-%m-%d}",
            f"{c.agreed_at:%Y-%m-%d}" if c.agreed_at else "", c.get_follow_up_state_display())])
    return response
