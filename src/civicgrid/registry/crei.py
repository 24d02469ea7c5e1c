"""The registry's indicators of the Community Resilience and Equity Index (described in crei.yaml)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from civicgrid.core.indicators import Provider, Units
from civicgrid.registry.models import Actor, Household, Place, Post, Resident

SOCIAL_KINDS = ("social_organisation", "foundation")


def _households(units: Units) -> dict[str, int]:
    per_grid = pd.Series(dict(_grid_counts(Household.objects.values_list("grid_id", flat=True))))
    return {u: int(per_grid.reindex(g).fillna(0).sum()) for u, g in units.items()}


def _grid_counts(values: Any) -> dict[int, int]:
    return pd.Series(list(values), dtype="int64").value_counts().to_dict()


def _residents(units: Units) -> dict[str, int]:
    per_grid = pd.Series(_grid_counts(Resident.objects.values_list("household__grid_id", flat=True)))
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
    members = pd.Series(_grid_counts(Post.objects.filter(role="grid_member", place__isnull=False)
                                     .values_list("place_id", flat=True)))
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
    volunteers = pd.Series(_grid_counts(Post.objects.filter(role="volunteer", person__resident__isnull=False)
                                        .values_list("person__resident__household__grid_id", flat=True)))
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
