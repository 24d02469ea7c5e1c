"""Procurement pages. Thin: scope from the role, data from selectors, writes through services."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from civicgrid.core.errors import FORM_ERRORS, Forbidden
from civicgrid.core.paging import paginate
from civicgrid.core.scoping import Scope, require, scoped
from civicgrid.core.views import form_errors, scoped_view
from civicgrid.procurement import forms as f
from civicgrid.procurement import selectors, services
from civicgrid.procurement.conf import yuan
from civicgrid.procurement.models import RUBRIC, Call
from civicgrid.procurement.ocds import release_package
from civicgrid.registry.models import Actor, Place


def _label(user: Any) -> str:
    person = getattr(getattr(user, "role", None), "person", None)
    return f"{person.name}（{user.get_username()}）" if person else user.get_username()


@scoped_view
def calls(request: HttpRequest, scope: Scope) -> HttpResponse:
    found = selectors.calls(scope=scope).order_by("-published_at", "-id")
    page = paginate(found, 30, request.GET.get("page"))
    appropriations = list(selectors.appropriations(scope=scope)[:50]) if scope.may("procurement_manage") else []
    return render(request, "procurement/calls.html", {"page": page, "appropriations": appropriations,
                                                      "now": timezone.now()})


def _places(scope: Scope) -> list[tuple[int, str]]:
    return [(p.pk, p.name) for p in scoped(Place.objects.filter(level__in=("district", "subdistrict", "community")),
                                           scope).order_by("path")[:200]]


@scoped_view
@require_http_methods(["GET", "POST"])
def appropriation_new(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, "procurement_manage")
    funders = [(a.pk, a.name) for a in scoped(Actor.objects.all(), scope).order_by("sector", "code")[:300]]
    form = f.AppropriationForm(request.POST or None, places=_places(scope), funders=funders)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.appropriation_create(user=request.user, scope=scope, name=d["name"], place_id=d["place"],
                                          funder_id=d["funder"], year=d["year"], amount_fen=f.to_fen(d["amount"]))
        except FORM_ERRORS as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Appropriation recorded."))
            return redirect("procurement:calls")
    return render(request, "procurement/form.html", {"form": form, "title": _("New appropriation"),
                                                     "submit": _("Record appropriation")},
                  status=400 if form.errors else 200)


@scoped_view
@require_http_methods(["GET", "POST"])
def call_new(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, "procurement_manage")
    appropriations = [(a.pk, f"{a.name} · {_('left')} {yuan(a.available_fen)}")
                      for a in selectors.appropriations(scope=scope)[:100]]
    form = f.CallForm(request.POST or None, appropriations=appropriations, places=_places(scope))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            call = services.call_publish(user=request.user, scope=scope, appropriation_id=d["appropriation"],
                                         title=d["title"], service_kind=d["service_kind"], place_id=d["place"],
                                         budget_fen=f.to_fen(d["budget"]), deadline=d["deadline"],
                                         description=d["description"])
        except FORM_ERRORS as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Call for proposals published."))
            return redirect("procurement:call", call_id=call.pk)
    return render(request, "procurement/form.html", {"form": form, "title": _("New call for proposals"),
                                                     "submit": _("Publish call")},
                  status=400 if form.errors else 200)


@scoped_view
def call_detail(request: HttpRequest, scope: Scope, call_id: int) -> HttpResponse:
    call = selectors.call_get(scope=scope, call_id=call_id)
    manage = scope.may("procurement_manage") and scoped(Call.objects.filter(pk=call.pk), scope).exists()
    reviewer_form = None
    if manage and call.status == Call.Status.OPEN:
        reviewer_form = f.ReviewerForm(candidates=[(u.pk, _label(u)) for u in
                                                   selectors.reviewer_candidates(scope=scope, call=call)])
    rank = {pk: i for i, (pk, _mean) in enumerate(selectors.ranking(call=call), start=1)}
    apps = [(a, rank.get(a.pk)) for a in selectors.applications(scope=scope, user=request.user, call=call)]
    return render(request, "procurement/call.html", {
        "call": call, "applications": apps, "manage": manage, "reviewer_form": reviewer_form,
        "reviewers": call.reviewers.select_related("user__role__person").order_by("id"),
        "may_apply": scope.role == "org_staff" and call.status == Call.Status.OPEN and call.deadline > timezone.now(),
        "may_award": manage and call.status == Call.Status.OPEN and call.deadline <= timezone.now(),
        "contract": getattr(call, "contract", None) if call.status == Call.Status.AWARDED else None,
    })


@scoped_view
@require_POST
def call_reviewer(request: HttpRequest, scope: Scope, call_id: int) -> HttpResponse:
    require(scope, "procurement_manage")
    call = selectors.call_get(scope=scope, call_id=call_id)
    form = f.ReviewerForm(request.POST, candidates=[(u.pk, "") for u in
                                                    selectors.reviewer_candidates(scope=scope, call=call)])
    if not form.is_valid():
        messages.error(request, _("Choose a reviewer from the list."))
        return redirect("procurement:call", call_id=call_id)
    try:
        services.reviewer_name(user=request.user, scope=scope, call_id=call_id, reviewer_id=form.cleaned_data["reviewer"])
    except FORM_ERRORS as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Reviewer named."))
    return redirect("procurement:call", call_id=call_id)


@scoped_view
@require_http_methods(["GET", "POST"])
def call_apply(request: HttpRequest, scope: Scope, call_id: int) -> HttpResponse:
    require(scope, "procurement")
    call = selectors.call_get(scope=scope, call_id=call_id)
    organisations = [(a.pk, a.name) for a in selectors.organisations_of(scope)]
    form = f.ApplyForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            application = services.application_submit(user=request.user, scope=scope, call_id=call.pk,
                                                      organisation_id=d["organisation"],
                                                      amount_fen=f.to_fen(d["amount"]), proposal=d["proposal"])
        except FORM_ERRORS as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Application submitted."))
            return redirect("procurement:application", application_id=application.pk)
    return render(request, "procurement/form.html", {
        "form": form, "title": _("Apply: %(title)s") % {"title": call.title}, "submit": _("Submit application"),
        "intro": _("Budget %(budget)s yuan; deadline %(when)s.") % {
            "budget": yuan(call.budget_fen), "when": timezone.localtime(call.deadline).strftime("%Y-%m-%d %H:%M")}},
        status=400 if form.errors else 200)


def _application_page(request: HttpRequest, scope: Scope, application_id: int,
                      form: f.ScoreForm | None = None) -> HttpResponse:
    application = selectors.application_get(scope=scope, user=request.user, application_id=application_id)
    reviewer = selectors.is_reviewer(user=request.user, call=application.call)
    conflict = selectors.conflict_of(user=request.user, actor_id=application.organisation.actor_id) if reviewer else None
    already = application.scores.filter(reviewer_id=request.user.pk).exists()
    if form is None and reviewer and not conflict and not already and application.call.status == Call.Status.OPEN:
        form = f.ScoreForm()
    return render(request, "procurement/application.html", {
        "application": application, "form": form, "conflict": conflict, "reviewer": reviewer, "already": already,
        "scores": selectors.scores(application=application), "rubric": RUBRIC.items()},
        status=400 if form is not None and form.errors else 200)


@scoped_view
def application_detail(request: HttpRequest, scope: Scope, application_id: int) -> HttpResponse:
    return _application_page(request, scope, application_id)


@scoped_view
@require_POST
def application_score(request: HttpRequest, scope: Scope, application_id: int) -> HttpResponse:
    """A named reviewer's marks; anyone else (or a reviewer with a conflict of interest) is refused by the
    service, whose reason the error page shows."""
    application = selectors.application_get(scope=scope, user=request.user, application_id=application_id)
    if not selectors.is_reviewer(user=request.user, call=application.call):
        raise Forbidden(_("only the call's named reviewers score its applications"))
    form = f.ScoreForm(request.POST)
    if form.is_valid():
        try:
            services.application_score(user=request.user, scope=scope, application_id=application.pk,
                                       marks=form.marks(), comment=form.cleaned_data["comment"])
        except FORM_ERRORS as error:
            form_errors(form, error)
        else:
            messages.success(request, _("Score recorded."))
            return redirect("procurement:application", application_id=application.pk)
    return _application_page(request, scope, application_id, form)


@scoped_view
@require_http_methods(["GET", "POST"])
def call_award(request: HttpRequest, scope: Scope, call_id: int) -> HttpResponse:
    require(scope, "procurement_manage")
    call = selectors.call_get(scope=scope, call_id=call_id)
    ranking = dict(selectors.ranking(call=call))
    applications = [(a.pk, f"{a.organisation.actor.name} · {yuan(a.amount_fen)} · "
                           + (_("mean score %(s).1f") % {"s": ranking[a.pk]} if a.pk in ranking else _("not scored")))
                    for a in selectors.applications(scope=scope, user=request.user, call=call)]
    arbiters = [(u.pk, _label(u)) for u in selectors.arbiter_candidates(call=call)]
    form = f.AwardForm(request.POST or None, applications=applications, arbiters=arbiters)
    if request.method == "POST" and form.is_valid():
        rows = form.milestone_rows()
        if not form.errors:
            d = form.cleaned_data
            specs = [services.MilestoneSpec(title=r["title"], share_percent=r["share"], due_on=r["due"],
                                            deliverable=r["deliverable"], target=r["target"]) for r in rows]
            try:
                contract = services.call_award(user=request.user, scope=scope, call_id=call.pk,
                                               application_id=d["application"], arbiter_id=d["arbiter"],
                                               ends_on=d["ends_on"], milestones=specs, reason=d["reason"])
            except FORM_ERRORS as error:
                form_errors(form, error)
            else:
                messages.success(request, _("Awarded: the contract is signed."))
                return redirect("procurement:contract", contract_id=contract.pk)
    return render(request, "procurement/form.html", {
        "form": form, "title": _("Award: %(title)s") % {"title": call.title}, "submit": _("Award and sign contract"),
        "intro": _("The payout shares of the milestones add up to 100%. Each milestone is earned by a deliverable "
                   "counted from the platform's records.")}, status=400 if form.errors else 200)


@scoped_view
def contracts(request: HttpRequest, scope: Scope) -> HttpResponse:
    page = paginate(selectors.contracts(scope=scope).order_by("-signed_at", "-id"), 30, request.GET.get("page"))
    return render(request, "procurement/contracts.html", {"page": page})


@scoped_view
def contract_detail(request: HttpRequest, scope: Scope, contract_id: int) -> HttpResponse:
    contract = selectors.contract_get(scope=scope, contract_id=contract_id)
    milestones = [(m, selectors.progress(milestone=m), f.DecideForm(prefix=f"d{m.pk}"), f.PayForm(prefix=f"p{m.pk}"))
                  for m in contract.milestones.order_by("number")]
    return render(request, "procurement/contract.html", {
        "contract": contract, "milestones": milestones, "arbiter": contract.arbiter_id == request.user.pk,
        "manage": scope.may("procurement_manage"),
        "appropriation": contract.call.appropriation})


@scoped_view
@require_POST
def milestone_decide(request: HttpRequest, scope: Scope, milestone_id: int) -> HttpResponse:
    milestone = selectors.milestone_get(scope=scope, milestone_id=milestone_id)
    form = f.DecideForm(request.POST, prefix=f"d{milestone.pk}")
    if not form.is_valid():
        messages.error(request, _("Choose accept or reject."))
    else:
        try:
            services.milestone_decide(user=request.user, scope=scope, milestone_id=milestone.pk,
                                      accept=form.cleaned_data["decision"] == "accept",
                                      reason=form.cleaned_data["reason"])
        except FORM_ERRORS as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Milestone decision recorded."))
    return redirect("procurement:contract", contract_id=milestone.contract_id)


@scoped_view
@require_POST
def milestone_pay(request: HttpRequest, scope: Scope, milestone_id: int) -> HttpResponse:
    require(scope, "procurement_manage")
    milestone = selectors.milestone_get(scope=scope, milestone_id=milestone_id)
    form = f.PayForm(request.POST, prefix=f"p{milestone.pk}")
    reference = form.cleaned_data["reference"] if form.is_valid() else ""
    try:
        services.payment_make(user=request.user, scope=scope, milestone_id=milestone.pk, reference=reference)
    except FORM_ERRORS as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Payment recorded."))
    return redirect("procurement:contract", contract_id=milestone.contract_id)


@scoped_view
def payments(request: HttpRequest, scope: Scope) -> HttpResponse:
    page = paginate(selectors.payments(scope=scope).order_by("-paid_at", "-id"), 50, request.GET.get("page"))
    return render(request, "procurement/payments.html", {"page": page})


@scoped_view
def call_ocds(request: HttpRequest, scope: Scope, call_id: int) -> HttpResponse:
    call = selectors.call_get(scope=scope, call_id=call_id)
    package = release_package(call=call, uri=request.build_absolute_uri(), publisher="civicgrid")
    response = HttpResponse(json.dumps(package, ensure_ascii=False, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="ocds-call-{call.pk}.json"'
    return response


