"""Writes of the relief workflow. Each service is keyword-only, runs in one transaction (serialised where
concurrent calls must not interleave, see civicgrid.core.locking) and audits its changes in it.

Refusals follow the house contract (:mod:`civicgrid.core.errors`): ``Invalid`` for bad input (400),
``Conflict`` when someone else got there first or the state refuses (409), ``NotFound`` outside the
scope (404), ``Forbidden`` for a role that may not act (403); nothing is written when one is raised.
"""

from __future__ import annotations

import hmac
import secrets
from collections import Counter
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, connection
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from civicgrid.core import audit, tallies
from civicgrid.core.bulk import update_rows
from civicgrid.core.errors import Conflict, Forbidden, Invalid, NotFound
from civicgrid.core.groupcommit import GroupCommit
from civicgrid.core.limits import bounded_text, limit, merge_notes, whole_number
from civicgrid.core.locking import data_version, locked, serialised_block
from civicgrid.core.places import common_ancestor
from civicgrid.core.plugins import work_refusal
from civicgrid.core.scoping import Scope, check_in_scope, require, scoped, sees
from civicgrid.engine.allocation import POLICIES
from civicgrid.registry.models import Actor, Household, Place
from civicgrid.relief import needcounts, round_writes, rounds, selectors
from civicgrid.relief.conf import relief_setting
from civicgrid.relief.crei import TALLY
from civicgrid.relief.events import ReliefEvent
from civicgrid.relief.models import (
    CATEGORIES,
    CHANNELS,
    FAILURE_REASONS,
    URGENCIES,
    AllocationRound,
    DeliveryAttempt,
    DeliveryStop,
    DeliveryTask,
    DistributionPoint,
    Item,
    LedgerEntry,
    Lot,
    Need,
    NeedFiling,
    Offer,
)

URGENCY_RANK = {"critical": 0, "urgent": 1, "normal": 2}


class InsufficientStock(Conflict):
    """Less stock is left than the issue asks (someone else may have taken it first)."""


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _whole_positive(value: Any, field: str, maximum: int | None = None) -> int:
    """A whole number from 1 to ``maximum`` (default: the ``quantity`` input limit)."""
    return whole_number(value, field, minimum=1, maximum=maximum)


def need_quantity_limit(item: Item, household: Household) -> int:
    """The most units one need may ask for: the ``quantity`` input limit, the relief setting
    ``max_need_quantity``, and, for an item with a standard amount per person, what the household's
    members need in ``max_need_days`` days (a household of 3 cannot ask for a town's water)."""
    most = min(limit("quantity"), int(relief_setting("max_need_quantity")))
    if item.per_person_per_day:
        most = min(most, item.default_quantity(persons=max(1, household.size or 0),
                                               days=relief_setting("max_need_days")))
    return most


# --- needs ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Filing:
    need: Need
    filing: NeedFiling
    merged: bool  # the filing was merged into a need that was already open
    replayed: bool  # the key was seen before: this is the earlier result, nothing was written


@dataclass(frozen=True)
class FilingRequest:
    """One filing as :func:`need_file` receives it (the inputs not yet checked)."""

    user: Any
    scope: Scope
    household_id: Any
    item: str | Item
    quantity: Any
    key: str
    urgency: str = "normal"
    note: str = ""
    channel: str = ""
    category: str = ""
    now: datetime | None = None
    # the filer's language: a refusal is worded in it, whichever thread writes the group (core.groupcommit)
    language: str = ""


@dataclass(frozen=True)
class _Checked:
    """A filing whose inputs passed the checks that need no household (its household is checked in the
    transaction, under its lock)."""

    request: FilingRequest
    user: Any
    scope: Scope  # the filing scope (selectors.filing_scope)
    household_id: int
    item: Item
    quantity: int
    key: str
    urgency: str
    note: str
    channel: str
    now: datetime


def need_file(*, user: Any, scope: Scope, household_id: Any, item: str | Item, quantity: Any, key: str,
              urgency: str = "normal", note: str = "", channel: str = "", category: str = "",
              now: datetime | None = None) -> Filing:
    """File a need for a household (a resident for their own, staff for one in their area).

    A second filing for an open need of the same household and item is merged into it: the need then asks
    for the larger of what is still outstanding and what the new filing asks, the more urgent urgency,
    both notes; the filing records the quantity before and after. A filing whose ``key`` was seen before
    returns the earlier result and writes nothing.

    Filings that arrive at the same moment in one server process are written in one transaction
    (:mod:`civicgrid.core.groupcommit`, :func:`need_file_many`); the result is the same as filing them one
    after another, and it is returned only once it is committed.
    """
    require(scope, "relief")
    return INTAKE.submit(FilingRequest(user=user, scope=scope, household_id=household_id, item=item,
                                       quantity=quantity, key=key, urgency=urgency, note=note, channel=channel,
                                       category=category, now=now, language=translation.get_language() or ""))


def need_file_many(requests: Sequence[FilingRequest]) -> list[Filing | Exception]:
    """File many needs in one transaction, in order: the result of each, or its refusal (``Invalid``,
    ``Forbidden``) in its place, exactly as if they were filed one after another with :func:`need_file`.

    The households are locked in one query (in id order, as every batch takes them: two batches never wait
    for each other in a circle), their open needs in another; new needs, merged needs, filings and the audit
    rows are each written in one statement. A key used before (a resend: its unique index refuses the insert)
    or any other failure of the batch rolls it back whole and files each on its own, so one client's resend
    never costs another client its filing.
    """
    results: list[Filing | Exception | None] = [None] * len(requests)
    items = _items_by_code({str(r.item).strip() for r in requests if not isinstance(r.item, Item)})
    checked: list[tuple[int, _Checked]] = []
    for i, request in enumerate(requests):
        try:
            with _worded_for(request):
                checked.append((i, _check_filing(request, items)))
        except (Invalid, Forbidden) as refusal:
            results[i] = refusal
    for (i, _c), result in zip(checked, _file_checked([c for _i, c in checked]), strict=True):
        results[i] = result
    return [r for r in results if r is not None]


def _worded_for(request: FilingRequest) -> AbstractContextManager[Any]:
    """Refusals made inside are worded in the filer's language (the group's writer may be another's thread)."""
    return translation.override(request.language) if request.language else nullcontext()


def _items_by_code(codes: set[str]) -> dict[str, Item]:
    return {i.code: i for i in Item.objects.filter(code__in=sorted(codes), active=True)} if codes else {}


def _check_filing(request: FilingRequest, items: dict[str, Item]) -> _Checked:
    require(request.scope, "relief")
    quantity = _whole_positive(request.quantity, "quantity")
    note = bounded_text(request.note, "note")
    item = request.item
    if not isinstance(item, Item):
        found = items.get(str(item).strip())
        if found is None:
            raise Invalid({"item": _("%(code)r is not in the catalogue") % {"code": item}})
        item = found
    category = request.category
    if category and category != item.category:
        raise Invalid({"item": _("%(item)s is not in the category %(category)s") % {
            "item": item.name, "category": CATEGORIES.get(category, category)}})
    if request.urgency not in URGENCIES:
        raise Invalid({"urgency": _("unknown urgency %(value)r") % {"value": request.urgency}})
    channel = "self" if request.scope.role == "resident" else (request.channel or "phone")
    if channel not in CHANNELS:
        raise Invalid({"channel": _("unknown channel %(value)r") % {"value": request.channel}})
    key = str(request.key or "").strip()
    if not 8 <= len(key) <= 64:
        raise Invalid({"idempotency_key": _("give an idempotency key of 8 to 64 characters")})
    try:
        household_id = int(request.household_id)
    except (TypeError, ValueError):
        raise Invalid({"household_id": _("no household %(id)s in your area") % {"id": request.household_id}}
                      ) from None
    return _Checked(request=request, user=request.user, scope=selectors.filing_scope(request.scope),
                    household_id=household_id, item=item, quantity=quantity, key=key, urgency=request.urgency,
                    note=note, channel=channel, now=_now(request.now))


def _file_checked(checked: list[_Checked]) -> list[Filing | Exception]:
    if not checked:
        return []
    try:
        with serialised_block(), audit.deferred():
            return _write_filings(checked)
    except IntegrityError:
        if len(checked) > 1:
            return [r for c in checked for r in _file_checked([c])]
        # the key was used before (a resend), or at the same moment for another household: nothing was written
        return [_replay(checked[0])]
    except Exception:
        if len(checked) == 1:
            raise
        # anything else failing the batch as a whole (a deadlock, a lost connection, a value the model
        # refuses): each filing alone, so the error reaches only the filing that causes it
        return [r for c in checked for r in _file_checked([c])]


def _replay(c: _Checked) -> Filing | Exception:
    earlier = NeedFiling.objects.select_related("need").filter(key=c.key).first()
    if earlier is None:
        raise IntegrityError(f"filing {c.key!r} refused by the database")
    if earlier.need.household_id != c.household_id or earlier.need.item_id != c.item.id:
        with _worded_for(c.request):
            return Invalid({"idempotency_key": _("this key was already used for another need")})
    earlier.need.item = c.item  # the row already read
    return Filing(earlier.need, earlier, earlier.merged, replayed=True)


def _write_filings(checked: list[_Checked]) -> list[Filing | Exception]:
    """The batch's writes, in the caller's transaction (see :func:`need_file_many`)."""
    households = {h.pk: h for h in locked(Household.objects.filter(
        pk__in=sorted({c.household_id for c in checked})).order_by("pk"))}
    results: list[Filing | Exception | None] = [None] * len(checked)
    accepted: list[tuple[int, _Checked, Household, int]] = []
    for i, c in enumerate(checked):
        household = households.get(c.household_id)
        with _worded_for(c.request):
            if household is None or not sees(c.scope, household):  # outside the area looks absent
                results[i] = Invalid({"household_id": _("no household %(id)s in your area") % {
                    "id": c.household_id}})
                continue
            try:
                quantity = _whole_positive(c.quantity, "quantity", maximum=need_quantity_limit(c.item, household))
            except Invalid as refusal:
                results[i] = refusal
                continue
        accepted.append((i, c, household, quantity))
    if not accepted:
        return [r for r in results if r is not None]
    open_needs = {(n.household_id, n.item_id): n for n in locked(Need.objects.filter(
        household_id__in=sorted({h.pk for _i, _c, h, _q in accepted}),
        item_id__in=sorted({c.item.pk for _i, c, _h, _q in accepted}), status=Need.Status.OPEN).order_by("pk"))}

    # A key repeated within the batch is a resend of its first use: it writes nothing (see below).
    first_use: set[str] = set()
    resends: set[int] = set()
    for i, c, _h, _q in accepted:
        if c.key in first_use:
            resends.add(i)
        first_use.add(c.key)
    # New needs first, each as its first filing asks (their ids are needed by the filings and audit rows).
    created: dict[tuple[int, int], dict[str, Any]] = {}  # -> the new need's values as created, for its audit row
    for i, c, household, quantity in accepted:
        pair = (household.pk, c.item.pk)
        if pair not in open_needs and i not in resends:
            need = Need(household=household, category=c.item.category, item=c.item, quantity=quantity,
                        urgency=c.urgency, note=c.note, filed_at=c.now, updated_at=c.now,
                        tier=rounds.tier_of(urgency=c.urgency, life_critical=c.item.life_critical))
            # inputs checked above, household and item just read; the database enforces the constraints
            need.full_clean(exclude=["household", "item"], validate_unique=False, validate_constraints=False)
            open_needs[pair] = need
            created[pair] = {}
    new_needs = [open_needs[pair] for pair in created]
    Need.objects.bulk_create(new_needs)
    for pair in created:
        created[pair] = audit.snapshot(open_needs[pair])

    # Then every filing in order, merged into its need in memory; keys repeated within the batch are resends.
    by_key: dict[str, tuple[NeedFiling, Need]] = {}
    first_filed: set[tuple[int, int]] = set()
    changed_needs: dict[tuple[int, int], Need] = {}
    counted: Counter[tuple[int, str]] = Counter()  # (grid, status) -> needs added (the needs tally)
    made_critical: Counter[tuple[int, str]] = Counter()  # -> needs a merge made critical
    for pair in created:
        need = open_needs[pair]
        counted[(households[pair[0]].grid_id, need.status)] += 1
        made_critical[(households[pair[0]].grid_id, need.status)] += need.urgency == "critical"
    filings: list[NeedFiling] = []
    events: list[tuple[int, _Checked, Need, NeedFiling, dict[str, Any] | None, dict[str, Any], bool]] = []
    for i, c, household, quantity in accepted:
        pair = (household.pk, c.item.pk)
        if i in resends:
            earlier, earlier_need = by_key[c.key]
            same = (earlier_need.household_id, earlier_need.item_id) == pair
            with _worded_for(c.request):
                results[i] = (Filing(earlier_need, earlier, earlier.merged, replayed=True) if same
                              else Invalid({"idempotency_key": _("this key was already used for another need")}))
            continue
        need = open_needs[pair]
        need.household, need.item = household, c.item  # the rows already read: no query for them
        old: dict[str, Any] | None
        if pair in created and pair not in first_filed:
            first_filed.add(pair)
            merged, before, was_critical, old, new = False, 0, False, None, created[pair]
        else:
            merged, before, was_critical = True, need.quantity, _life_critical(need)
            snapshot_before = audit.snapshot(need)
            # at most ``quantity`` (within its limit) still outstanding: merging never exceeds the limit
            urgency = min(need.urgency, c.urgency, key=URGENCY_RANK.__getitem__)
            if urgency == "critical" != need.urgency:
                made_critical[(household.grid_id, need.status)] += 1
            changes = {"quantity": max(need.quantity, need.allocated_quantity + quantity), "urgency": urgency,
                       "tier": rounds.tier_of(urgency=urgency, life_critical=c.item.life_critical),
                       "note": merge_notes(need.note, c.note), "updated_at": c.now}
            for name, value in changes.items():
                setattr(need, name, value)
            need.clean_fields(exclude=[f.name for f in Need._meta.concrete_fields if f.name not in changes])
            old, new = audit.changed(snapshot_before, audit.snapshot(need))
            changed_needs[pair] = need
        filing = NeedFiling(need=need, key=c.key, channel=c.channel, filed_by=audit.acting_user(c.user),
                            quantity=quantity, urgency=c.urgency, note=c.note, at=c.now, merged=merged,
                            quantity_before=before, quantity_after=need.quantity)
        filings.append(filing)
        by_key[c.key] = (filing, need)
        # the grid member and director are told once per need: when a filing first makes it life-critical
        events.append((i, c, need, filing, old, new, _life_critical(need) and not was_critical))
    if changed_needs:  # one UPDATE statement sent for all (values checked above; no query to compose)
        at = Need._meta.get_field("updated_at")
        update_rows(Need, key="id", columns=["quantity", "urgency", "tier", "note", "updated_at"], rows=[
            (n.quantity, n.urgency, n.tier, n.note, at.get_db_prep_save(n.updated_at, connection), n.pk)
            for n in changed_needs.values()])
    NeedFiling.objects.bulk_create(filings)
    needcounts.filed({cell: (counted[cell], made_critical[cell]) for cell in set(counted) | set(made_critical)})
    for i, c, need, filing, old, new, alert in events:
        if old is None:
            audit.record(user=c.user, event=ReliefEvent.NEED_FILED, instance=need, new=new)
        elif new:
            audit.record(user=c.user, event=ReliefEvent.NEED_MERGED, instance=need, old=old, new=new)
        audit.record(user=c.user, event=ReliefEvent.NEED_FILING, instance=filing, new=audit.snapshot(filing))
        if alert:
            _alert_life_critical(need, need.household)
        results[i] = Filing(need, filing, filing.merged, replayed=False)
    return [r for r in results if r is not None]


INTAKE: GroupCommit[FilingRequest, Filing] = GroupCommit(need_file_many)


def _life_critical(need: Need) -> bool:
    """Filed as life-critical, or for an item the catalogue marks life-critical (insulin, dialysis transport)."""
    return need.urgency == "critical" or bool(need.item.life_critical)


def _alert_life_critical(need: Need, household: Household) -> None:
    """Tell the grid member and the community director at once (in-app notice, each reader in their
    language); once per need, however often it is filed again."""
    from civicgrid.accounts.roles import director_users, grid_member_users
    from civicgrid.alerts.services import notice_send

    item, quantity, code, address = need.item, need.quantity, household.code, household.address
    users = list(grid_member_users({household.grid_id})) + list(director_users(household.place_path))
    notice_send(users=users,
                title=lambda: _("Life-critical need: %(item)s for household %(code)s") % {"item": item.label,
                                                                                         "code": code},
                body=lambda: _("%(quantity)s × %(item)s for %(address)s. Make sure it is met today.") % {
                    "quantity": quantity, "item": item.label, "address": address},
                link=reverse("relief:need", args=[need.pk]), source=f"need:{need.pk}:critical")


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
    lots = list(locked(selectors.available_lots(item=item, point=point, today=timezone.localdate(now))))
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


# --- allocation rounds ----------------------------------------------------------------------------
def _common_place(places: list[Place]) -> Place:
    return Place.objects.get(path=common_ancestor([p.path for p in places]))


def round_confirm(*, user: Any, scope: Scope, place_ids: list[Any], item_codes: list[str], days: Any,
                  policy: str, seed: int, fingerprint: str = "", now: datetime | None = None) -> AllocationRound:
    """Allocate, freeze the snapshot, take the stock and create the delivery tasks, in one transaction.

    With ``fingerprint`` (from the preview) the round is refused if needs or stock changed since.

    The engine runs and every row is planned before the transaction; inside it the needs and lots are read
    again, locked, and the round is written only if they are what the plan was made from (else it is planned
    again there, or refused when the preview's fingerprint no longer holds). On SQLite the read is not repeated
    when the database has not changed since (:func:`civicgrid.core.locking.data_version`). So the write
    transaction, SQLite's one write lock, lasts for a burst of bulk writes, not for the reads and the engine."""
    places, items, days = selectors.round_selection(scope=scope, place_ids=place_ids, item_codes=item_codes, days=days)
    if policy not in POLICIES:
        raise Invalid({"policy": _("unknown policy %(value)r") % {"value": policy}})
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**62:
        raise Invalid({"seed": _("the seed must be a whole number")})
    now = _now(now)
    today = timezone.localdate(now)
    version = data_version()
    inputs = selectors.round_inputs(scope=scope, places=places, items=items, days=days, today=today)
    outcomes = _round_outcomes(inputs, fingerprint=fingerprint, seed=seed, policy=policy)
    plan = _round_plan(inputs, outcomes, policy=policy, seed=seed)
    with serialised_block(), audit.deferred():
        if version is not None and data_version() == version:
            current = inputs  # SQLite, and nothing written since the read: it holds, and the write lock is ours
        else:  # read again, the needs and lots locked until the commit
            current = selectors.round_inputs(scope=scope, places=places, items=items, days=days, lock=True,
                                             today=today)
        if current.fingerprint != inputs.fingerprint:  # changed since the first read: the engine again, under the locks
            outcomes = _round_outcomes(current, fingerprint=fingerprint, seed=seed, policy=policy)
            plan = _round_plan(current, outcomes, policy=policy, seed=seed)
        elif not round_writes.same_rows(inputs, current):  # the same requests, but lots or buildings changed
            plan = _round_plan(current, outcomes, policy=policy, seed=seed)
        inputs = current
        result = outcomes[policy].result
        round = AllocationRound.objects.create(
            place=_common_place(places), place_paths=list(inputs.place_paths), item_codes=list(inputs.item_codes),
            policy=policy, seed=seed, days=days, rule_version=rounds.RULE_VERSION, snapshot=plan.snapshot,
            result={"request_id": result["request_id"].tolist(), "allocated": result["allocated"].tolist()},
            metrics={p: o.metrics for p, o in outcomes.items()}, fingerprint=inputs.fingerprint,
            n_requests=len(result), units_allocated=int(result["allocated"].sum()), confirmed_by=audit.acting_user(user),
            confirmed_at=now, due_at=now + timedelta(hours=relief_setting("delivery_hours")))
        round_writes.write(user=user, round=round, plan=plan, items=items, now=now,
                           reason=_("allocation round #%(id)d") % {"id": round.pk})
        tallies.refresh(TALLY, parts=[round.pk])  # the CREI's counts of this round, in this transaction
        needcounts.recount(needcounts.grids_of_round(round.place_paths))  # its needs are now allocated
        audit.record(user=user, event=ReliefEvent.ROUND_CONFIRMED, instance=round, new={
            "policy": policy, "seed": seed, "days": days, "places": round.place_paths, "items": round.item_codes,
            "requests": round.n_requests, "units_allocated": round.units_allocated, "fingerprint": round.fingerprint,
            "needs_served": plan.served, "needs_served_sha256": plan.served_sha256})
        return round


def _round_outcomes(inputs: rounds.RoundInputs, *, fingerprint: str, seed: int, policy: str
                    ) -> dict[str, rounds.PolicyOutcome]:
    """Every policy on ``inputs``; refused if the preview's ``fingerprint`` no longer holds or there is nothing
    to allocate."""
    if fingerprint and inputs.fingerprint != fingerprint:
        raise Conflict(_("Needs or stock changed since your preview: check the new preview and confirm again."))
    if inputs.requests.empty:
        raise Invalid(_("There are no open needs for these items here."))
    if inputs.stock.empty:
        raise Invalid(_("There is no stock of these items at the points serving these households."))
    return {o.policy: o for o in rounds.compare_policies(inputs, seed=seed, explain=policy)}


def _round_plan(inputs: rounds.RoundInputs, outcomes: dict[str, rounds.PolicyOutcome], *, policy: str, seed: int
                ) -> round_writes.Plan:
    try:
        return round_writes.plan(inputs, outcomes[policy].result, policy=policy, seed=seed)
    except round_writes.StockChanged:
        raise Conflict(_("Needs or stock changed since your preview: check the new preview and confirm again.")
                       ) from None


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
            needs = {n.pk: n for n in locked(Need.objects.filter(
                pk__in=stop.allocations.values("need_id")).order_by("pk"))}
            needcounts.hold()  # before the audit write: its recount below
            audit.update_fields(user=user, event=ReliefEvent.STOP_DELIVERED, instance=stop, changes={
                "status": DeliveryStop.Status.DELIVERED, "delivered_at": now, "delivered_by": user})
            DeliveryAttempt.objects.create(stop=stop, by=user, at=now, delivered=True)
            for allocation in stop.allocations.all():
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
