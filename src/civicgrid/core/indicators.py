"""The contract of a CREI indicator provider (``AppPlugin.crei_indicators``) and its shared helper.

A provider is ``function(units) -> {unit: value} | None``: ``units`` maps each unit's code to its grid
ids; it returns a value per unit, or None when its module has recorded nothing yet (the indicator is
then reported as missing, never invented). Each indicator is described in its app's ``crei.yaml``
(name, mechanism, en, zh, formula, direction, why); the analytics app assembles the catalogue.

A provider counts in the database, one grouped query per grid (``values(grid=...).annotate(...)``), never
by loading the records (issue 15); figures that need a year of records come from a tally
(:mod:`civicgrid.core.tallies`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd

Units = dict[str, list[int]]
Provider = Callable[[Units], "dict[str, float] | None"]


def ratio_by_unit(units: Units, numerator: pd.Series, denominator: pd.Series) -> dict[str, float] | None:
    """Sum of ``numerator`` over each unit's grids divided by the sum of ``denominator`` (both indexed
    by grid id); NaN for a unit with nothing in the denominator, None when nothing is recorded at all."""
    if denominator.sum() == 0:
        return None
    top, bottom = per_grid(numerator), per_grid(denominator)
    out = {}
    for unit, ids in units.items():
        d = sum(bottom.get(i, 0.0) for i in ids)
        out[unit] = sum(top.get(i, 0.0) for i in ids) / d if d else float("nan")
    return out


def per_grid(values: pd.Series) -> dict[Any, float]:
    """A Series by grid id as a plain dict without the missing values: a unit's sum is then a few dict
    lookups (a pandas reindex per unit cost seconds for a district's hundreds of grids)."""
    return {k: float(v) for k, v in values.dropna().items()}


def sum_by_unit(units: Units, values: pd.Series) -> dict[str, float]:
    """Sum of ``values`` (by grid id) over each unit's grids."""
    found = per_grid(values)
    return {unit: sum(found.get(i, 0.0) for i in ids) for unit, ids in units.items()}


def series(rows: Iterable[Mapping[str, Any]], value: str, *, key: str = "grid") -> pd.Series:
    """A database's grouped rows (``qs.values(grid=...).annotate(...)``, or tally cells) as one value per
    grid id, summed over rows of the same grid (tally cells of several groups)."""
    out: dict[Any, float] = {}
    for row in rows:
        out[row[key]] = out.get(row[key], 0.0) + float(row[value] or 0)
    return pd.Series(out, dtype=float)
