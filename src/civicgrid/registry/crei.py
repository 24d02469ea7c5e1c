"""The registry's indicators of the Community Resilience and Equity Index (described in crei.yaml)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
from django.db.models import Count

from civicgrid.core import tallies
from civicgrid.core.indicators import Provider, Units, series
from civicgrid.core.tallies import Tally
from civicgrid.registry.models import Actor, Household, Place, Post, Resident

SOCIAL_KINDS = ("social_organisation", "foundation")


def _households(units: Units) -> dict[str, int]:
    per_grid = dict(Household.objects.values_list("grid_id").annotate(n=Count("id")).order_by())
    return {u: sum(per_grid.get(g, 0) for g in ids) for u, ids in units.items()}


def _count_residents() -> dict[str, Any]:
    return {"residents": Count("id")}


RESIDENTS = "registry.residents"
# Residents per grid: a join over every resident, so counted by the job (the page shows when), not per request.
TALLIES = {RESIDENTS: Tally(rows=Resident.objects.all, grid="household__grid_id", measures=_count_residents,
                            max_age=timedelta(minutes=10))}


def residents_per_grid() -> pd.Series:
    """Residents per grid id (the tally ``registry.residents``), for every app's per-resident indicators."""
    return series(tallies.read(RESIDENTS), "residents")


def _residents(units: Units) -> dict[str, int]:
    per_grid = residents_per_grid()
    return {u: int(per_grid.reindex(g).fillna(0).sum()) for u, g in units.items()}


def _serving(units: Units, kinds: tuple[str, ...]) -> dict[str, int]:
    """Actors of these kinds whose service area covers or lies inside each unit's grids."""
    grids = {p.id: p for p in Place.objects.filter(level="grid")}
    actors = list(Actor.objects.filter(kind__in=kinds).select_related("service_area"))
    out = {}
    for unit, ids in units.items():
        paths = [grids[i].path for i in ids if i in grids]
        out[unit] = sum(1 for a in actors if any(p.startswith(a.service_area.path)
                                                 or a.service_area.path.startswith(p) for p in paths))
    return out


def households_per_grid_member(units: Units) -> dict[str, float] | None:
    members = pd.Series(dict(Post.objects.filter(role="grid_member", place__isnull=False)
                             .values_list("place_id").annotate(n=Count("id")).order_by()), dtype=float)
    households = _households(units)
    out = {}
    for unit, ids in units.items():
        n = members.reindex(ids).fillna(0).sum()
        out[unit] = households[unit] / n if n else float("nan")
    return out


def social_orgs_per_1000(units: Units) -> dict[str, float] | None:
    residents, orgs = _residents(units), _serving(units, SOCIAL_KINDS)
    return {u: 1000 * orgs[u] / residents[u] if residents[u] else float("nan") for u in units}


def volunteers_per_1000(units: Units) -> dict[str, float] | None:
    volunteers = pd.Series(dict(Post.objects.filter(role="volunteer", person__resident__isnull=False)
                                .values_list("person__resident__household__grid_id").annotate(n=Count("id"))
                                .order_by()), dtype=float)
    residents = _residents(units)
    return {u: 1000 * volunteers.reindex(g).fillna(0).sum() / residents[u] if residents[u] else float("nan")
            for u, g in units.items()}


def self_organised_teams(units: Units) -> dict[str, float] | None:
    households, teams = _households(units), _serving(units, ("resident_self_organisation",))
    return {u: 1000 * teams[u] / households[u] if households[u] else float("nan") for u in units}


REGISTRY_INDICATORS: dict[str, Provider] = {
    "households_per_grid_member": households_per_grid_member,
    "social_orgs_per_1000": social_orgs_per_1000,
    "volunteers_per_1000": volunteers_per_1000,
    "self_organised_teams": self_organised_teams,
}
