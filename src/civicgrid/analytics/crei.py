"""The Community Resilience and Equity Index (CREI) over what civicgrid records.

The catalogue is assembled from each app's ``crei.yaml`` (the mechanisms and the planned indicators
are in this app's ``crei_catalogue.yaml``). Values come from the providers the apps declare in their
plugins (``AppPlugin.crei_indicators``; the contract is in :mod:`civicgrid.core.indicators`). Missing
indicators are reported, never invented; the index is computed by civicgrid.engine.index over those
present.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import yaml
from django.apps import apps

from civicgrid.analytics import kept
from civicgrid.core import tallies
from civicgrid.core.indicators import Provider, Units
from civicgrid.core.plugins import crei_providers
from civicgrid.engine.index import IndexResult, compute_index, rank_intervals
from civicgrid.registry.models import Place


def _read(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Any]:
    """The mechanisms (this app's crei_catalogue.yaml) and every indicator: each app's crei.yaml, then
    the planned ones, ordered by mechanism."""
    base = _read(Path(__file__).parent / "crei_catalogue.yaml")
    entries = [e for config in apps.get_app_configs() if (Path(config.path) / "crei.yaml").exists()
               for e in _read(Path(config.path) / "crei.yaml").get("indicators", [])]
    entries += base.get("indicators", [])
    order = list(base["mechanisms"])
    return {"mechanisms": base["mechanisms"],
            "indicators": sorted(entries, key=lambda e: order.index(e["mechanism"]))}


def providers() -> dict[str, Provider]:
    return crei_providers()


# --- the index ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CreiResult:
    level: str  # "grid" or "community"
    values: pd.DataFrame  # raw indicator values, one row per unit (index: unit code)
    names: dict[str, str]  # unit code -> name
    missing: list[dict[str, Any]]  # catalogue entries with no data yet
    result: IndexResult | None  # None when no indicator has data
    spec: dict[str, Any]


class IndexPlace(Protocol):
    """What the index reads of a place: a model instance, or a plain row (the page's, issue 15)."""

    @property
    def id(self) -> int: ...
    @property
    def level(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def parent_id(self) -> int | None: ...


def units_for(places: Sequence[IndexPlace], level: str) -> tuple[Units, dict[str, str]]:
    """Unit code -> its grid ids, for grids or communities among ``places`` (already scoped)."""
    if level == "grid":  # a grid carries its community's name: "幸福社区 · 第一网格", never a bare code
        grids = [p for p in places if p.level == "grid"]
        parents = dict(Place.objects.filter(pk__in={g.parent_id for g in grids}).values_list("id", "name"))
        return {g.code: [g.id] for g in grids}, {
            g.code: f"{parents[g.parent_id]} · {g.name}" if g.parent_id in parents else g.name for g in grids}
    communities = [p for p in places if p.level == "community"]
    grid_ids: dict[int, list[int]] = {}
    for grid_id, parent_id in (Place.objects.filter(level="grid", parent_id__in=[c.id for c in communities])
                               .values_list("id", "parent_id")):
        grid_ids.setdefault(parent_id, []).append(grid_id)
    return {c.code: grid_ids.get(c.id, []) for c in communities}, {c.code: c.name for c in communities}


# Why an indicator is left out of the index (shown on the page and by ``civicgrid crei``).
NO_PROVIDER = "no app records it yet"
NO_DATA = "no data recorded yet"
NO_VARIATION = "no variation between units"


def indicator_values(units: Units) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    """Every catalogue indicator's raw values per unit, and why each one that cannot enter the index
    is missing (no provider, nothing recorded, or the same value everywhere)."""
    available = providers()
    values: dict[str, dict[str, float]] = {}
    reasons: dict[str, str] = {}
    for entry in catalogue()["indicators"]:
        name = entry["name"]
        if name not in available:
            reasons[name] = NO_PROVIDER
            continue
        found = available[name](units) if units else None
        # the values alone: a Series by unit built an index of a district's 3,600 codes per indicator (issue 15)
        series = pd.Series(list(found.values()), dtype=float) if found is not None else None
        if found is not None:
            values[name] = found
        if series is None or series.notna().sum() == 0:
            reasons[name] = NO_DATA
        elif series.notna().sum() < 2 or series.nunique(dropna=True) < 2:
            reasons[name] = NO_VARIATION
    return values, reasons


def crei(*, places: Sequence[IndexPlace], level: str = "grid") -> CreiResult:
    units, names = units_for(places, level)
    with tallies.shared_reads():  # the households and residents per grid, read once for every indicator
        found, reasons = indicator_values(units)
    columns = {name: v for name, v in found.items() if name not in reasons}
    missing = [{**entry, "reason": reasons[entry["name"]]} for entry in catalogue()["indicators"]
               if entry["name"] in reasons]
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
    """The engine's rank intervals, kept for unchanged inputs (:mod:`civicgrid.analytics.kept`: 100-150 ms of a
    district's page at 1,000,000 households, issue 15)."""
    if outcome.result is None or len(outcome.values) < 3:
        return None
    data = outcome.values.reset_index()
    found = kept.kept("crei.intervals", kept.digest(outcome.spec, replications, seed, frames=(data,)),
                      lambda: rank_intervals(data, spec=outcome.spec, n_replications=replications, seed=seed).intervals)
    return found.copy()  # the kept frame is never handed out to be changed
