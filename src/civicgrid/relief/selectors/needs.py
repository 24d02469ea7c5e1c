"""Reads of needs: who may file for which household, the needs in scope, their filings, counts and
progress as a household sees it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.locking import locked
from civicgrid.core.scoping import Scope, require, scoped
from civicgrid.registry.models import Household
from civicgrid.relief.conf import relief_setting
from civicgrid.relief.models import DeliveryStop, DeliveryTask, Need, NeedFiling, RoundAllocation
from civicgrid.relief.selectors.rounds import ROUND_BULK


def filing_scope(scope: Scope) -> Scope:
    """The scope in which a user may file needs: a resident for their household, staff for the
    households in their area. Access through a delivery task lets one see a household, not speak for it."""
    if scope.role == "resident" or scope.unrestricted:
        return scope
    return dataclasses.replace(scope, household_ids=frozenset())


def household_for_filing(*, scope: Scope, household_id: int, lock: bool = False) -> Household:
    """The household ``scope`` may file for (``DoesNotExist`` otherwise); with ``lock``, its row locked until
    the transaction ends (the caller's transaction: one filing per household at a time)."""
    require(scope, "relief")
    households = scoped(Household.objects.all(), filing_scope(scope)).filter(pk=household_id).order_by()
    return (locked(households) if lock else households).get()


def household_for_filing_by_code(*, scope: Scope, code: str) -> Household:
    require(scope, "relief")
    return scoped(Household.objects.all(), filing_scope(scope)).get(code=code.strip())


NEED_SORTS = ("urgency", "newest", "oldest")


def need_list(*, scope: Scope, status: str = "", category: str = "", query: str = "", urgency: str = "",
              sort: str = "") -> QuerySet[Need]:
    """Needs in scope, filtered; ``sort`` "urgency" puts life-critical first (filed as such or for a
    life-critical item), then urgent, then normal, oldest first within each; "newest"/"oldest" by filing."""
    require(scope, "relief")
    needs = scoped(Need.objects.select_related("household", "item"), scope)
    if status:
        needs = needs.filter(status=status)
    if urgency:
        needs = needs.filter(urgency=urgency)
    if sort == "urgency":  # the stored tier (rounds.tier_of), in the order of its index
        needs = needs.order_by("tier", "filed_at", "id")
    elif sort == "newest":
        needs = needs.order_by("-filed_at", "-id")
    elif sort == "oldest":
        needs = needs.order_by("filed_at", "id")
    if category:
        needs = needs.filter(category=category)
    if query.strip():
        needs = needs.filter(Q(household__code__icontains=query.strip())
                             | Q(household__address__icontains=query.strip()))
    return needs


def need_get(*, scope: Scope, need_id: int) -> Need:
    return need_list(scope=scope).get(pk=need_id)


def need_filings(*, scope: Scope, need: Need, newest: int | None = None) -> list[NeedFiling]:
    """The need's filings, oldest first; with ``newest``, only that many of the latest (a page stays small
    however often a need is filed)."""
    require(scope, "relief")
    found = scoped(NeedFiling.objects.select_related("filed_by"), scope).filter(need=need)
    if newest is None:
        return list(found)
    return list(reversed(found.order_by("-at", "-id")[:newest]))


def need_counts(*, scope: Scope) -> dict[str, int]:
    """Needs in scope per status: from the needs tally for a scope of whole grids (an area role; kept exact
    by every write, :mod:`civicgrid.relief.needcounts`), else counted."""
    from civicgrid.relief import needcounts

    require(scope, "relief")
    counted = needcounts.by_status(scope=scope)
    if counted is not None:
        return {status: sums["needs"] for status, sums in counted.items()}
    rows = need_list(scope=scope).order_by().values("status").annotate(n=Count("id"))
    return {r["status"]: r["n"] for r in rows}


@dataclass(frozen=True)
class NeedProgress:
    """Where a need stands, as its household should see it."""

    need: Need
    state: str  # waiting | allocated | on_the_way | delivered | partly_delivered | cancelled
    label: str
    expected_at: datetime | None
    allocations: list[RoundAllocation]
    code: str = ""  # the household's one-time code for a delivery on its way (only for the household)

    @property
    def overdue(self) -> bool:
        return self.state not in ("delivered", "cancelled") and self.expected_at is not None and \
            self.expected_at < timezone.now()


def need_progress(*, scope: Scope, needs: Iterable[Need], with_codes: bool = False) -> list[NeedProgress]:
    """Status and expected time of each need; with ``with_codes`` (the household itself) the one-time code
    of a delivery still to come."""
    needs = list(needs)
    allocations: dict[int, list[RoundAllocation]] = {}
    stop_of: dict[tuple[int, int], DeliveryStop] = {}
    # only a need a round gave units to (allocated_quantity only grows) has allocations that change its
    # progress: a new or never-allocated need (most of a surge) costs no query
    allocated = [n for n in needs if n.allocated_quantity]
    if allocated:  # not even built otherwise: composing the query costs as much as a small filing's SQL
        # the round's frozen snapshot and result (megabytes for a district round) are never read here:
        # loaded with each allocation they cost seconds of JSON decoding per page (issue 15)
        found = list(scoped(RoundAllocation.objects.select_related("round"), scope).defer(
            *ROUND_BULK).filter(need__in=allocated).order_by("round__confirmed_at", "id"))
        for a in found:
            allocations.setdefault(a.need_id, []).append(a)
        stop_of = _stops_of(found, with_codes=with_codes)
    target = relief_setting("target_hours")
    out = []
    for need in needs:
        mine = allocations.get(need.id, [])
        # each allocation with units and its stop (its household's in its round)
        served = [(a, stop_of[(a.round_id, a.household_id)]) for a in mine
                  if a.quantity and (a.round_id, a.household_id) in stop_of]
        coming = [(a, s) for a, s in served if s.status != DeliveryStop.Status.DELIVERED]
        code = ""
        if need.status == Need.Status.CANCELLED:
            state, label, expected = "cancelled", _("Cancelled"), None
        elif need.status == Need.Status.DELIVERED:
            state, label = "delivered", _("Delivered")
            expected = max((s.delivered_at for _a, s in served if s.delivered_at), default=None)
        elif coming:
            stop = coming[-1][1]
            units = sum(a.quantity for a, _s in coming)
            expected = stop.task.due_at
            if stop.task.status == DeliveryTask.Status.CLAIMED:
                state = "on_the_way"
                label = _("%(n)d of %(total)d on the way with a volunteer") % {"n": units, "total": need.quantity}
            else:
                state = "allocated"
                label = _("%(n)d of %(total)d allocated, waiting for a volunteer") % {
                    "n": units, "total": need.quantity}
            code = stop.code if with_codes else ""
        elif need.delivered_quantity:
            state = "partly_delivered"
            label = _("%(n)d of %(total)d delivered; the rest waits for the next round") % {
                "n": need.delivered_quantity, "total": need.quantity}
            expected = None
        else:
            state = "waiting"
            label = _("Waiting for the next allocation round")
            expected = need.filed_at + timedelta(hours=target.get(need.urgency, 72))
        out.append(NeedProgress(need, state, label, expected, mine, code))
    return out


def _stops_of(allocations: list[RoundAllocation], *, with_codes: bool) -> dict[tuple[int, int], DeliveryStop]:
    """The stops (with their tasks) of the allocations given units, by (round, household): one query. Their
    one-time codes are decrypted only ``with_codes`` (the household itself)."""
    served = [a for a in allocations if a.quantity]
    if not served:
        return {}
    stops = DeliveryStop.objects.select_related("task").filter(
        round_id__in={a.round_id for a in served}, household_id__in={a.household_id for a in served}
    ).order_by()
    if not with_codes:
        stops = stops.defer("code")
    pairs = {(a.round_id, a.household_id) for a in served}
    return {(s.round_id, s.household_id): s for s in stops if (s.round_id, s.household_id) in pairs}


def my_needs(*, scope: Scope) -> list[NeedProgress]:
    """A resident's own needs with their progress (and the codes they give the volunteer)."""
    require(scope, "relief")
    needs = Need.objects.select_related("item", "household").filter(household_id__in=scope.household_ids)
    return need_progress(scope=scope, needs=needs.order_by("-filed_at", "-id"), with_codes=scope.role == "resident")


def show_codes(scope: Scope) -> bool:
    """Coordinators may read a household its code (e.g. by phone); a volunteer never sees one: the code is
    how the household proves the delivery reached it."""
    return scope.may("relief_manage")

