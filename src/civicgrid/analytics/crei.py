"""The Community Resilience and Equity Index (CREI) over what civicgrid records.

Indicators are listed in ``crei_catalogue.yaml``. Values come from providers: this module supplies
the registry's; any domain app may add ``crei.py`` with ``INDICATORS = {name: function}``, where
``function(units: dict[str, list[int]]) -> dict[str, float] | None`` receives each unit's grid ids and
returns a value per unit, or None when its module has recorded nothing yet. Missing indicators are
reported, never invented; the index is computed by civicgrid.engine.index over those present.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from civicgrid.core.plugins import civicgrid_modules
from civicgrid.engine.index import IndexResult, compute_index, rank_intervals
from civicgrid.registry.models import Actor, Household, Place, Post, Resident

Units = dict[str, list[int]]
Provider = Callable[[Units], "dict[str, float] | None"]
SOCIAL_KINDS = ("social_organisation", "foundation")


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Any]:
    return dict(yaml.safe_load((Path(__file__).parent / "crei_catalogue.yaml").read_text(encoding="utf-8")))


# --- the registry's indicators --------------------------------------------------------------------
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


def ratio_by_unit(units: Units, numerator: pd.Series, denominator: pd.Series) -> dict[str, float] | None:
    """Sum of ``numerator`` over each unit's grids divided by the sum of ``denominator`` (both indexed
    by grid id); NaN for a unit with nothing in the denominator, None when nothing is recorded at all."""
    if denominator.sum() == 0:
        return None
    out = {}
    for unit, ids in units.items():
        d = denominator.reindex(ids).fillna(0).sum()
        out[unit] = float(numerator.reindex(ids).fillna(0).sum() / d) if d else float("nan")
    return out


REGISTRY_INDICATORS: dict[str, Provider] = {
    "households_per_grid_member": households_per_grid_member,
    "social_orgs_per_1000": social_orgs_per_1000,
    "volunteers_per_1000": volunteers_per_1000,
    "self_organised_teams": self_organised_teams,
}


def providers() -> dict[str, Provider]:
    found = dict(REGISTRY_INDICATORS)
    for _, module in civicgrid_modules("crei"):
        found.update(getattr(module, "INDICATORS", {}))
    return found


# --- the index ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CreiResult:
    level: str  # "grid" or "community"
    values: pd.DataFrame  # raw indicator values, one row per unit (index: unit code)
    names: dict[str, str]  # unit code -> name
    missing: list[dict[str, Any]]  # catalogue entries with no data yet
    result: IndexResult | None  # None when no indicator has data
    spec: dict[str, Any]


def units_for(places: list[Place], level: str) -> tuple[Units, dict[str, str]]:
    """Unit code -> its grid ids, for grids or communities among ``places`` (already scoped)."""
    if level == "grid":
        grids = [p for p in places if p.level == "grid"]
        return {g.code: [g.id] for g in grids}, {g.code: g.name for g in grids}
    communities = [p for p in places if p.level == "community"]
    grid_ids: dict[int, list[int]] = {}
    for grid_id, parent_id in Place.objects.filter(level="grid", parent__in=communities).values_list("id", "parent_id"):
        grid_ids.setdefault(parent_id, []).append(grid_id)
    return {c.code: grid_ids.get(c.id, []) for c in communities}, {c.code: c.name for c in communities}


def crei(*, places: list[Place], level: str = "grid") -> CreiResult:
    units, names = units_for(places, level)
    available = providers()
    columns: dict[str, dict[str, float]] = {}
    missing = []
    for entry in catalogue()["indicators"]:
        values = available[entry["name"]](units) if entry["name"] in available and units else None
        series = pd.Series(values, dtype=float) if values is not None else None
        if series is None or series.notna().sum() < 2 or series.nunique(dropna=True) < 2:
            missing.append({**entry, "reason": "no data recorded yet" if series is None or series.notna().sum() == 0
                            else "no variation between units"})
            continue
        assert values is not None  # a series was built from it above
        columns[entry["name"]] = values
    values_frame = pd.DataFrame(columns).reindex(list(units))
    values_frame.index.name = "unit"
    spec = _spec(list(columns))
    result = None
    if columns:
        data = values_frame.reset_index()
        result = compute_index(data, spec=spec)
    return CreiResult(level=level, values=values_frame, names=names, missing=missing, result=result, spec=spec)


def _spec(present: list[str]) -> dict[str, Any]:
    """Percentile-rank normalisation (robust to the few, skewed units of a community), equal weights,
    arithmetic means within mechanisms and over them."""
    entries = {e["name"]: e for e in catalogue()["indicators"]}
    mechanisms = [m for m in catalogue()["mechanisms"] if any(entries[n]["mechanism"] == m for n in present)]
    return {
        "name": "CREI",
        "id_column": "unit",
        "defaults": {"missing": "mean", "normalise": "percent_rank"},
        "indicators": [{"name": n, "direction": entries[n]["direction"]} for n in present],
        "groups": [
            *[{"name": m, "children": [n for n in present if entries[n]["mechanism"] == m],
               "aggregate": {"method": "arithmetic"}} for m in mechanisms],
            {"name": "CREI", "children": mechanisms, "aggregate": {"method": "arithmetic"}},
        ],
    }


def crei_uncertainty(outcome: CreiResult, *, replications: int = 300, seed: int = 1) -> pd.DataFrame | None:
    if outcome.result is None or len(outcome.values) < 3:
        return None
    return rank_intervals(outcome.values.reset_index(), spec=outcome.spec, n_replications=replications,
                          seed=seed).intervals
