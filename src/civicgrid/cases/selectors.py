"""Reads for grid cases, always through the caller's scope, and the case figures the analytics use."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from django.db.models import (
    Avg,
    Count,
    F,
    Max,
    Q,
    QuerySet,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases import transitions as tx
from civicgrid.cases.models import Case, CaseCategory, CaseEvent
from civicgrid.core.errors import Invalid
from civicgrid.core.places import ancestor_at, ancestors
from civicgrid.core.scoping import Scope, require, scoped
from civicgrid.core.sqlfunctions import SecondsBetween
from civicgrid.registry.models import Actor, Place


def categories(*, active_only: bool = True) -> QuerySet[CaseCategory]:
    """The taxonomy is reference data shared by every area, so it is not place-scoped."""
    qs = CaseCategory.objects.all()
    return qs.filter(active=True) if active_only else qs


def case_list(*, scope: Scope, state: str = "", level: str = "", overdue: bool = False, open_only: bool = False,
              grid: Place | None = None, now: datetime | None = None) -> QuerySet[Case]:
    require(scope, "cases")
    cases = scoped(Case.objects.select_related("category", "grid", "handler"), scope)
    if state:
        cases = cases.filter(state=state)
    if level:
        cases = cases.filter(level=level)
    if open_only:
        cases = cases.exclude(state__in=["closed", "dismissed"])
    if overdue:
        cases = cases.filter(state__in=tx.OPEN_STATES, due_at__lt=now or timezone.now())
    if grid is not None:
        cases = cases.filter(grid=grid)
    return cases.order_by("-reported_at", "-id")


def case_get(*, scope: Scope, case_id: int) -> Case:
    require(scope, "cases")
    return scoped(Case.objects.select_related("category", "grid", "place", "handler", "household", "reporter"),
                  scope).get(pk=case_id)


def case_events(*, case: Case) -> QuerySet[CaseEvent]:
    return case.events.select_related("user", "handler")


def report_places(*, scope: Scope) -> QuerySet[Place]:
    """Where a grid member or manager may file a case: the grids and buildings in their area."""
    return scoped(Place.objects.filter(level__in=["grid", "building"]), scope)


# --- figures for the analytics -----------------------------------------------------------------
@dataclass(frozen=True)
class CaseFigures:
    """Figures of one grid, handling actor or sector.

    ``on_time_rate``: of the cases whose handling is decided (handled, or still unhandled past their
    time limit), the share handled within the limit. ``hours_to_close``: from report to closing, over
    closed cases. ``satisfaction``: mean resident rating (1-5) over rated cases. Dismissed cases are
    left out of everything.
    """

    key: str
    label: str
    cases: int
    handled: int
    on_time: int
    late: int
    on_time_rate: float | None
    closed: int
    mean_hours_to_close: float | None
    median_hours_to_close: float | None
    rated: int
    satisfaction: float | None


GROUPINGS = {
    "grid": ("grid__code", "grid__name"),
    "handler": ("handler__code", "handler__name"),
    "sector": ("handler__sector", "handler__sector"),
}
# The column each group's medians are partitioned by: the case's own foreign key where the group is one
# row (no join for every closed case), else the grouping itself.
PARTITIONS = {"grid": "grid_id", "handler": "handler_id", "sector": "handler__sector"}


def case_figures(*, scope: Scope, by: Literal["grid", "handler", "sector"], since: datetime | None = None,
                 until: datetime | None = None, now: datetime | None = None) -> list[CaseFigures]:
    """Per-group figures of the cases reported in [since, until) in the scope, sorted by key.
    Cases not yet dispatched have no handler and are left out of the handler and sector figures.

    Counted in the database: one grouped query for the counts and means, one for the medians (the
    middle closed case or two of each group, found by a window function), whatever the number of cases."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {sorted(GROUPINGS)}, got {by!r}")
    require(scope, "cases")
    now = now or timezone.now()
    key_field, label_field = GROUPINGS[by]
    cases = scoped(Case.objects.exclude(state="dismissed"), scope)
    if since is not None:
        cases = cases.filter(reported_at__gte=since)
    if until is not None:
        cases = cases.filter(reported_at__lt=until)
    if by != "grid":
        cases = cases.filter(handler__isnull=False)
    closed = Q(state="closed")
    on_time = Q(handled_at__isnull=False, handled_at__lte=F("due_at"))
    rows = (cases.values(key=F(key_field)).annotate(
        label=Max(label_field), n=Count("id"), handled=Count("id", filter=Q(handled_at__isnull=False)),
        on_time=Count("id", filter=on_time),
        overdue=Count("id", filter=Q(handled_at__isnull=True, due_at__lt=now)),
        closed=Count("id", filter=closed), mean_close=Avg(_TO_CLOSE, filter=closed),
        rated=Count("id", filter=Q(rating__isnull=False)), satisfaction=Avg("rating"),
        part=Max(PARTITIONS[by])).order_by("key"))
    medians = _median_hours_to_close(cases.filter(closed), PARTITIONS[by])
    return [CaseFigures(
        key=r["key"], label=r["label"], cases=r["n"], handled=r["handled"], on_time=r["on_time"],
        late=r["handled"] - r["on_time"] + r["overdue"],
        on_time_rate=r["on_time"] / (r["handled"] + r["overdue"]) if r["handled"] + r["overdue"] else None,
        closed=r["closed"], mean_hours_to_close=_hours(r["mean_close"]) if r["closed"] else None,
        median_hours_to_close=medians.get(r["part"]), rated=r["rated"],
        satisfaction=float(r["satisfaction"]) if r["rated"] else None) for r in rows]


_TO_CLOSE = SecondsBetween("closed_at", "reported_at")


def _hours(seconds: Any) -> float:
    return float(seconds) / 3600


def _median_hours_to_close(closed: QuerySet[Case], key_field: str) -> dict[Any, float]:
    """Each group's median time to close: the closed case ranked (n + 1) // 2 and (n + 2) // 2 by that
    time within its group (one case when n is odd, the middle two when even), averaged."""
    ranked = closed.annotate(
        key=F(key_field), took=_TO_CLOSE,
        rank=Window(RowNumber(), partition_by=[F(key_field)], order_by=[_TO_CLOSE.asc(), F("id").asc()]),
        size=Window(Count("id"), partition_by=[F(key_field)]))
    # no order: the cases' default one (newest first) sorted every closed case twice more for nothing
    middle = ranked.filter(rank__gte=(F("size") + 1) / 2, rank__lte=(F("size") + 2) / 2).order_by()
    found: dict[Any, list[float]] = defaultdict(list)
    for key, took in middle.values_list("key", "took"):
        found[key].append(_hours(took))
    return {key: statistics.fmean(values) for key, values in found.items()}


def overdue_count(*, scope: Scope, now: datetime | None = None) -> int:
    return case_list(scope=scope, overdue=True, now=now).count()


def open_cases_from(*, scope: Scope, source_prefix: str) -> QuerySet[Case]:
    """Open cases filed automatically (e.g. 'sweep:' or 'isolation:'), for the emergency page."""
    return case_list(scope=scope, open_only=True).filter(Q(source__startswith=source_prefix))


# --- places and people around a case ------------------------------------------------------------
def grid_of(place: Place) -> Place:
    if place.level == "grid":
        return place
    if place.level == "building" and place.parent is not None:
        return place.parent
    raise Invalid({"place": _("A case is reported at a grid or a building.")})


def level_place(case: Case, level: str) -> Place | None:
    """The place at ``level`` above the case (its grid, community, sub-district or district)."""
    path = ancestor_at(case.place_path, level)
    return Place.objects.filter(path=path).first() if path else None


def handler_candidates(case: Case) -> Any:
    """Actors of any sector whose service area contains the case's place."""
    return Actor.objects.filter(service_area__path__in=ancestors(case.place_path)).select_related("service_area")
