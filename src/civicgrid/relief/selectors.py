"""Reads for the relief workflow, always through the caller's scope."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Role
from civicgrid.core.bulk import collector_paused, read_frame
from civicgrid.core.errors import Invalid
from civicgrid.core.locking import locked
from civicgrid.core.places import ancestors, under
from civicgrid.core.scoping import Scope, require, scoped
from civicgrid.engine.allocation import POLICIES
from civicgrid.registry.models import Actor, Household, Place
from civicgrid.relief import rounds
from civicgrid.relief.conf import relief_setting
from civicgrid.relief.models import (
    MAX_ROUND_DAYS,
    SEED_CEILING,
    AllocationRound,
    DeliveryStop,
    DeliveryTask,
    DistributionPoint,
    Item,
    LedgerEntry,
    Lot,
    Need,
    NeedFiling,
    Offer,
    RoundAllocation,
    RoundConfirmation,
)
from civicgrid.relief.preview import round_seed


# --- access given by tasks ------------------------------------------------------------------------
def task_households(user: Any) -> list[int]:
    """Households a volunteer or organisation may see because of delivery tasks: the stops of the tasks
    the user holds now, and for organisation staff those of unfinished tasks given to their organisation.
    Registered with civicgrid.core.scoping.register_task_households."""
    if not getattr(user, "is_authenticated", False):
        return []
    held = Q(task__status=DeliveryTask.Status.CLAIMED, task__claimed_by=user)
    role = Role.objects.filter(user=user).values("role", "actor_id").first()
    if role and role["role"] == "org_staff" and role["actor_id"]:
        held |= Q(task__organisation_id=role["actor_id"],
                  task__status__in=[DeliveryTask.Status.OPEN, DeliveryTask.Status.CLAIMED])
    return list(DeliveryStop.objects.filter(held).values_list("household_id", flat=True).distinct())


# --- catalogue and places -------------------------------------------------------------------------
def item_list(*, active_only: bool = True) -> QuerySet[Item]:
    """The catalogue is public within the platform (it holds no personal data)."""
    items = Item.objects.all()
    return items.filter(active=True) if active_only else items


def point_list(*, scope: Scope) -> QuerySet[DistributionPoint]:
    require(scope, "relief")
    return scoped(DistributionPoint.objects.select_related("place"), scope)


def point_get(*, scope: Scope, point_id: int) -> DistributionPoint:
    return point_list(scope=scope).get(pk=point_id)


def points_by_path() -> dict[str, DistributionPoint]:
    """Every distribution point by the path of the place it serves (the deepest one wins)."""
    points: dict[str, DistributionPoint] = {}
    for point in DistributionPoint.objects.select_related("place").order_by("-id"):
        points[point.place.path] = point
    return points


def point_for_path(path: str, points: dict[str, DistributionPoint]) -> DistributionPoint | None:
    """The point of the nearest place enclosing ``path`` (a household's building path)."""
    return next((points[p] for p in reversed(ancestors(path)) if p in points), None)


def round_places(*, scope: Scope) -> QuerySet[Place]:
    """Places a coordinator may run a round for: communities and grids in scope."""
    require(scope, "relief_manage")
    return scoped(Place.objects.filter(level__in=["community", "grid"]), scope).order_by("path")


# --- needs ----------------------------------------------------------------------------------------
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
        stop_of = _stops_of(found)
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


def _stops_of(allocations: list[RoundAllocation]) -> dict[tuple[int, int], DeliveryStop]:
    """The stops (with their tasks) of the allocations given units, by (round, household): one query."""
    served = [a for a in allocations if a.quantity]
    if not served:
        return {}
    stops = DeliveryStop.objects.select_related("task").filter(
        task__round_id__in={a.round_id for a in served}, household_id__in={a.household_id for a in served})
    return {(s.task.round_id, s.household_id): s for s in stops}


def my_needs(*, scope: Scope) -> list[NeedProgress]:
    """A resident's own needs with their progress (and the codes they give the volunteer)."""
    require(scope, "relief")
    needs = Need.objects.select_related("item", "household").filter(household_id__in=scope.household_ids)
    return need_progress(scope=scope, needs=needs.order_by("-filed_at", "-id"), with_codes=scope.role == "resident")


def show_codes(scope: Scope) -> bool:
    """Coordinators may read a household its code (e.g. by phone); a volunteer never sees one: the code is
    how the household proves the delivery reached it."""
    return scope.may("relief_manage")


# --- stock ----------------------------------------------------------------------------------------
def available_lots(*, item: Item, point: DistributionPoint, today: date) -> QuerySet[Lot]:
    """Lots that can be issued, first expiry first (lots without expiry last), then oldest first."""
    return Lot.objects.filter(item=item, point=point, quantity__gt=0).filter(
        Q(expiry__isnull=True) | Q(expiry__gte=today)).order_by(F("expiry").asc(nulls_last=True), "received_at", "id")


def stock_available(*, item: Item, point: DistributionPoint, today: date | None = None) -> int:
    today = today or timezone.localdate()
    return int(available_lots(item=item, point=point, today=today).aggregate(n=Sum("quantity"))["n"] or 0)


def stock_levels(*, scope: Scope, today: date | None = None) -> list[dict[str, Any]]:
    """Per point and item: units available, units in expired lots and the next expiry."""
    today = today or timezone.localdate()
    lots = scoped(Lot.objects.select_related("item", "point"), scope).filter(quantity__gt=0)
    rows: dict[tuple[int, int], dict[str, Any]] = {}
    for lot in lots.order_by("point__code", "item__code", "expiry"):
        row = rows.setdefault((lot.point_id, lot.item_id), {"point": lot.point, "item": lot.item, "available": 0,
                                                             "expired": 0, "next_expiry": None, "lots": 0})
        row["lots"] += 1
        if lot.expiry is not None and lot.expiry < today:
            row["expired"] += lot.quantity
            continue
        row["available"] += lot.quantity
        if lot.expiry and (row["next_expiry"] is None or lot.expiry < row["next_expiry"]):
            row["next_expiry"] = lot.expiry
    return list(rows.values())


def lot_list(*, scope: Scope) -> QuerySet[Lot]:
    require(scope, "relief")
    return scoped(Lot.objects.select_related("item", "point"), scope)


def ledger_list(*, scope: Scope, point: DistributionPoint | None = None, item: Item | None = None
                ) -> QuerySet[LedgerEntry]:
    require(scope, "relief")
    entries = scoped(LedgerEntry.objects.select_related("item", "point", "user", "lot"), scope)
    if point is not None:
        entries = entries.filter(point=point)
    if item is not None:
        entries = entries.filter(item=item)
    return entries


# --- offers ---------------------------------------------------------------------------------------
def offer_list(*, scope: Scope) -> QuerySet[Offer]:
    require(scope, "relief")
    return scoped(Offer.objects.select_related("donor", "item", "point"), scope)


def offer_get(*, scope: Scope, offer_id: int) -> Offer:
    return offer_list(scope=scope).get(pk=offer_id)


def donors_for(*, scope: Scope) -> QuerySet[Actor]:
    """Actors a user may record a pledge for: any actor in a coordinator's view, else their own."""
    require(scope, "relief")
    if scope.may("relief_manage"):
        return scoped(Actor.objects.all(), scope)
    return Actor.objects.filter(pk__in=scope.actor_ids)


# --- rounds ---------------------------------------------------------------------------------------
def round_inputs(*, scope: Scope, places: Iterable[Place], items: Iterable[Item], days: int,
                 lock: bool = False, today: date | None = None) -> rounds.RoundInputs:
    """The open needs of ``items`` in ``places`` and the stock of their distribution points, as the
    engine's tables. With ``lock`` (inside a serialised transaction) the needs and lots are locked.

    One query per table, read into columns (:func:`civicgrid.core.bulk.columns_of`): a district's million
    needs cost no Python object per row; the distribution point is found once per building path."""
    require(scope, "relief_manage")
    today = today or timezone.localdate()
    places, items = list(places), list(items)
    paths = [p.path for p in places]
    needs = round_needs(scope=scope, places=places, items=items)
    if lock:
        # the needs are read and locked in one statement (FOR NO KEY UPDATE OF the needs only)
        needs = locked(needs)
    raw = read_frame(needs.values_list(
        "id", "household_id", "household__size", "household__vulnerability_weight", "household__vulnerability_score",
        "household__vulnerability_summary", "item__code", "urgency", "quantity", "allocated_quantity", "filed_at",
        "household__place_path", "household__building_id", "household__vulnerability_rule").order_by("id"),
        {"need_id": "int", "household_id": "int", "household_size": "int", "weight": "float",
         "vulnerability_score": "float", "weight_reason": "text", "item": "text", "urgency": "text", "quantity": "int",
         "allocated": "int", "filed_at": "instant", "place_path": "text", "building_id": "int", "rule": "text"})
    homes_at = raw["place_path"].to_numpy(dtype=object).tolist()
    point_of = round_points(set(homes_at))
    frame = pd.DataFrame({
        "need_id": raw["need_id"], "household_id": raw["household_id"], "household_size": raw["household_size"],
        "weight": raw["weight"], "vulnerability_score": raw["vulnerability_score"],
        "weight_reason": raw["weight_reason"], "item": raw["item"], "urgency": raw["urgency"],
        "remaining": raw["quantity"] - raw["allocated"],
        "filed_at": pd.Series(iso_instants(raw["filed_at"].tolist()), dtype=object),
        "point": pd.Series([point_of[p] for p in homes_at], dtype=object),
    })
    homes = raw[["household_id", "building_id", "place_path"]].drop_duplicates("household_id").reset_index(drop=True)
    lot_frame = round_lots(items=items, point_codes={p for p in point_of.values() if p}, today=today, lock=lock)
    stock = list(zip(lot_frame["item"].tolist(), lot_frame["point"].tolist(), lot_frame["quantity"].tolist(),
                     strict=True))
    rules = {i.code: rounds.ItemRule(unit=i.unit, sphere_kind=i.sphere_kind, unit_size=i.unit_size,
                                     floor_units=i.floor_units, life_critical=i.life_critical) for i in items}
    return rounds.inputs_from_frame(needs=frame, items=rules, stock=stock, days=days, place_paths=paths,
                                    item_codes=[i.code for i in items], homes=homes, lots=lot_frame,
                                    vulnerability_rules=[r for r in set(raw["rule"].tolist()) if r is not None])


def round_needs(*, scope: Scope, places: Iterable[Place], items: Iterable[Item]) -> QuerySet[Need]:
    """The open needs of ``items`` in ``places``: what a round reads (those fully allocated are left out after)."""
    require(scope, "relief_manage")
    area = Q(pk__in=[])
    for place in places:
        area |= Q(household__place_path__startswith=place.path)
    return scoped(Need.objects.all(), scope).filter(area, status=Need.Status.OPEN, item__in=list(items))


def round_waiting(*, scope: Scope, places: Iterable[Place], items: Iterable[Item]) -> int:
    """How many of the round's needs still wait for units (one count): the round's requests plus those no
    distribution point serves, as a preview made now would find them (``len(requests) + skipped_no_point``)."""
    return round_needs(scope=scope, places=places, items=items).filter(quantity__gt=F("allocated_quantity")).count()


def round_points(paths: Iterable[str]) -> dict[str, str | None]:
    """The code of the distribution point serving each building path (None where none does)."""
    points = points_by_path()
    return {path: (point.code if (point := point_for_path(path, points)) else None) for path in paths}


def round_lots(*, items: Iterable[Item], point_codes: Iterable[str], today: date, lock: bool = False) -> pd.DataFrame:
    """The usable lots of ``items`` at the points ``point_codes`` (lot_id, item, point, quantity, expiry,
    received_at), by id; with ``lock`` (inside a serialised transaction) locked until it ends."""
    lots = Lot.objects.filter(item__in=list(items), point__code__in=list(point_codes), quantity__gt=0).filter(
        Q(expiry__isnull=True) | Q(expiry__gte=today)).order_by("id")
    if lock:
        lots = locked(lots)
    return pd.DataFrame(list(lots.values_list("id", "item__code", "point__code", "quantity", "expiry", "received_at")),
                        columns=["lot_id", "item", "point", "quantity", "expiry", "received_at"])


def iso_instants(values: list[Any]) -> list[str]:
    """Stored instants as ``datetime.isoformat()`` writes them in UTC (``2026-11-29T08:00:00.123456+00:00``,
    no fraction when it is zero): the requests' ``requested_at``. PostgreSQL's driver gives aware datetimes;
    SQLite naive ones in UTC (Django's converter), or Django's text (``2026-11-29 08:00:00.123456``, UTC)."""
    if not values:
        return []
    first = values[0]
    if isinstance(first, str):  # one format for the whole column (the connection's time zone is UTC)
        zone = first[19:].lstrip(".0123456789")
        if zone == "+00":  # PostgreSQL's text: its fraction trimmed of zeros
            return [_pg_instant(text) for text in values]
        if not zone:  # Django's text on SQLite
            return [f"{text[:10]}T{text[11:]}+00:00" for text in values]
        return [datetime.fromisoformat(text).astimezone(UTC).isoformat() for text in values]
    if isinstance(first, datetime) and first.utcoffset() == timedelta(0):  # the connection's time zone is UTC
        return [value.isoformat() for value in values]
    if isinstance(first, datetime) and first.tzinfo is None:  # SQLite's converter: naive, in UTC
        return [f"{value.isoformat()}+00:00" for value in values]
    return [(timezone.make_aware(v, UTC) if timezone.is_naive(v) else v).astimezone(UTC).isoformat() for v in values]


def _pg_instant(text: str) -> str:
    """``2026-11-29 08:00:00.12+00`` as ``2026-11-29T08:00:00.120000+00:00``."""
    if len(text) == 22:  # no fraction
        return f"{text[:10]}T{text[11:19]}+00:00"
    return f"{text[:10]}T{text[11:19]}.{text[20:-3]:0<6}+00:00"


# A round's frozen inputs and plan, read only by the round's own page and its recompute: left out of any
# query that brings a round along with other rows.
ROUND_BULK = ("round__snapshot", "round__result")


def round_list(*, scope: Scope) -> QuerySet[AllocationRound]:
    require(scope, "relief_manage")
    return scoped(AllocationRound.objects.select_related("place", "confirmed_by"), scope).defer(
        "snapshot", "result")


def round_get(*, scope: Scope, round_id: int, frozen: bool = True) -> AllocationRound:
    """A round in the scope; without ``frozen`` its snapshot and result (megabytes for a district) are not read."""
    require(scope, "relief_manage")
    found = scoped(AllocationRound.objects.select_related("place", "confirmed_by"), scope)
    return (found if frozen else found.defer("snapshot", "result")).get(pk=round_id)


def confirmation_list(*, scope: Scope) -> QuerySet[RoundConfirmation]:
    """Round confirmations queued as jobs, newest first (the round's page is where a done one is read)."""
    require(scope, "relief_manage")
    return scoped(RoundConfirmation.objects.select_related("requested_by"), scope)


def confirmation_get(*, scope: Scope, confirmation_id: int) -> RoundConfirmation:
    require(scope, "relief_manage")
    return scoped(RoundConfirmation.objects.select_related("requested_by", "round"), scope).get(pk=confirmation_id)


@dataclass(frozen=True)
class RoundCheck:
    """A confirmed round recomputed from its snapshot, against what was stored."""

    requests: int
    units: int
    differing_requests: int  # allocations that differ from the stored result or rows
    metrics_identical: bool

    @property
    def identical(self) -> bool:
        return self.differing_requests == 0 and self.metrics_identical


def round_check(*, scope: Scope, round: AllocationRound) -> RoundCheck:
    """Recompute ``round`` from its frozen snapshot alone (the registry is not read) and compare."""
    require(scope, "relief_manage")
    result, metrics = rounds.recompute(round.snapshot)
    recomputed = dict(zip(result["request_id"].tolist(), result["allocated"].tolist(), strict=True))
    stored = dict(zip(round.result["request_id"], round.result["allocated"], strict=True))
    rows = dict(RoundAllocation.objects.filter(round=round).values_list("need_id", "quantity"))
    keys = recomputed.keys() | stored.keys() | rows.keys()
    differing = sum(1 for k in keys if not recomputed.get(k) == stored.get(k) == rows.get(k))
    return RoundCheck(requests=len(recomputed), units=int(sum(recomputed.values())), differing_requests=differing,
                      metrics_identical=metrics == round.metrics.get(round.policy))


# --- deliveries -----------------------------------------------------------------------------------
def claimable_filter(scope: Scope, *, open_only: bool = True) -> Q:
    """Tasks a person may claim: those given to an organisation they belong to, and unassigned ones in the
    area an organisation of theirs serves (a community's volunteer team takes its community's). Roles
    without an organisation (coordinators, residents) claim nothing."""
    if not scope.actor_ids:
        return Q(pk__in=[])
    areas = list(Actor.objects.filter(pk__in=scope.actor_ids).values_list("service_area__path", flat=True))
    mine = Q(organisation_id__in=scope.actor_ids) | (Q(organisation__isnull=True) & under("place_path", areas))
    # a claim that lapsed is open again (the periodic job puts it back; reading never writes)
    lapsed = Q(status=DeliveryTask.Status.CLAIMED, claim_expires_at__lte=timezone.now())
    return mine & (Q(status=DeliveryTask.Status.OPEN) | lapsed) if open_only else mine


def task_claimable(*, scope: Scope) -> QuerySet[DeliveryTask]:
    require(scope, "relief")
    return DeliveryTask.objects.select_related("building", "point").filter(claimable_filter(scope))


def task_held(*, scope: Scope, user: Any) -> QuerySet[DeliveryTask]:
    require(scope, "relief")
    return DeliveryTask.objects.select_related("building", "point").filter(
        status=DeliveryTask.Status.CLAIMED, claimed_by=user, claim_expires_at__gt=timezone.now())


def task_area(*, scope: Scope, status: str = "") -> QuerySet[DeliveryTask]:
    """Tasks in a coordinator's area (or given to their organisation)."""
    require(scope, "relief")
    tasks = scoped(DeliveryTask.objects.select_related("building", "point", "claimed_by", "organisation"), scope)
    return tasks.filter(status=status) if status else tasks


def _task_visible(scope: Scope, user: Any) -> Q:
    return (Q(status=DeliveryTask.Status.CLAIMED, claimed_by=user) | claimable_filter(scope)
            | Q(pk__in=scoped(DeliveryTask.objects.all(), scope).values("pk")))


def task_get(*, scope: Scope, user: Any, task_id: int) -> DeliveryTask:
    """A task the user holds, may claim, or oversees."""
    require(scope, "relief")
    return DeliveryTask.objects.select_related("building", "point", "round", "claimed_by").defer(
        *ROUND_BULK).filter(_task_visible(scope, user)).get(pk=task_id)


def task_visible(*, scope: Scope, user: Any, task_id: int) -> bool:
    """Whether the user may see this task at all (held, claimable or overseen)."""
    return DeliveryTask.objects.filter(_task_visible(scope, user), pk=task_id).exists()


def task_stops(*, scope: Scope, task: DeliveryTask) -> list[DeliveryStop]:
    """The stops of a task with what each household gets; households the scope may not see (a task not yet
    claimed) are counted but not listed."""
    stops = scoped(DeliveryStop.objects.select_related("household"), scope).filter(task=task)
    return list(stops.order_by("household__code"))


def stop_lines(*, task: DeliveryTask, stops: Iterable[DeliveryStop]) -> dict[int, list[RoundAllocation]]:
    """What each of ``stops`` (of ``task``) brings: its household's allocations with units in the task's round,
    with their items, by stop id. One query, whatever the number of stops."""
    stop_of = {s.household_id: s.pk for s in stops}
    out: dict[int, list[RoundAllocation]] = {pk: [] for pk in stop_of.values()}
    if not stop_of:
        return out
    lines = RoundAllocation.objects.select_related("item").defer("explanation").filter(
        round_id=task.round_id, quantity__gt=0,
        household_id__in=DeliveryStop.objects.filter(task=task).values("household_id")).order_by("id")
    for a in lines:
        if a.household_id in stop_of:
            out[stop_of[a.household_id]].append(a)
    return out


def stop_recipients(stops: list[DeliveryStop]) -> dict[int, str]:
    """The name to ask for at each stop: the head of the household, else its first resident. Only the
    name: a delivery needs nothing else about the people (no income status, no health)."""
    from civicgrid.registry.models import Resident

    heads: dict[int, str] = {}
    first: dict[int, str] = {}
    for household_id, name, relation in Resident.objects.filter(
            household_id__in={s.household_id for s in stops}).order_by("id").values_list("household_id", "name",
                                                                                        "relation"):
        first.setdefault(household_id, name)
        if relation == "head":
            heads.setdefault(household_id, name)
    return {s.pk: heads.get(s.household_id) or first.get(s.household_id, "") for s in stops}


def task_organisations(*, scope: Scope) -> QuerySet[Actor]:
    """Organisations a coordinator may give tasks to: the society actors serving their area."""
    require(scope, "relief_manage")
    return scoped(Actor.objects.filter(sector="society"), scope).order_by("code")


def task_stop_count(task: DeliveryTask) -> int:
    return DeliveryStop.objects.filter(task=task).count()


def stop_counts(task_ids: list[int]) -> dict[int, int]:
    """Stops per task for a list of tasks, in one grouped query."""
    if not task_ids:
        return {}
    return dict(DeliveryStop.objects.filter(task_id__in=task_ids).values_list("task_id").annotate(n=Count("id"))
                .order_by())


def catalogue_item(code: str) -> Item:
    item = Item.objects.filter(code=str(code).strip(), active=True).first()
    if item is None:
        raise Invalid({"item": _("%(code)r is not in the catalogue") % {"code": code}})
    return item


def round_selection(*, scope: Scope, place_ids: list[Any], item_codes: list[str], days: Any
                    ) -> tuple[list[Place], list[Item], int]:
    """Validate a round's scope, items and days (shared by the preview and the confirmation)."""
    require(scope, "relief_manage")
    try:
        ids = [int(p) for p in place_ids]
    except (TypeError, ValueError):
        raise Invalid({"places": _("choose grids or a community")}) from None
    places = list(round_places(scope=scope).filter(pk__in=ids))
    if not places or len(places) != len(set(ids)):
        raise Invalid({"places": _("choose grids or a community in your area")})
    items = list(Item.objects.filter(code__in=item_codes, active=True))
    if not items or len(items) != len(set(item_codes)):
        raise Invalid({"items": _("choose items from the catalogue")})
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_ROUND_DAYS:
        raise Invalid({"days": _("a round covers 1 to %(max)d days") % {"max": MAX_ROUND_DAYS}})
    return places, items, days


def round_choice(*, scope: Scope, place_ids: list[Any], item_codes: list[str], days: Any, policy: str, seed: Any
                 ) -> tuple[list[Place], list[Item], int]:
    """A round's selection (:func:`round_selection`), policy and seed, checked: what a confirmation,
    now or queued, refuses before anything is read."""
    places, items, days = round_selection(scope=scope, place_ids=place_ids, item_codes=item_codes, days=days)
    round_policy(policy)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < SEED_CEILING:
        raise Invalid({"seed": _("the seed must be a whole number")})
    return places, items, days


def round_policy(policy: Any) -> str:
    """``policy`` when it is one of the engine's policies, else Invalid (the confirmation's check, also the
    preview's when a policy is named)."""
    if policy not in POLICIES:
        raise Invalid({"policy": _("unknown policy %(value)r") % {"value": policy}})
    return str(policy)


@dataclass(frozen=True)
class RoundPreview:
    inputs: rounds.RoundInputs
    outcomes: list[rounds.PolicyOutcome]
    seed: int = 0  # the lottery's seed the outcomes were computed with (the day's default unless one was given)


@collector_paused()  # as round_confirm
def round_preview(*, scope: Scope, place_ids: list[Any], item_codes: list[str], days: Any, seed: int | None = None
                  ) -> RoundPreview:
    """Every policy on the open needs and stock now (reads only). Without ``seed``, the day's seed of the selection
    (:func:`civicgrid.relief.preview.round_seed`: reloading the preview does not change the lottery)."""
    places, items, days = round_selection(scope=scope, place_ids=place_ids, item_codes=item_codes, days=days)
    if seed is None:
        seed = round_seed(place_ids=place_ids, item_codes=item_codes, days=days, on=timezone.localdate())
    inputs = round_inputs(scope=scope, places=places, items=items, days=days)
    return RoundPreview(inputs, rounds.compare_policies(inputs, seed=seed), seed)


def round_task_counts(*, scope: Scope, round: AllocationRound) -> dict[str, int]:
    """The round's delivery tasks in the scope by status (every status, 0 where none), in one query."""
    found = dict(task_area(scope=scope).filter(round=round).order_by().values_list("status").annotate(n=Count("id")))
    return {status: int(found.get(status, 0)) for status in DeliveryTask.Status.values}
