"""The registry's indicators of the Community Resilience and Equity Index (described in crei.yaml)."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from datetime import timedelta
from typing import Any

import pandas as pd
from django.db.models import Count, QuerySet, Sum

from civicgrid.core import tallies
from civicgrid.core.indicators import Provider, Units, series, sum_by_unit
from civicgrid.core.tallies import Tally
from civicgrid.registry.models import Actor, Household, Post, Resident, vulnerable_filter
from civicgrid.registry.selectors import grid_paths

SOCIAL_KINDS = ("social_organisation", "foundation")


def _count_residents() -> dict[str, Any]:
    return {"residents": Count("id")}


def _count_households() -> dict[str, Any]:
    return {"households": Count("id"), "people": Sum("size"), "vulnerable": Count("id", filter=vulnerable_filter())}


def _volunteer_posts() -> QuerySet[Post]:
    return Post.objects.filter(role="volunteer", person__resident__isnull=False)


RESIDENTS, HOUSEHOLDS, VOLUNTEERS = "registry.residents", "registry.households", "registry.volunteers"
# Residents and households per grid: scans of the whole registry, so counted by the job (the page shows
# when), not per request.
TALLIES = {
    RESIDENTS: Tally(rows=Resident.objects.all, grid="household__grid_id", measures=_count_residents,
                     max_age=timedelta(minutes=10)),
    HOUSEHOLDS: Tally(rows=Household.objects.all, grid="grid_id", measures=_count_households,
                      max_age=timedelta(minutes=10)),
    # volunteer posts of residents, by the grid they live in: a join of four tables, so counted by the job too
    VOLUNTEERS: Tally(rows=_volunteer_posts, grid="person__resident__household__grid_id",
                      measures=lambda: {"volunteers": Count("id")}, max_age=timedelta(minutes=10)),
}


def households_per_grid(measure: str = "households") -> pd.Series:
    """Households (or, with ``measure="people"``, their declared members) per grid id, from the tally
    ``registry.households``; made once within the index's shared reads (four indicators ask, issue 15): do not
    change it."""
    return tallies.shared(f"{HOUSEHOLDS} {measure}", lambda: series(tallies.read(HOUSEHOLDS), measure))


def _households(units: Units) -> dict[str, float]:
    return sum_by_unit(units, households_per_grid())


def residents_per_grid() -> pd.Series:
    """Residents per grid id (the tally ``registry.residents``), for every app's per-resident indicators."""
    return tallies.shared(RESIDENTS, lambda: series(tallies.read(RESIDENTS), "residents"))  # as above


def _residents(units: Units) -> dict[str, float]:
    return sum_by_unit(units, residents_per_grid())


def _serving(units: Units, kinds: tuple[str, ...]) -> dict[str, int]:
    """Actors of these kinds whose service area covers or lies inside each unit's grids: each actor's
    grids are found once (the grids under its area, by a range of sorted paths, and the grid above it)."""
    grid_of_path = {path: pk for pk, path in grid_paths().items()}
    paths = sorted(grid_of_path)
    served: list[set[int]] = []
    for area in Actor.objects.filter(kind__in=kinds).values_list("service_area__path", flat=True):
        inside = paths[bisect_left(paths, area):bisect_left(paths, area + "\uffff")]
        parts = area.split("/")
        above = ("/".join(parts[:k]) + "/" for k in range(1, len(parts)))
        served.append({grid_of_path[p] for p in inside} | {grid_of_path[p] for p in above if p in grid_of_path})
    # grid -> the actors serving it, then per unit the actors of its grids (each counted once): not every unit
    # tested against every actor (3,600 grid units x 4,000 actors at 1M households: a second, issue 15)
    by_grid: dict[int, set[int]] = defaultdict(set)
    for actor, grids in enumerate(served):
        for grid in grids:
            by_grid[grid].add(actor)
    # a unit of one grid (every unit of a grid-level index) counts that grid's actors, without a union to build
    return {unit: len(by_grid.get(ids[0], ())) if len(ids) == 1 else len(set().union(*(by_grid.get(g, ()) for g in ids)))
            for unit, ids in units.items()}


def households_per_grid_member(units: Units) -> dict[str, float] | None:
    members = pd.Series(dict(Post.objects.filter(role="grid_member", place__isnull=False)
                             .values_list("place_id").annotate(n=Count("id")).order_by()), dtype=float)
    households, per_unit = _households(units), sum_by_unit(units, members)
    return {u: households[u] / per_unit[u] if per_unit[u] else float("nan") for u in units}


def social_orgs_per_1000(units: Units) -> dict[str, float] | None:
    residents, orgs = _residents(units), _serving(units, SOCIAL_KINDS)
    return {u: 1000 * orgs[u] / residents[u] if residents[u] else float("nan") for u in units}


def volunteers_per_1000(units: Units) -> dict[str, float] | None:
    volunteers = series(tallies.read(VOLUNTEERS), "volunteers")
    residents, per_unit = _residents(units), sum_by_unit(units, volunteers)
    return {u: 1000 * per_unit[u] / residents[u] if residents[u] else float("nan") for u in units}


def self_organised_teams(units: Units) -> dict[str, float] | None:
    households, teams = _households(units), _serving(units, ("resident_self_organisation",))
    return {u: 1000 * teams[u] / households[u] if households[u] else float("nan") for u in units}


REGISTRY_INDICATORS: dict[str, Provider] = {
    "households_per_grid_member": households_per_grid_member,
    "social_orgs_per_1000": social_orgs_per_1000,
    "volunteers_per_1000": volunteers_per_1000,
    "self_organised_teams": self_organised_teams,
}
