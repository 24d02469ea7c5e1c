"""Writes of the relief workflow. Each service is keyword-only, runs in one transaction (serialised where
concurrent calls must not interleave, see civicgrid.core.locking) and audits its changes in it. Filing a need,
the busiest write, is :mod:`civicgrid.relief.intake` (offered here as ``need_file`` and ``need_file_many``);
confirming an allocation round is :mod:`civicgrid.relief.roundconfirm` (``round_confirm``,
``round_confirm_or_queue``), queueing a large one :mod:`civicgrid.relief.confirmations`.

Refusals follow the house contract (:mod:`civicgrid.core.errors`): ``Invalid`` for bad input (400),
``Conflict`` when someone else got there first or the state refuses (409), ``NotFound`` outside the
scope (404), ``Forbidden`` for a role that may not act (403); nothing is written when one is raised.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core import audit
from civicgrid.core.errors import Conflict, Forbidden, Invalid, NotFound
from civicgrid.core.limits import bounded_text, whole_number
from civicgrid.core.locking import locked, serialised_block
from civicgrid.core.plugins import work_refusal
from civicgrid.core.scoping import Scope, check_in_scope, require, scoped
from civicgrid.registry.models import Actor, Household
from civicgrid.relief import needcounts, selectors
from civicgrid.relief.conf import relief_setting
from civicgrid.relief.confirmations import (  # noqa: F401 (offered as services.*)
    confirms_in_background,
    round_confirmation_request,
)
from civicgrid.relief.events import ReliefEvent
from civicgrid.relief.intake import (  # noqa: F401 (the app's writes, offered as services.*)
    INTAKE,
    Filing,
    FilingRequest,
    need_file,
    need_file_many,
)
from civicgrid.relief.models import (
    FAILURE_REASONS,
    AllocationRound,
    DeliveryAttempt,
    DeliveryStop,
    DeliveryTask,
    DistributionPoint,
    Item,
    LedgerEntry,
    Lot,
    Need,
    Offer,
)
from civicgrid.relief.roundconfirm import (  # noqa: F401 (the app's writes, offered as services.*)
    ROUND_STAGES,
    round_confirm,
    round_confirm_or_queue,
)


class InsufficientStock(Conflict):
    """Less stock is left than the issue asks (someone else may have taken it first)."""


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _whole_positive(value: Any, field: str, maximum: int | None = None) -> int:
    """A whole number from 1 to ``maximum`` (default: the ``quantity`` input limit)."""
    return whole_number(value, field, minimum=1, maximum=maximum)


# --- needs (filing them is relief/intake.py, offered here under the same names) -----------------------
def need_cancel(*, user: Any, scope: Scope, need_id: int) -> Need:
    """Withdraw an open need (the household no longer needs it): the household itself or staff of its area."""
    require(scope, "relief")
    with serialised_block():
        need = locked(scoped(Need.objects.all(), selectors.filing_scope(scope)).filter(pk=need_id)).get()
        if need.status != Need.Status.OPEN:
            raise Invalid(_("Only an open need can be cancelled."))
        needcounts.hold()  # before the audit write: its recount below
        audit.update_fields(user=user, event=ReliefEvent.NEED_CANCELLED, instance=need,
                            changes={"status": Need.Status.CANCELLED,
                                                                "updated_at": timezone.now()})
        needcounts.recount(Household.objects.filter(pk=need.household_id).values_list("grid_id", flat=True))
        return need


# --- stock ----------------------------------------------------------------------------------------
def stock_receive(*, user: Any, scope: Scope, item: Item, point: DistributionPoint, quantity: Any,
                  expiry: date | None = None, source: str = "", offer: Offer | None = None,
                  now: datetime | None = None) -> Lot:
    """Receive units into stock at a point of the acting user's area (a new lot and a ledger entry)."""
    require(scope, "relief_manage")
    check_in_scope(scope, point)
    quantity = _whole_positive(quantity, "quantity")
    source = bounded_text(source, "source", max_chars=200)
    with serialised_block():
        return _receive(user=user, item=item, point=point, quantity=quantity, expiry=expiry, source=source,
                        offer=offer, now=_now(now))


def _receive(*, user: Any, item: Item, point: DistributionPoint, quantity: int, expiry: date | None, source: str,
             offer: Offer | None, now: datetime) -> Lot:
    lot = Lot.objects.create(item=item, point=point, quantity=quantity, initial_quantity=quantity, expiry=expiry,
                             received_at=now, offer=offer, source=source[:200])
    LedgerEntry.objects.create(at=now, kind=LedgerEntry.Kind.RECEIPT, item=item, point=point, lot=lot,
                               quantity=quantity, balance_after=quantity, reason=source[:200],
                               user=audit.acting_user(user), offer=offer)
    audit.record(user=user, event=ReliefEvent.STOCK_RECEIVED, instance=lot, new=audit.snapshot(lot))
    return lot


def stock_issue(*, user: Any, scope: Scope, item: str | Item, point_id: int, quantity: Any, reason: str,
                now: datetime | None = None) -> list[LedgerEntry]:
    """Issue ``quantity`` units from a point, first expiry first; all or nothing."""
    require(scope, "relief_manage")
    quantity = _whole_positive(quantity, "quantity")
    item = item if isinstance(item, Item) else selectors.catalogue_item(item)
    try:
        point = selectors.point_get(scope=scope, point_id=int(point_id))
    except (ObjectDoesNotExist, TypeError, ValueError):
        raise Invalid({"point": _("no distribution point %(id)s in your area") % {"id": point_id}}) from None
    reason = bounded_text(reason, "reason", max_chars=200)
    if not reason:
        raise Invalid({"reason": _("say what the stock is issued for")})
    with serialised_block():
        return _issue(user=user, item=item, point=point, quantity=quantity, kind=LedgerEntry.Kind.ISSUE,
                      reason=reason, now=_now(now))


def _issue(*, user: Any, item: Item, point: DistributionPoint, quantity: int, kind: str, reason: str,
           now: datetime, round: AllocationRound | None = None) -> list[LedgerEntry]:
    usable = selectors.available_lots(item=item, point=point, today=timezone.localdate(now))
    # locked in id order, as a round locks its lots (a lot expiring sooner may have the larger id: two orders
    # could deadlock), then read again, now unchangeable by others, in the order they are taken
    held = list(locked(usable.order_by("id")).values_list("pk", flat=True))
    lots = list(usable.filter(pk__in=held))
    available = sum(lot.quantity for lot in lots)
    if available < quantity:
        raise InsufficientStock(field="quantity", message=_(
            "only %(available)d %(unit)s of %(item)s left at %(point)s (expired lots excluded); "
            "cannot issue %(quantity)d") % {"available": available, "unit": item.unit_label, "item": item.label,
                                             "point": point.name, "quantity": quantity})
    entries, left = [], quantity
    for lot in lots:
        if left == 0:
            break
        take = min(left, lot.quantity)
        old = lot.quantity
        lot.quantity -= take
        lot.save(update_fields=["quantity"])
        left -= take
        entries.append(LedgerEntry.objects.create(
            at=now, kind=kind, item=item, point=point, lot=lot, quantity=-take, balance_after=lot.quantity,
            reason=reason[:200], user=audit.acting_user(user), round=round))
        audit.record(user=user, event=ReliefEvent.STOCK_ISSUED, instance=lot, old={"quantity": old},
                     new={"quantity": lot.quantity, "reason": reason[:200]})
    return entries


# --- offers ---------------------------------------------------------------------------------------
def offer_pledge(*, user: Any, scope: Scope, donor_id: int, item: str | Item, quantity: Any, point_id: int,
                 expiry: date | None = None, note: str = "", now: datetime | None = None) -> Offer:
    require(scope, "relief")
    quantity = _whole_positive(quantity, "quantity")
    note = bounded_text(note, "note", max_chars=200)
    item = item if isinstance(item, Item) else selectors.catalogue_item(item)
    donor = selectors.donors_for(scope=scope).filter(pk=donor_id).first()
    if donor is None:
        raise Invalid({"donor": _("you may not record a pledge for this actor")})
    point = selectors.point_list(scope=scope).filter(pk=point_id).first()
    if point is None:
        raise Invalid({"point": _("no distribution point %(id)s in your area") % {"id": point_id}})
    with serialised_block():
        offer = Offer(donor=donor, donor_sector=donor.sector, donor_kind=donor.kind, item=item, quantity=quantity,
                      point=point, expiry=expiry, note=note[:200], pledged_by=audit.acting_user(user),
                      pledged_at=_now(now))
        offer.full_clean()
        offer.save()
        audit.record(user=user, event=ReliefEvent.OFFER_PLEDGED, instance=offer, new=audit.snapshot(offer))
        return offer


def _offer_for_update(scope: Scope, offer_id: int, expected: str) -> Offer:
    require(scope, "relief_manage")
    offer = locked(selectors.offer_list(scope=scope).filter(pk=offer_id)).get()
    if offer.status != expected:
        raise Conflict(_("This offer is %(status)s, not %(expected)s.") % {
            "status": offer.get_status_display(), "expected": Offer.Status(expected).label})
    return offer


def offer_receive(*, user: Any, scope: Scope, offer_id: int, quantity: Any, now: datetime | None = None) -> Offer:
    """The goods arrived: how many units came (may differ from the pledge)."""
    quantity = _whole_positive(quantity, "quantity")
    with serialised_block():
        offer = _offer_for_update(scope, offer_id, Offer.Status.PLEDGED)
        audit.update_fields(user=user, event=ReliefEvent.OFFER_RECEIVED, instance=offer, changes={
            "status": Offer.Status.RECEIVED, "received_quantity": quantity, "received_at": _now(now)})
        return offer


def offer_inspect(*, user: Any, scope: Scope, offer_id: int, accepted: Any, note: str = "",
                  now: datetime | None = None) -> Offer:
    """Inspection: how many units are fit to hand out; none accepted rejects the offer."""
    accepted = whole_number(accepted, "accepted", minimum=0)
    note = bounded_text(note, "note", max_chars=200)
    with serialised_block():
        offer = _offer_for_update(scope, offer_id, Offer.Status.RECEIVED)
        if accepted > (offer.received_quantity or 0):
            raise Invalid({"accepted": _("cannot accept more than the %(n)d units received") % {
                "n": offer.received_quantity or 0}})
        if accepted < (offer.received_quantity or 0) and not note.strip():
            raise Invalid({"note": _("say why units were not accepted")})
        audit.update_fields(user=user, event=ReliefEvent.OFFER_INSPECTED, instance=offer, changes={
            "status": Offer.Status.INSPECTED if accepted else Offer.Status.REJECTED, "accepted_quantity": accepted,
            "inspection_note": note.strip()[:200], "inspected_at": _now(now)})
        return offer


def offer_stock(*, user: Any, scope: Scope, offer_id: int, now: datetime | None = None) -> Offer:
    """Put the accepted units of an inspected offer into stock as one lot."""
    with serialised_block():
        offer = _offer_for_update(scope, offer_id, Offer.Status.INSPECTED)
        _receive(user=user, item=offer.item, point=offer.point, quantity=offer.accepted_quantity or 0,
                 expiry=offer.expiry, source=f"{offer.donor.name} ({offer.donor_sector})", offer=offer,
                 now=_now(now))
        audit.update_fields(user=user, event=ReliefEvent.OFFER_STOCKED, instance=offer,
                            changes={"status": Offer.Status.IN_STOCK,
                                                                "stocked_at": _now(now)})
        return offer


def offer_advance(*, user: Any, scope: Scope, offer_id: int, quantity: int | None = None, note: str = "",
                  now: datetime | None = None) -> Offer:
    """The offer's next step (pledged -> received -> inspected -> in stock), the one state machine the
    pages use: ``quantity`` is what arrived (receiving) or what is fit to hand out (inspecting); by
    default all of it."""
    require(scope, "relief_manage")
    offer = selectors.offer_get(scope=scope, offer_id=offer_id)
    if offer.status == Offer.Status.PLEDGED:
        return offer_receive(user=user, scope=scope, offer_id=offer.pk, now=now,
                             quantity=offer.quantity if quantity is None else quantity)
    if offer.status == Offer.Status.RECEIVED:
        return offer_inspect(user=user, scope=scope, offer_id=offer.pk, note=note, now=now,
                             accepted=offer.received_quantity if quantity is None else quantity)
    if offer.status == Offer.Status.INSPECTED:
        return offer_stock(user=user, scope=scope, offer_id=offer.pk, now=now)
    raise Conflict(_("This offer is %(status)s: nothing more to do.") % {"status": offer.get_status_display()})


# --- deliveries -----------------------------------------------------------------------------------
def delivery_task_claim(*, user: Any, scope: Scope, task_id: int, now: datetime | None = None) -> DeliveryTask:
    """Claim an open task. Exactly one of many simultaneous claimers wins; the others get a Conflict. A person
    holds at most ``max_open_claims`` tasks at once."""
    require(scope, "relief")
    now = _now(now)
    with serialised_block():
        # one claim at a time per person, so the cap holds; then the task row itself
        list(locked(get_user_model().objects.filter(pk=user.pk)).values_list("pk"))
        task = locked(DeliveryTask.objects.filter(pk=task_id).filter(
            selectors.claimable_filter(scope, open_only=False))).first()
        if task is None:
            raise NotFound(_("No delivery task %(id)s that you may claim.") % {"id": task_id})
        if task.status == DeliveryTask.Status.CLAIMED and task.claim_expires_at and task.claim_expires_at <= now:
            _requeue(user=None, task=task)  # the claim lapsed: it is open again, and claimed below
        if task.status != DeliveryTask.Status.OPEN:
            raise Conflict(_("Someone else has already claimed this task.") if task.status == "claimed"
                           else _("This task is done."))
        # during an emergency, only organisations admitted there may claim (the social app's guard)
        refusal = work_refusal(user=user, scope=scope, place_path=task.place_path, service_kind="delivery")
        if refusal:
            raise Forbidden(refusal)
        cap = relief_setting("max_open_claims")
        if DeliveryTask.objects.filter(claimed_by=user, status=DeliveryTask.Status.CLAIMED).count() >= cap:
            raise Conflict(_("You already hold %(n)d tasks: deliver or release one first.") % {"n": cap})
        audit.update_fields(user=user, event=ReliefEvent.TASK_CLAIMED, instance=task, changes={
            "status": DeliveryTask.Status.CLAIMED, "claimed_by": user, "claimed_at": now,
            "claim_expires_at": now + timedelta(minutes=relief_setting("claim_minutes"))})
        return task


def _held_task(user: Any, scope: Scope, task_id: int) -> DeliveryTask:
    """The task the user holds; a task they may not see at all is "not found" (404), one they see but
    do not hold is refused (403)."""
    task = locked(DeliveryTask.objects.filter(pk=task_id)).first()
    if task is None or task.claimed_by_id != user.pk and not selectors.task_visible(scope=scope, user=user,
                                                                                    task_id=task_id):
        raise NotFound()
    if task.status != DeliveryTask.Status.CLAIMED or task.claimed_by_id != user.pk:
        raise Forbidden(_("Claim the task before recording a delivery."))
    return task


def _stop_for_update(user: Any, scope: Scope, stop_id: int) -> tuple[DeliveryTask, DeliveryStop]:
    task_id = DeliveryStop.objects.filter(pk=stop_id).values_list("task_id", flat=True).first()
    if task_id is None:
        raise NotFound()
    task = _held_task(user, scope, task_id)  # the task first, then the stop: one lock order everywhere
    stop = locked(DeliveryStop.objects.filter(pk=stop_id)).get()
    if stop.status != DeliveryStop.Status.PENDING:
        raise Conflict(_("This delivery is already recorded as %(status)s.") % {"status": stop.get_status_display()})
    return task, stop


def delivery_stop_call(*, user: Any, scope: Scope, task_id: int, stop_id: int) -> str:
    """The number to call a household of a delivery the user holds, recorded in the audit log (who called
    which household, never the number). Only the task's holder, only while the claim lasts and the stop is
    pending: the way to call ends with the task."""
    require(scope, "relief")
    with serialised_block():
        task, stop = _stop_for_update(user, scope, stop_id)
        if task.pk != task_id:
            raise NotFound()
        phone = recipient_phone(stop.household)
        if not phone:
            raise Invalid(_("No phone number is recorded for this household: ask the grid member."))
        audit.record(user=user, event=ReliefEvent.STOP_CALLED, instance=stop,
                     new={"task": task.pk, "household": stop.household.code})
    return phone


def recipient_phone(household: Household) -> str:
    """The household's contact phone, else its head's, else any resident's."""
    if household.contact_phone:
        return str(household.contact_phone)
    residents = sorted(household.residents.all(), key=lambda r: (r.relation != "head", r.pk))
    return next((str(r.phone) for r in residents if r.phone), "")


def delivery_stop_deliver(*, user: Any, scope: Scope, stop_id: int, code: str,
                          now: datetime | None = None) -> DeliveryStop:
    """Record a delivery the household confirmed with its one-time code (by the task's holder)."""
    require(scope, "relief")
    now = _now(now)
    wrong = False
    with serialised_block():
        task, stop = _stop_for_update(user, scope, stop_id)
        limit = relief_setting("wrong_code_limit")
        if stop.wrong_codes >= limit:
            raise Invalid({"code": _("Too many wrong codes: ask the coordinator for a new code.")})
        if not hmac.compare_digest(str(code).strip().encode(), stop.code.encode()):
            # kept, with its audit event: the refusal below is raised after the commit
            audit.update_fields(user=user, event=ReliefEvent.WRONG_CODE, instance=stop,
                                changes={"wrong_codes": stop.wrong_codes + 1})
            wrong = True
        else:
            # the stop's needs, then the tally, then the audit head: the order filing, cancelling and a round
            # take them in (need rows first), so a delivery and a filing merging into the same partly
            # allocated need never wait on each other in a cycle
            lines = selectors.stop_lines(task=task, stops=[stop])[stop.pk]
            needs = {n.pk: n for n in locked(Need.objects.filter(
                pk__in=[a.need_id for a in lines]).order_by("pk"))}
            needcounts.hold()  # before the audit write: its recount below
            audit.update_fields(user=user, event=ReliefEvent.STOP_DELIVERED, instance=stop, changes={
                "status": DeliveryStop.Status.DELIVERED, "delivered_at": now, "delivered_by": user})
            DeliveryAttempt.objects.create(stop=stop, by=user, at=now, delivered=True)
            for allocation in lines:
                need = needs[allocation.need_id]
                need.delivered_quantity += allocation.quantity
                need.updated_at = now
                if need.status == Need.Status.ALLOCATED and need.delivered_quantity >= need.quantity:
                    need.status = Need.Status.DELIVERED
            Need.objects.bulk_update(list(needs.values()), ["delivered_quantity", "status", "updated_at"])
            needcounts.recount(Household.objects.filter(pk__in={n.household_id for n in needs.values()})
                               .values_list("grid_id", flat=True))
            _after_outcome(user=user, task=task, now=now)
    if wrong:
        raise Invalid({"code": _("Wrong code (%(n)d of %(limit)d tries used).") % {
            "n": stop.wrong_codes, "limit": relief_setting("wrong_code_limit")}})
    return stop


def delivery_stop_fail(*, user: Any, scope: Scope, stop_id: int, reason: str, note: str = "",
                       now: datetime | None = None) -> DeliveryStop:
    """Record why a household could not be served; the stop goes back to the queue with its task."""
    require(scope, "relief")
    if reason not in FAILURE_REASONS:
        raise Invalid({"reason": _("choose why: %(reasons)s") % {"reasons": ", ".join(FAILURE_REASONS)}})
    note = bounded_text(note, "note", max_chars=200)
    now = _now(now)
    with serialised_block():
        task, stop = _stop_for_update(user, scope, stop_id)
        audit.update_fields(user=user, event=ReliefEvent.STOP_FAILED, instance=stop,
                            changes={"status": DeliveryStop.Status.FAILED,
                                                                "failure_reason": reason})
        DeliveryAttempt.objects.create(stop=stop, by=user, at=now, delivered=False, reason=reason, note=note[:200])
        _after_outcome(user=user, task=task, now=now)
        return stop


def _after_outcome(*, user: Any, task: DeliveryTask, now: datetime) -> None:
    """A recorded outcome keeps the claim alive; the last one closes the task or puts it back in the queue."""
    statuses = set(task.stops.values_list("status", flat=True))
    if DeliveryStop.Status.PENDING in statuses:
        task.claim_expires_at = now + timedelta(minutes=relief_setting("claim_minutes"))
        task.save(update_fields=["claim_expires_at"])
    elif DeliveryStop.Status.FAILED in statuses:
        _requeue(user=user, task=task)
    else:
        audit.update_fields(user=user, event=ReliefEvent.TASK_DONE, instance=task,
                            changes={"status": DeliveryTask.Status.DONE,
                                                                "claim_expires_at": None, "completed_at": now})


def _requeue(*, user: Any, task: DeliveryTask) -> None:
    task.stops.filter(status=DeliveryStop.Status.FAILED).update(status=DeliveryStop.Status.PENDING)
    audit.update_fields(user=user, event=ReliefEvent.TASK_REQUEUED, instance=task, changes={
        "status": DeliveryTask.Status.OPEN, "claimed_by": None, "claimed_at": None, "claim_expires_at": None,
        "requeued": task.requeued + 1})


def delivery_task_release(*, user: Any, scope: Scope, task_id: int) -> DeliveryTask:
    """Give a held task back to the queue (its undelivered stops go with it)."""
    require(scope, "relief")
    with serialised_block():
        task = _held_task(user, scope, task_id)
        _requeue(user=user, task=task)
        return task


def delivery_claims_release_expired(*, now: datetime | None = None) -> int:
    """Put back in the queue every claim with no delivery recorded in time; returns how many."""
    now = _now(now)
    with serialised_block():
        expired = list(locked(DeliveryTask.objects.filter(status=DeliveryTask.Status.CLAIMED,
                                                          claim_expires_at__lte=now)))
        for task in expired:
            _requeue(user=None, task=task)
        return len(expired)


def delivery_task_assign(*, user: Any, scope: Scope, task_id: int, organisation_id: int | None) -> DeliveryTask:
    """Give an open task to an organisation (its staff and members may then claim it), or take it back."""
    require(scope, "relief_manage")
    with serialised_block():
        task = locked(selectors.task_area(scope=scope).filter(pk=task_id)).get()
        if task.status != DeliveryTask.Status.OPEN:
            raise Conflict(_("Only a task nobody holds can be given to an organisation."))
        organisation = None
        if organisation_id is not None:
            organisation = Actor.objects.filter(pk=organisation_id).first()
            if organisation is None:
                raise Invalid({"organisation": _("unknown organisation")})
        audit.update_fields(user=user, event=ReliefEvent.TASK_ASSIGNED, instance=task,
                            changes={"organisation": organisation})
        return task


def stop_code_reissue(*, user: Any, scope: Scope, stop_id: int) -> DeliveryStop:
    """A new one-time code for a household (e.g. after too many wrong tries)."""
    require(scope, "relief_manage")
    with serialised_block():
        stop = locked(scoped(DeliveryStop.objects.all(), scope).filter(pk=stop_id)).get()
        if stop.status == DeliveryStop.Status.DELIVERED:
            raise Conflict(_("This delivery is already confirmed."))
        audit.update_fields(user=user, event=ReliefEvent.CODE_REISSUED, instance=stop,
                            changes={"code": f"{secrets.randbelow(10**6):06d}",
                                                                "wrong_codes": 0})
        return stop
