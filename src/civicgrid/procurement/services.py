"""Writes of the procurement app: each in one transaction with its typed audit event, refusing with
civicgrid.core.errors. Money moves only under a lock on the appropriation's row (``locked()`` inside
``serialised``), and the database's check constraints refuse ``spent > committed > amount`` whatever happens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.roles import scope_for
from civicgrid.core import audit
from civicgrid.core.errors import Conflict, Forbidden, Invalid, NotFound
from civicgrid.core.limits import bounded_text, whole_number
from civicgrid.core.locking import locked, serialised
from civicgrid.core.plugins import deliverables
from civicgrid.core.scoping import Scope, check_in_scope, get_in_scope, require, scoped
from civicgrid.core.servicekinds import SERVICE_KINDS
from civicgrid.procurement import selectors
from civicgrid.procurement.conf import conf, yuan
from civicgrid.procurement.events import ProcurementEvent as E
from civicgrid.procurement.models import (
    RUBRIC,
    Application,
    Appropriation,
    Call,
    Contract,
    Milestone,
    Payment,
    Reviewer,
    Score,
)
from civicgrid.registry.models import Actor, Place
from civicgrid.social.models import Organisation

MANAGE = "procurement_manage"


def _money(value: Any, field: str) -> int:
    return whole_number(value, field, minimum=1, maximum=conf("max_amount_fen"))


def _text(value: Any, field: str, *, required: bool = False, max_chars: int = 500) -> str:
    text = bounded_text(value, field, max_chars=max_chars)
    if required and not text:
        raise Invalid({field: _("This field is required.")})
    return text


def _place(scope: Scope, place_id: Any, field: str) -> Place:
    try:
        return get_in_scope(Place.objects.all(), scope, pk=place_id)
    except NotFound:
        raise Invalid({field: _("no such place in your area")}) from None


@serialised
def appropriation_create(*, user: Any, scope: Scope, name: str, place_id: int, funder_id: int, year: int,
                         amount_fen: int) -> Appropriation:
    """Money for services in ``place`` (inside the user's area) from ``funder``."""
    require(scope, MANAGE)
    name = _text(name, "name", required=True, max_chars=120)
    place = _place(scope, place_id, "place")
    funder = Actor.objects.filter(pk=funder_id).first() if isinstance(funder_id, int) else None
    if funder is None or not scoped(Actor.objects.filter(pk=funder.pk), scope).exists():
        raise Invalid({"funder": _("no such actor in your area")})
    year = whole_number(year, "year", minimum=2000, maximum=2100)
    amount = _money(amount_fen, "amount_fen")
    found = Appropriation.objects.create(name=name, place=place, funder=funder, year=year, amount_fen=amount)
    audit.record(user=user, event=E.APPROPRIATION_CREATED, instance=found, new=audit.snapshot(found),
                 place_path=place.path)
    return found


@serialised
def call_publish(*, user: Any, scope: Scope, appropriation_id: int, title: str, service_kind: str, place_id: int,
                 budget_fen: int, deadline: datetime, description: str = "") -> Call:
    """A call for proposals in a place inside the appropriation's, its budget within what is not committed."""
    require(scope, MANAGE)
    appropriation = get_in_scope(locked(Appropriation.objects.select_related("place")), scope, pk=appropriation_id)
    title = _text(title, "title", required=True, max_chars=120)
    if service_kind not in SERVICE_KINDS:
        raise Invalid({"service_kind": _("unknown service")})
    place = _place(scope, place_id, "place")
    if not place.path.startswith(appropriation.place.path):
        raise Invalid({"place": _("the area must lie inside the appropriation's area")})
    budget = _money(budget_fen, "budget_fen")
    if budget > appropriation.available_fen:
        raise Invalid({"budget_fen": _("the budget %(budget)s yuan exceeds what the appropriation has left, "
                                       "%(left)s yuan") % {"budget": yuan(budget),
                                                           "left": yuan(appropriation.available_fen)}})
    if not isinstance(deadline, datetime) or deadline <= timezone.now():
        raise Invalid({"deadline": _("the deadline must be in the future")})
    call = Call.objects.create(appropriation=appropriation, title=title, service_kind=service_kind, place=place,
                               budget_fen=budget, deadline=deadline, published_by=audit.acting_user(user),
                               description=_text(description, "description", max_chars=2000))
    audit.record(user=user, event=E.CALL_PUBLISHED, instance=call, new=audit.snapshot(call), place_path=place.path)
    return call


@serialised
def reviewer_name(*, user: Any, scope: Scope, call_id: int, reviewer_id: int) -> Reviewer:
    """Name a reviewer of a call: an account linked to a registry person (so that conflicts of interest can be
    checked) whose own scope lets them see the call."""
    require(scope, MANAGE)
    call = get_in_scope(locked(Call.objects.select_related("place")), scope, pk=call_id)
    if call.status != Call.Status.OPEN:
        raise Conflict(_("the call is already awarded"))
    reviewer = get_user_model().objects.select_related("role").filter(pk=reviewer_id, is_active=True).first()
    if reviewer is None:
        raise Invalid({"reviewer": _("no such account")})
    if getattr(getattr(reviewer, "role", None), "person_id", None) is None:
        raise Invalid({"reviewer": _("this account is not linked to a registry person, so a conflict of interest "
                                     "cannot be checked")})
    their = scope_for(reviewer)
    if not their.may("procurement") or not scoped(Call.objects.filter(pk=call.pk), their).exists():
        raise Invalid({"reviewer": _("this account cannot see the call")})
    if Reviewer.objects.filter(call=call, user=reviewer).exists():
        raise Conflict(_("already a reviewer of this call"), field="reviewer")
    found = Reviewer.objects.create(call=call, user=reviewer)
    audit.record(user=user, event=E.REVIEWER_NAMED, instance=found, new=audit.snapshot(found), place_path=call.place.path)
    return found


@serialised
def application_submit(*, user: Any, scope: Scope, call_id: int, organisation_id: int, amount_fen: int,
                       proposal: str) -> Application:
    """A verified organisation applies to an open call (its staff, for their own organisation)."""
    require(scope, "procurement")
    call = get_in_scope(locked(Call.objects.all()), scope, pk=call_id)
    organisation = Organisation.objects.select_related("actor").filter(actor_id=organisation_id).first() \
        if isinstance(organisation_id, int) else None
    if organisation is None:
        raise Invalid({"organisation": _("unknown organisation: no social organisation with this id is registered")})
    if not scope.unrestricted and organisation.actor_id not in scope.actor_ids:
        raise Forbidden(_("you may apply only for your own organisation"))
    if not organisation.is_verified:
        raise Forbidden(_("only verified organisations may apply; %(name)s is %(state)s") % {
            "name": organisation.actor.name, "state": organisation.get_verification_display()})
    if call.status != Call.Status.OPEN or call.deadline <= timezone.now():
        raise Conflict(_("the call no longer takes applications (deadline %(when)s)") % {
            "when": timezone.localtime(call.deadline).strftime("%Y-%m-%d %H:%M")})
    amount = _money(amount_fen, "amount_fen")
    if amount > call.budget_fen:
        raise Invalid({"amount_fen": _("at most the call's budget, %(budget)s yuan") % {"budget": yuan(call.budget_fen)}})
    proposal = _text(proposal, "proposal", required=True, max_chars=2000)
    if Application.objects.filter(call=call, organisation=organisation).exists():
        raise Conflict(_("this organisation has already applied to this call"))
    found = Application.objects.create(call=call, organisation=organisation, amount_fen=amount, proposal=proposal,
                                       submitted_by=audit.acting_user(user))
    audit.record(user=user, event=E.APPLICATION_SUBMITTED, instance=found, new=audit.snapshot(found),
                 place_path=call.place.path)
    return found


def marks_checked(marks: Any) -> dict[str, int]:
    """Every rubric criterion marked with a whole number from 0 to its maximum, nothing else."""
    if not isinstance(marks, dict) or set(marks) != set(RUBRIC):
        raise Invalid({"marks": _("mark every criterion of the rubric")})
    return {key: whole_number(marks[key], key, minimum=0, maximum=RUBRIC[key][1]) for key in RUBRIC}


@serialised
def application_score(*, user: Any, scope: Scope, application_id: int, marks: dict[str, int],
                      comment: str = "") -> Score:
    """A named reviewer's marks. A reviewer with a post in the applicant, or in an actor that funds it, is
    refused (the conflict of interest that fusion measures)."""
    require(scope, "procurement")
    application = selectors.application_get(scope=scope, user=user, application_id=application_id)
    if not selectors.is_reviewer(user=user, call=application.call):
        raise Forbidden(_("only the call's named reviewers score its applications"))
    conflict = selectors.conflict_of(user=user, actor_id=application.organisation.actor_id)
    if conflict:
        raise Forbidden(_("Conflict of interest: you %(why)s, so you may not score this application.") % {"why": conflict})
    if application.call.status != Call.Status.OPEN:
        raise Conflict(_("the call is already awarded"))
    checked = marks_checked(marks)
    comment = _text(comment, "comment")
    if Score.objects.filter(application=application, reviewer_id=user.pk).exists():
        raise Conflict(_("you have already scored this application"))
    found = Score.objects.create(application=application, reviewer=user, **checked, total=sum(checked.values()),
                                 comment=comment)
    audit.record(user=user, event=E.APPLICATION_SCORED, instance=found, new=audit.snapshot(found),
                 place_path=application.call.place.path)
    return found


@dataclass(frozen=True)
class MilestoneSpec:
    title: str
    share_percent: int
    due_on: date
    deliverable: str
    target: int


def _milestones(specs: list[MilestoneSpec], *, amount: int, ends_on: date) -> list[tuple[MilestoneSpec, int]]:
    """Each milestone with its amount: shares of 100%, the last one taking the fen left by rounding."""
    if not 1 <= len(specs) <= conf("max_milestones"):
        raise Invalid({"milestones": _("from 1 to %(n)d milestones") % {"n": conf("max_milestones")}})
    known = deliverables()
    for spec in specs:
        _text(spec.title, "milestones", required=True, max_chars=120)
        whole_number(spec.share_percent, "milestones", minimum=1, maximum=100)
        whole_number(spec.target, "milestones", minimum=1, maximum=1_000_000)
        if spec.deliverable not in known:
            raise Invalid({"milestones": _("unknown deliverable %(kind)r") % {"kind": spec.deliverable}})
        if not isinstance(spec.due_on, date) or not timezone.localdate() <= spec.due_on <= ends_on:
            raise Invalid({"milestones": _("each deadline lies between today and the contract's end")})
    if sum(s.share_percent for s in specs) != 100:
        raise Invalid({"milestones": _("the payout shares must add up to 100%")})
    amounts = [amount * s.share_percent // 100 for s in specs]
    amounts[-1] += amount - sum(amounts)
    return list(zip(specs, amounts, strict=True))


@serialised
def call_award(*, user: Any, scope: Scope, call_id: int, application_id: int, arbiter_id: int, ends_on: date,
               milestones: list[MilestoneSpec], reason: str = "") -> Contract:
    """Award a call after its deadline: sign the contract with its milestones and commit its amount against the
    appropriation (refused when the appropriation has not that much left). Awarding other than the best-scored
    application needs a reason."""
    require(scope, MANAGE)
    call = get_in_scope(locked(Call.objects.select_related("place")), scope, pk=call_id)
    appropriation = locked(Appropriation.objects.filter(pk=call.appropriation_id)).get()
    if call.status != Call.Status.OPEN:
        raise Conflict(_("the call is already awarded"))
    if call.deadline > timezone.now():
        raise Conflict(_("applications are open until %(when)s; award after the deadline") % {
            "when": timezone.localtime(call.deadline).strftime("%Y-%m-%d %H:%M")})
    application = Application.objects.select_related("organisation__actor").filter(
        pk=application_id, call=call).first()
    if application is None:
        raise Invalid({"application": _("no such application to this call")})
    reason = _text(reason, "reason")
    ranking = selectors.ranking(call=call)
    if ranking and ranking[0][0] != application.pk and not reason:
        raise Invalid({"reason": _("this is not the best-scored application: state the reason for the award")})
    arbiter = get_user_model().objects.filter(pk=arbiter_id, is_active=True).first()
    if arbiter is None:
        raise Invalid({"arbiter": _("no such account")})
    their = scope_for(arbiter)
    if not their.may(MANAGE) or not scoped(Call.objects.filter(pk=call.pk), their).exists():
        raise Invalid({"arbiter": _("the arbiter must manage purchases in the call's area")})
    if getattr(getattr(arbiter, "role", None), "person_id", None) is not None:
        conflict = selectors.conflict_of(user=arbiter, actor_id=application.organisation.actor_id)
        if conflict:
            raise Invalid({"arbiter": _("Conflict of interest: the arbiter %(why)s") % {"why": conflict}})
    if not isinstance(ends_on, date) or ends_on < timezone.localdate():
        raise Invalid({"ends_on": _("the contract must end today or later")})
    amount = application.amount_fen
    planned = _milestones(milestones, amount=amount, ends_on=ends_on)
    if amount > appropriation.available_fen:
        raise Conflict(_("the appropriation has %(left)s yuan left, the contract needs %(need)s yuan") % {
            "left": yuan(appropriation.available_fen), "need": yuan(amount)})
    audit.update_fields(user=user, event=E.CALL_AWARDED, instance=appropriation,
                        changes={"committed_fen": appropriation.committed_fen + amount}, place_path=call.place.path)
    contract = Contract.objects.create(call=call, application=application, organisation=application.organisation,
                                       amount_fen=amount, arbiter=arbiter, signed_at=timezone.now(), ends_on=ends_on,
                                       award_reason=reason)
    Milestone.objects.bulk_create([
        Milestone(contract=contract, number=i, title=spec.title.strip(), share_percent=spec.share_percent,
                  amount_fen=fen, due_on=spec.due_on, deliverable=spec.deliverable, target=spec.target)
        for i, (spec, fen) in enumerate(planned, start=1)])
    Application.objects.filter(call=call).exclude(pk=application.pk).update(status=Application.Status.NOT_AWARDED)
    Application.objects.filter(pk=application.pk).update(status=Application.Status.AWARDED)
    audit.update_fields(user=user, event=E.CALL_AWARDED, instance=call, changes={"status": Call.Status.AWARDED})
    audit.record(user=user, event=E.CALL_AWARDED, instance=contract, place_path=call.place.path,
                 new=audit.snapshot(contract))
    for milestone in contract.milestones.order_by("number"):
        audit.record(user=user, event=E.CALL_AWARDED, instance=milestone, new=audit.snapshot(milestone),
                     place_path=call.place.path)
    return contract


@serialised
def milestone_decide(*, user: Any, scope: Scope, milestone_id: int, accept: bool, reason: str = "") -> Milestone:
    """The contract's arbiter accepts or rejects a milestone. A rejection needs a reason; so does accepting a
    milestone whose deliverable count has not reached its target (an override, kept as such)."""
    require(scope, "procurement")
    milestone = get_in_scope(locked(Milestone.objects.select_related("contract__call__place",
                                                                      "contract__organisation")),
                             scope, pk=milestone_id)
    if milestone.contract.arbiter_id != getattr(user, "pk", None):
        raise Forbidden(_("only the contract's arbiter accepts or rejects its milestones"))
    if milestone.status in (Milestone.Status.ACCEPTED, Milestone.Status.PAID):
        raise Conflict(_("this milestone is already %(status)s") % {"status": milestone.get_status_display()})
    reason = _text(reason, "reason")
    count = selectors.deliverable_count(milestone=milestone)
    if count is None:
        raise Conflict(_("no installed app counts this milestone's deliverable any more"))
    short = count < milestone.target
    if not accept and not reason:
        raise Invalid({"reason": _("state the reason for the rejection")})
    if accept and short and not reason:
        raise Invalid({"reason": _("%(count)d of %(target)d done: state the reason to accept it short of its target")
                       % {"count": count, "target": milestone.target}})
    audit.update_fields(user=user, event=E.MILESTONE_DECIDED, instance=milestone, changes={
        "status": Milestone.Status.ACCEPTED if accept else Milestone.Status.REJECTED, "counted": count,
        "decided_by": user, "decided_at": timezone.now(), "reason": reason, "overridden": bool(accept and short)},
        place_path=milestone.contract.call.place.path)
    return milestone


@serialised
def payment_make(*, user: Any, scope: Scope, milestone_id: int, reference: str = "") -> Payment:
    """Pay an accepted milestone its amount, once, never beyond the appropriation."""
    require(scope, MANAGE)
    milestone = get_in_scope(locked(Milestone.objects.select_related("contract__call__place")), scope,
                             pk=milestone_id)
    contract = milestone.contract
    appropriation = locked(Appropriation.objects.filter(pk=contract.call.appropriation_id)).get()
    check_in_scope(scope, appropriation)
    reference = bounded_text(reference, "reference", max_chars=64)
    if milestone.status == Milestone.Status.PAID or Payment.objects.filter(milestone=milestone).exists():
        raise Conflict(_("this milestone is already paid"))
    if milestone.status != Milestone.Status.ACCEPTED:
        raise Conflict(_("only an accepted milestone is paid; this one is %(status)s") % {
            "status": milestone.get_status_display()})
    left = appropriation.committed_fen - appropriation.spent_fen
    if milestone.amount_fen > left or appropriation.spent_fen + milestone.amount_fen > appropriation.amount_fen:
        raise Conflict(_("the payment of %(amount)s yuan would exceed the appropriation (%(left)s yuan left)") % {
            "amount": yuan(milestone.amount_fen), "left": yuan(max(left, 0))})
    try:
        with transaction.atomic():  # the check constraint is the last word
            audit.update_fields(user=user, event=E.PAYMENT_MADE, instance=appropriation,
                                changes={"spent_fen": appropriation.spent_fen + milestone.amount_fen},
                                place_path=contract.call.place.path, constraints_in_database=True)
    except IntegrityError:
        raise Conflict(_("the payment would exceed the appropriation")) from None
    payment = Payment.objects.create(milestone=milestone, appropriation=appropriation, amount_fen=milestone.amount_fen,
                                     paid_at=timezone.now(), paid_by=audit.acting_user(user), reference=reference)
    Milestone.objects.filter(pk=milestone.pk).update(status=Milestone.Status.PAID)
    if not contract.milestones.exclude(status=Milestone.Status.PAID).exists():
        Contract.objects.filter(pk=contract.pk).update(status=Contract.Status.COMPLETED)
    audit.record(user=user, event=E.PAYMENT_MADE, instance=payment, place_path=contract.call.place.path,
                 new=audit.snapshot(payment))
    return payment


