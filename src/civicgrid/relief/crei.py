"""This app's indicators for the CREI (civicgrid.analytics.crei): equity of confirmed allocation rounds."""

from __future__ import annotations

import pandas as pd

from civicgrid.core.indicators import Units
from civicgrid.registry.models import vulnerable_score
from civicgrid.relief.models import RoundAllocation


def _allocations() -> pd.DataFrame:
    return pd.DataFrame.from_records(
        RoundAllocation.objects.values("household__grid_id", "household__vulnerability_score", "quantity",
                                       "need_quantity", "floor"),
        columns=["household__grid_id", "household__vulnerability_score", "quantity", "need_quantity", "floor"],
    ).rename(columns={"household__grid_id": "grid", "household__vulnerability_score": "score"})


def _gap(units: Units, value) -> dict[str, float] | None:  # type: ignore[no-untyped-def]
    """``value(rows of other households) - value(rows of vulnerable households)`` per unit."""
    rows = _allocations()
    if rows.empty:
        return None
    rows["vulnerable"] = rows["score"] >= vulnerable_score()
    out = {}
    for unit, ids in units.items():
        mine = rows[rows["grid"].isin(ids)]
        vulnerable, other = mine[mine["vulnerable"]], mine[~mine["vulnerable"]]
        out[unit] = value(other) - value(vulnerable) if len(vulnerable) and len(other) else float("nan")
    return out


def coverage_gap(units: Units) -> dict[str, float] | None:
    """Share of other households' requests that reached their floor minus the vulnerable households'."""
    return _gap(units, lambda rows: float((rows["quantity"] >= rows["floor"]).mean()))


def unmet_need_gap(units: Units) -> dict[str, float] | None:
    """Unmet share of need of vulnerable households minus that of other households."""
    return _gap(units, lambda rows: -float(1 - rows["quantity"].sum() / rows["need_quantity"].sum()))


INDICATORS = {"coverage_gap": coverage_gap, "unmet_need_gap": unmet_need_gap}
