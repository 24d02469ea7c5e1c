"""Reads for grid cases, always through the caller's scope, and the case figures the analytics use."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases import transitions as tx
from civicgrid.cases.models import Case, CaseCategory, CaseEvent
from civicgrid.core.errors import Invalid
from civicgrid.core.places import ancestor_at, ancestors
from civicgrid.core.scoping import Scope, require, scoped
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


def case_figures(*, scope: Scope, by: Literal["grid", "handler", "sector"], since: datetime | None = None,
                 until: datetime | None = None, now: datetime | None = None) -> list[CaseFigures]:
    """Per-group figures of the cases reported in [since, until) in the scope, sorted by key.
    Cases not yet dispatched have no handler and are left out of the handler and sector figures."""
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
    rows = cases.values(key_field, label_field, "reported_at", "due_at", "handled_at", "closed_at", "state",
                        "rating")
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    labels: dict[str, str] = {}
    for row in rows:
        groups[row[key_field]].append(row)
        labels[row[key_field]] = row[label_field]
    return [_figures(key, labels[key], groups[key], now) for key in sorted(groups)]


def _figures(key: str, label: str, rows: list[dict[str, Any]], now: datetime) -> CaseFigures:
    handled = [r for r in rows if r["handled_at"] is not None]
    on_time = sum(1 for r in handled if r["handled_at"] <= r["due_at"])
    late = (len(handled) - on_time) + sum(1 for r in rows if r["handled_at"] is None and r["due_at"] < now)
    hours = [(r["closed_at"] - r["reported_at"]).total_seconds() / 3600 for r in rows if r["state"] == "closed"]
    ratings = [r["rating"] for r in rows if r["rating"] is not None]
    decided = on_time + late
    return CaseFigures(
        key=key, label=label, cases=len(rows), handled=len(handled), on_time=on_time, late=late,
        on_time_rate=on_time / decided if decided else None, closed=len(hours),
        mean_hours_to_close=statistics.fmean(hours) if hours else None,
        median_hours_to_close=statistics.median(hours) if hours else None,
        rated=len(ratings), satisfaction=statistics.fmean(ratings) if ratings else None)


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
