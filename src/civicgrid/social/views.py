"""The social app's pages. Thin: scope from the role, data from selectors, writes through services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from civicgrid.core.errors import FORM_ERRORS, NotFound
from civicgrid.core.limits import int_param
from civicgrid.core.paging import paginate
from civicgrid.core.scoping import Scope, require, scoped
from civicgrid.core.servicekinds import SERVICE_KINDS
from civicgrid.core.views import form_errors, scoped_view
from civicgrid.registry.models import Actor, Place
from civicgrid.social import board as threew
from civicgrid.social import forms as f
from civicgrid.social import selectors, services
from civicgrid.social.models import Admission, Organisation


def _act(request: HttpRequest, action: Callable[[], object], *, success: str) -> bool:
    """Run a service for a POST button; a refusal comes back as a message with its reason."""
    try:
        action()
    except FORM_ERRORS as error:
        messages.error(request, " ".join(error.messages))
        return False
    messages.success(request, success)
    return True


def _refused(request: HttpRequest, form: Any) -> None:
    """A posted form that did not parse: its errors as one message (the page it came from shows it)."""
    words = [f"{form.fields[k].label if k in form.fields else ''}: {' '.join(v)}".lstrip(": ")
             for k, v in form.errors.items()]
    messages.error(request, "; ".join(words))


# --- the register ---------------------------------------------------------------------------------
@scoped_view
def organisations(request: HttpRequest, scope: Scope) -> HttpResponse:
    verification, stage, query = (request.GET.get(k, "") for k in ("verification", "stage", "q"))
    found = selectors.organisations(scope=scope, query=query[:60], verification=verification, stage=stage,
                                    complaints=bool(request.GET.get("complaints")))
    page = paginate(found, 50, request.GET.get("page"))
    return render(request, "social/organisations.html", {
        "page": page, "verification": verification, "stage": stage, "q": query,
        "verifications": Organisation.Verification.choices, "stages": Organisation.Stage.choices,
    })


@scoped_view
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, "social_manage")
    hubs = scoped(Actor.objects.filter(organisation__isnull=False), scope).order_by("code")
    form = f.RegisterForm(request.POST or None, actors=selectors.unregistered_actors(scope=scope), hubs=hubs)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.organisation_register(
                user=request.user, scope=scope, actor_id=form.cleaned_data["actor"],
                credit_code=form.cleaned_data["credit_code"], hub_id=form.cleaned_data["hub"])
        except FORM_ERRORS as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Registered: the organisation waits for verification."))
            return redirect("social:organisation", organisation_id=organisation.pk)
    return render(request, "social/register.html", {"form": form}, status=400 if form.errors else 200)


@scoped_view
def organisation(request: HttpRequest, scope: Scope, organisation_id: int) -> HttpResponse:
    found = selectors.organisation_get(scope=scope, organisation_id=organisation_id)
    manage = scope.may("social_manage")
    _assessment, trainings, funding = services.evidence(found, until=timezone.localdate())
    assessments = list(found.assessments.prefetch_related("ratings")[:20])
    return render(request, "social/organisation.html", {
        "o": found, "manage": manage, "trainings_count": trainings, "funding_yuan": f"{funding / 100:,.2f}",
        "verification_changes": found.verification_changes.select_related("complaint")[:50],
        "stage_changes": found.stage_changes.select_related("assessment")[:50],
        "assessments": assessments, "score_points": [(a.assessed_on, a.score) for a in reversed(assessments)],
        "trainings": found.trainings.all()[:50], "fundings": found.fundings.select_related("source")[:50],
        "complaints": found.complaints.all()[:50],
        "admissions": selectors.admissions(scope=scope).filter(actor=found.actor)[:50],
        "verify_form": f.VerifyForm(prefix="v"), "stage_form": f.StageForm(prefix="s"),
        "training_form": f.TrainingForm(prefix="t"),
        "funding_form": f.FundingForm(prefix="fu", sources=scoped(Actor.objects.exclude(pk=found.actor_id),
                                                                  scope).order_by("sector", "code")),
        "complaint_form": f.ComplaintForm(prefix="c"), "resolve_form": f.ResolveForm(prefix="r"),
    })


def _back(organisation_id: int) -> HttpResponse:
    return redirect("social:organisation", organisation_id=organisation_id)


@scoped_view
@require_POST
def verify(request: HttpRequest, scope: Scope, organisation_id: int) -> HttpResponse:
    require(scope, "social_manage")
    selectors.organisation_get(scope=scope, organisation_id=organisation_id)
    form = f.VerifyForm(request.POST, prefix="v")
    if not form.is_valid():
        _refused(request, form)
    else:
        _act(request, lambda: services.organisation_verify(
            user=request.user, scope=scope, organisation_id=organisation_id, state=form.cleaned_data["state"],
            reason=form.cleaned_data["reason"]), success=_("Verification state changed."))
    return _back(organisation_id)


@scoped_view
@require_POST
def stage(request: HttpRequest, scope: Scope, organisation_id: int) -> HttpResponse:
    require(scope, "social_manage")
    selectors.organisation_get(scope=scope, organisation_id=organisation_id)
    form = f.StageForm(request.POST, prefix="s")
    if not form.is_valid():
        _refused(request, form)
    else:
        _act(request, lambda: services.stage_change(
            user=request.user, scope=scope, organisation_id=organisation_id, to_stage=form.cleaned_data["to_stage"],
            on=form.cleaned_data["on"], reason=form.cleaned_data["reason"]), success=_("Incubation stage changed."))
    return _back(organisation_id)


@scoped_view
@require_http_methods(["GET", "POST"])
def assess(request: HttpRequest, scope: Scope, organisation_id: int) -> HttpResponse:
    require(scope, "social_manage")
    found = selectors.organisation_get(scope=scope, organisation_id=organisation_id)
    form = f.AssessmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.assessment_record(user=request.user, scope=scope, organisation_id=found.pk,
                                       ratings=form.ratings(), assessed_on=form.cleaned_data["assessed_on"],
                                       note=form.cleaned_data["note"])
        except FORM_ERRORS as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Capacity assessment recorded."))
            return _back(found.pk)
    return render(request, "social/assess.html", {"o": found, "form": form}, status=400 if form.errors else 200)


@scoped_view
@require_POST
def training(request: HttpRequest, scope: Scope, organisation_id: int) -> HttpResponse:
    require(scope, "social_manage")
    selectors.organisation_get(scope=scope, organisation_id=organisation_id)
    form = f.TrainingForm(request.POST, prefix="t")
    if not form.is_valid():
        _refused(request, form)
    else:
        _act(request, lambda: services.training_record(user=request.user, scope=scope, organisation_id=organisation_id,
                                                       **form.cleaned_data), success=_("Training recorded."))
    return _back(organisation_id)


@scoped_view
@require_POST
def funding(request: HttpRequest, scope: Scope, organisation_id: int) -> HttpResponse:
    require(scope, "social_manage")
    selectors.organisation_get(scope=scope, organisation_id=organisation_id)
    form = f.FundingForm(request.POST, prefix="fu", sources=scoped(Actor.objects.all(), scope))
    if not form.is_valid():
        _refused(request, form)
    else:
        data = form.cleaned_data
        _act(request, lambda: services.funding_record(
            user=request.user, scope=scope, organisation_id=organisation_id, amount_fen=f.fen(data["amount"]),
            received_on=data["received_on"], source_id=data["source"], source_name=data["source_name"],
            source_sector=data["source_sector"], purpose=data["purpose"]), success=_("Funding recorded."))
    return _back(organisation_id)


@scoped_view
@require_POST
def complain(request: HttpRequest, scope: Scope, organisation_id: int) -> HttpResponse:
    require(scope, "social")
    selectors.organisation_get(scope=scope, organisation_id=organisation_id)
    form = f.ComplaintForm(request.POST, prefix="c")
    if not form.is_valid():
        _refused(request, form)
    else:
        _act(request, lambda: services.complaint_file(user=request.user, scope=scope, organisation_id=organisation_id,
                                                      text=form.cleaned_data["text"]),
             success=_("Complaint recorded: the coordinator will decide on it."))
    return _back(organisation_id)


@scoped_view
@require_POST
def complaint_resolve(request: HttpRequest, scope: Scope, organisation_id: int, complaint_id: int) -> HttpResponse:
    require(scope, "social_manage")
    found = selectors.organisation_get(scope=scope, organisation_id=organisation_id)
    if not found.complaints.filter(pk=complaint_id).exists():
        raise NotFound()
    form = f.ResolveForm(request.POST, prefix="r")
    if not form.is_valid():
        _refused(request, form)
    else:
        _act(request, lambda: services.complaint_resolve(user=request.user, scope=scope, complaint_id=complaint_id,
                                                         **form.cleaned_data), success=_("Complaint resolved."))
    return _back(organisation_id)


# --- admission ------------------------------------------------------------------------------------
@scoped_view
@require_http_methods(["GET", "POST"])
def admissions(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The emergencies in force; for one, the application form and the applications with their decisions."""
    in_force = list(selectors.emergencies_in_force(scope=scope))
    chosen = None
    if request.GET.get("emergency") or request.POST.get("emergency"):
        wanted = int_param(request.GET.get("emergency") or request.POST.get("emergency"), "emergency")
        chosen = selectors.emergency_get(scope=scope, emergency_id=wanted)
    elif in_force:
        chosen = in_force[0]
    form, rows = None, []
    if chosen is not None:
        form = f.ApplyForm(request.POST or None, actors=selectors.applicants(scope=scope),
                           grids=selectors.grids_of(chosen))
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.admission_apply(user=request.user, scope=scope, emergency_id=chosen.pk,
                                         actor_id=data["actor"], grid_ids=data["grids"],
                                         service_kinds=data["service_kinds"], note=data["note"])
            except FORM_ERRORS as error:
                form_errors(form, error)
            else:
                messages.success(request, _("Application sent: the coordinator admits or refuses each grid and "
                                            "service."))
                return redirect(reverse("social:admissions") + f"?emergency={chosen.pk}")
        rows = list(selectors.admissions(scope=scope, emergency=chosen))
    elif request.method == "POST":
        messages.error(request, _("No emergency is in force in your area."))
    return render(request, "social/admissions.html", {
        "in_force": in_force, "chosen": chosen, "form": form, "rows": rows, "manage": scope.may("social_manage"),
        "decide_form": f.DecideForm(),
    }, status=400 if form is not None and form.errors else 200)


@scoped_view
@require_POST
def decide(request: HttpRequest, scope: Scope, admission_id: int) -> HttpResponse:
    require(scope, "social_manage")
    row = selectors.admissions(scope=scope).get(pk=admission_id)
    admit = request.POST.get("decision") == "admit"
    form = f.DecideForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    _act(request, lambda: services.admission_decide(user=request.user, scope=scope, admission_id=admission_id,
                                                    admit=admit, reason=reason),
         success=_("Admitted.") if admit else _("Refused."))
    return redirect(reverse("social:admissions") + f"?emergency={row.emergency_id}")


# --- the 3W board ---------------------------------------------------------------------------------
BOARD_PAGE = 100  # cells a page of the board draws
def _board(request: HttpRequest, scope: Scope) -> tuple[threew.Board, int | None, str]:
    community = request.GET.get("community", "")
    community_id = int_param(community, "community") if community else None
    kind = request.GET.get("kind", "")
    kind = kind if kind in SERVICE_KINDS else ""
    return threew.board(scope=scope, community_id=community_id, kind=kind), community_id, kind


@scoped_view
def board(request: HttpRequest, scope: Scope) -> HttpResponse:
    found, community_id, kind = _board(request, scope)
    communities = scoped(Place.objects.filter(level="grid"), scope).values("parent_id")
    query = request.GET.urlencode()
    # paged: a district's board has a cell per grid and service (8,000 at 1M households), all drawn took
    # seconds; the gap and overlap counts above are the whole board's, the CSV export has every cell
    cells = paginate(found.cells, BOARD_PAGE, request.GET.get("page"))
    found.load(cells)
    return render(request, "social/board.html", {
        "board": found, "cells": [(c, found.rows(c)) for c in cells], "page": cells, "kind": kind,
        "community_id": community_id, "kinds": SERVICE_KINDS.items(),
        "communities": Place.objects.filter(pk__in=communities).only("id", "name").order_by("code"),  # no shapes
        "export_url": reverse("social:board_export") + (f"?{query}" if query else ""),
        "statuses": Admission.Status,
    })


@scoped_view
def board_export(request: HttpRequest, scope: Scope) -> HttpResponse:
    found, _community, _kind = _board(request, scope)
    response = HttpResponse("\ufeff" + threew.hxl_csv(found), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="3w-hxl.csv"'
    return response
