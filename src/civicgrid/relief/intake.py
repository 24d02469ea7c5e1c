"""Need intake: filing a household's need (a resident for their own, staff for one in their area), the relief
app's busiest write. It has a module of its own because of how it is made fast and safe under a surge (issue 11):
filings arriving together are written in one transaction (:data:`INTAKE`, :mod:`civicgrid.core.groupcommit`), a
resend with a used idempotency key returns the first result, and a filing adds to the needs tally rather than
recounting it (:func:`civicgrid.relief.needcounts.filed`). The other writes of needs (cancelling, rounds,
deliveries) are in :mod:`civicgrid.relief.services`, which also offers these under the same names.

Refusals follow the house contract (:mod:`civicgrid.core.errors`); nothing is written when one is raised.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from civicgrid.core import audit
from civicgrid.core.bulk import update_rows
from civicgrid.core.errors import Forbidden, Invalid
from civicgrid.core.groupcommit import GroupCommit
from civicgrid.core.limits import bounded_text, limit, merge_notes, whole_number
from civicgrid.core.locking import locked, serialised_block
from civicgrid.core.scoping import Scope, require, sees
from civicgrid.registry.models import Household
from civicgrid.relief import needcounts, rounds, selectors
from civicgrid.relief.conf import relief_setting
from civicgrid.relief.events import ReliefEvent
from civicgrid.relief.models import CATEGORIES, CHANNELS, URGENCIES, Item, Need, NeedFiling

URGENCY_RANK = {"critical": 0, "urgent": 1, "normal": 2}


def need_quantity_limit(item: Item, household: Household) -> int:
    """The most units one need may ask for: the ``quantity`` input limit, the relief setting
    ``max_need_quantity``, and, for an item with a standard amount per person, what the household's
    members need in ``max_need_days`` days (a household of 3 cannot ask for a town's water)."""
    most = min(limit("quantity"), int(relief_setting("max_need_quantity")))
    if item.per_person_per_day:
        most = min(most, item.default_quantity(persons=max(1, household.size or 0),
                                               days=relief_setting("max_need_days")))
    return most


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
    quantity = whole_number(request.quantity, "quantity", minimum=1)
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
                    note=note, channel=channel, now=request.now or timezone.now())


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
                quantity = whole_number(c.quantity, "quantity", minimum=1, maximum=need_quantity_limit(c.item, household))
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
