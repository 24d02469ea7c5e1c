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

import numpy as np
import pandas as pd

Units = dict[str, list[int]]
Provider = Callable[[Units], "dict[str, float] | None"]


def ratio_by_unit(units: Units, numerator: pd.Series, denominator: pd.Series) -> dict[str, float] | None:
    """Sum of ``numerator`` over each unit's grids divided by the sum of ``denominator`` (both indexed
    by grid id); NaN for a unit with nothing in the denominator, None when nothing is recorded at all."""
    if denominator.sum() == 0:
        return None
    top, bottom = _unit_sums(units, per_grid(numerator)), _unit_sums(units, per_grid(denominator))
    above = np.fromiter(top.values(), dtype=float, count=len(top))
    below = np.fromiter(bottom.values(), dtype=float, count=len(bottom))
    # top / bottom where the bottom is not zero (the division Python makes), else NaN; as whole arrays
    shares = np.divide(above, below, out=np.full(len(below), np.nan), where=below != 0)
    return dict(zip(units, shares.tolist(), strict=True))


def per_grid(values: pd.Series) -> dict[Any, float]:
    """A Series by grid id as a plain dict without the missing values: a unit's sum is then a few dict
    lookups (a pandas reindex per unit cost seconds for a district's hundreds of grids)."""
    found = values.dropna()
    # the labels and floats as whole lists, not an item at a time (a tenth of a district's CREI page, issue 15)
    return dict(zip(found.index.tolist(), found.to_numpy(dtype=float).tolist(), strict=True))


def sum_by_unit(units: Units, values: pd.Series) -> dict[str, float]:
    """Sum of ``values`` (by grid id) over each unit's grids."""
    return _unit_sums(units, per_grid(values))


def _unit_sums(units: Units, found: dict[Any, float]) -> dict[str, float]:
    """Each unit's sum of ``found`` over its grids, added in the grids' order (a unit of one grid, as every
    unit of a grid-level index is, without building a sum over one: a district's 3,600 units, issue 15)."""
    get = found.get
    # a one-grid unit's value + 0 is what sum() gives (it adds to 0), without a generator per unit
    return {unit: get(ids[0], 0.0) + 0 if len(ids) == 1 else sum(get(i, 0.0) for i in ids)
            for unit, ids in units.items()}


def series(rows: Iterable[Mapping[str, Any]], value: str, *, key: str = "grid") -> pd.Series:
    """A database's grouped rows (``qs.values(grid=...).annotate(...)``, or tally cells) as one value per
    grid id, summed over rows of the same grid (tally cells of several groups)."""
    rows = rows if isinstance(rows, list) else list(rows)
    keys = [row[key] for row in rows]
    if keys and len(set(keys)) == len(keys):  # one row per grid, as most counts are: no sum to make
        return pd.Series([float(row[value] or 0) for row in rows], index=keys, dtype=float)
    out: dict[Any, float] = {}
    for row in rows:
        out[row[key]] = out.get(row[key], 0.0) + float(row[value] or 0)
    return pd.Series(out, dtype=float)
