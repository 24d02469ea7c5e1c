"""Allocate scarce relief stock to household requests, worst-off first.

The public entry point is :func:`allocate`. The default ``equity`` policy serves, per item
(and per distribution point when both tables have a ``point`` column):

1. life-critical tiers (``tier <= life_critical_max_tier``, by default tier 0), each tier
   first up to its floors and then up to its full need;
2. the floors (survival minimum, see :func:`sphere_floor`) of the other tiers, tier by tier;
3. the rest of their need, tier by tier.

Inside each step the units go by weighted water-filling: the lexicographic max-min of
``allocated / need / weight``. Allocations are whole units (largest remainder, ties broken by
higher weight, then earlier request, then smaller id), never exceed need or stock, and no
stock is left while a request of the same pool is short.

``proportional``, ``equal``, ``fcfs`` (by request time) and ``lottery`` (seeded) ignore
tiers, floors and weights; they exist for comparison.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from civicgrid.engine._allocation import (
    BoolArray,
    FloatArray,
    IntArray,
    TieBreak,
    equity_fill,
    sequential_fill,
)

__all__ = [
    "POLICIES",
    "REQUEST_COLUMNS",
    "STOCK_COLUMNS",
    "SPHERE_KCAL_PER_PERSON_PER_DAY",
    "SPHERE_WATER_LITRES_PER_PERSON_PER_DAY",
    "allocate",
    "allocate_each",
    "quoted_weight_reason",
    "sphere_floor",
]

POLICIES: tuple[str, ...] = ("equity", "proportional", "equal", "fcfs", "lottery")
REQUEST_COLUMNS: tuple[str, ...] = (
    "request_id",
    "household_id",
    "item",
    "need",
    "weight",
    "tier",
    "floor",
    "requested_at",
)
STOCK_COLUMNS: tuple[str, ...] = ("item", "quantity")

# Sphere Handbook (2018) minimum standards: water supply standard 1.1 and food security
# standard 6.1 (planning figure for the average daily energy need).
SPHERE_WATER_LITRES_PER_PERSON_PER_DAY = 15.0
SPHERE_KCAL_PER_PERSON_PER_DAY = 2100.0
_SPHERE_PER_PERSON = {
    "water": SPHERE_WATER_LITRES_PER_PERSON_PER_DAY,
    "food": SPHERE_KCAL_PER_PERSON_PER_DAY,
}

_POLICY_SENTENCE = {
    "proportional": "Stock was shared in proportion to need.",
    "equal": "Stock was shared in equal amounts per request.",
    "fcfs": "Stock went to requests in the order they arrived.",
    "lottery": "Stock went to requests in an order drawn by lot.",
}


def sphere_floor(
    household_size: npt.ArrayLike,
    *,
    kind: Literal["water", "food"],
    unit_size: float,
    days: float = 1.0,
    need: npt.ArrayLike | None = None,
) -> IntArray:
    """Survival-minimum floor in whole units from household size (Sphere standards).

    Sphere sets 15 litres of water and 2,100 kcal of food per person per day. The floor is
    the number of units (e.g. 5 L bottles, 10,000 kcal parcels) that covers this, rounded up,
    and capped by the household's need when ``need`` is given (a floor may never exceed it).

    Parameters
    ----------
    household_size : array-like of int
        Number of residents per request (``>= 0``).
    kind : {"water", "food"}
        Which Sphere standard to apply.
    unit_size : float
        Litres (water) or kcal (food) in one unit of the item; ``> 0``.
    days : float, default 1.0
        Number of days the distribution has to cover; ``> 0``.
    need : array-like of int, optional
        Requested units; the floor is capped at it.

    Returns
    -------
    numpy.ndarray of int64

    Examples
    --------
    >>> from civicgrid.engine.allocation import sphere_floor
    >>> sphere_floor([1, 4, 0], kind="water", unit_size=5, days=2)
    array([ 6, 24,  0])
    >>> sphere_floor([3], kind="food", unit_size=10_000, days=3, need=[1])
    array([1])
    """
    if kind not in _SPHERE_PER_PERSON:
        raise ValueError(f"kind must be 'water' or 'food', got {kind!r}")
    if not unit_size > 0:
        raise ValueError(f"unit_size must be > 0, got {unit_size!r}")
    if not days > 0:
        raise ValueError(f"days must be > 0, got {days!r}")
    size = np.asarray(household_size, dtype=np.float64)
    if np.isnan(size).any() or (size < 0).any() or (size != np.floor(size)).any():
        raise ValueError("household_size must hold whole numbers >= 0")
    units = size * _SPHERE_PER_PERSON[kind] * days / unit_size
    # a tolerance so that e.g. 3 * 0.1 litres does not round 3.0000000000000004 units up to 4
    floor = np.ceil(units - 1e-9).astype(np.int64)
    if need is not None:
        need_arr = np.asarray(need)
        if need_arr.shape != floor.shape:
            raise ValueError("need must have the same length as household_size")
        floor = np.minimum(floor, need_arr.astype(np.int64))
    return floor


def allocate(
    requests: pd.DataFrame,
    stock: pd.DataFrame,
    *,
    policy: str = "equity",
    seed: int | None = None,
    life_critical_max_tier: int | None = 0,
    explain: bool = True,
) -> pd.DataFrame:
    """Allocate stock to requests and explain every allocation.

    Parameters
    ----------
    requests : pandas.DataFrame
        One row per request with the columns ``request_id`` (unique), ``household_id``,
        ``item``, ``need`` (whole units ``>= 0``), ``weight`` (vulnerability, ``>= 1``),
        ``tier`` (whole number ``>= 0``, lower is served first), ``floor`` (whole units,
        ``0 <= floor <= need``) and ``requested_at`` (datetime, ISO text or a number).
        Optional: ``point`` (distribution point) and ``weight_reason`` (text quoted in the
        explanation, e.g. "two residents over 80, one living alone").
    stock : pandas.DataFrame
        ``item`` and ``quantity`` (whole units ``>= 0``); rows for the same item (and point)
        are added up. Optional: ``point`` (then every request needs one and draws only on
        its own point's stock) and ``unit`` (e.g. "parcels", used in the explanation).
    policy : {"equity", "proportional", "equal", "fcfs", "lottery"}, default "equity"
        See the module docstring.
    seed : int, optional
        Seed of the ``lottery`` draw; required for that policy, so a round can be recomputed.
    life_critical_max_tier : int or None, default 0
        Tiers up to this value are life-critical and served in full before any floor of the
        other tiers; ``None`` treats every tier alike (floors of all tiers first).
    explain : bool, default True
        Write the ``explanation`` sentences; without them (e.g. to compare policies by their
        figures only) the result has no ``explanation`` column and costs about a third less.

    Returns
    -------
    pandas.DataFrame
        Same index and row order as ``requests``, with the columns ``request_id``,
        ``allocated`` (int), ``item``, ``point`` (if given), ``tier``, ``life_critical``,
        ``need``, ``floor``, ``weight``, ``floor_met``, ``capped_by_need`` (received the full
        need), ``water_level`` (level of ``allocated / need / weight`` at which the pool's
        scarce step stopped for ``equity``, the share of need for ``proportional``, the
        units per request for ``equal``; NaN when stock covered every request or for
        ``fcfs``/``lottery``), ``stock_coverage`` (stock / total need of the pool, at most
        1), ``policy`` and, with ``explain``, ``explanation`` (a sentence a resident can read).

    Raises
    ------
    ValueError
        Missing column, bad value (negative or fractional need, floor above need, weight
        below 1, ...), duplicate request id, unknown policy, lottery without seed.
    TypeError
        ``requests`` or ``stock`` is not a DataFrame.

    Examples
    --------
    Three households share 15 litres; request 3 is life-critical, household 2 is more
    vulnerable (weight 2) than household 1:

    >>> import pandas as pd
    >>> from civicgrid.engine.allocation import allocate
    >>> requests = pd.DataFrame({
    ...     "request_id": [1, 2, 3],
    ...     "household_id": ["h1", "h2", "h3"],
    ...     "item": "water",
    ...     "need": [10, 10, 4],
    ...     "weight": [1.0, 2.0, 1.0],
    ...     "tier": [1, 1, 0],
    ...     "floor": [4, 4, 2],
    ...     "requested_at": pd.to_datetime(["2024-03-01 08:00", "2024-03-01 09:00",
    ...                                     "2024-03-01 10:00"]),
    ...     "weight_reason": ["", "two residents over 80, one living alone", ""],
    ... })
    >>> stock = pd.DataFrame({"item": ["water"], "quantity": [15], "unit": ["litres"]})
    >>> result = allocate(requests, stock)
    >>> result[["request_id", "allocated", "floor_met", "capped_by_need"]]
       request_id  allocated  floor_met  capped_by_need
    0           1          4       True           False
    1           2          7       True           False
    2           3          4       True            True
    >>> import textwrap
    >>> print(textwrap.fill(result.explanation[1], 88))
    You received 7 of 10 litres of water you asked for; stock covered 62% of all requests
    for water; your weight 2.0 came from two residents over 80, one living alone. Every
    household's survival minimum came first and yours (4) was met; the rest was shared by
    need and weight.
    >>> allocate(requests, stock, policy="fcfs").allocated.tolist()
    [10, 5, 0]
    >>> "explanation" in allocate(requests, stock, explain=False).columns
    False
    """
    return allocate_each(requests, stock, policies=(policy,), seed=seed,
                         life_critical_max_tier=life_critical_max_tier,
                         explain=(policy,) if explain else ())[policy]


def allocate_each(
    requests: pd.DataFrame,
    stock: pd.DataFrame,
    *,
    policies: tuple[str, ...] = POLICIES,
    seed: int | None = None,
    life_critical_max_tier: int | None = 0,
    explain: tuple[str, ...] = (),
) -> dict[str, pd.DataFrame]:
    """:func:`allocate` under several policies of the same requests and stock, checked and encoded once.

    Comparing the policies of a district's round (a million requests) repeated the checks, the parsing of
    every request time and the ranking of every id for each policy: about a third of the work.

    Parameters
    ----------
    requests, stock : pandas.DataFrame
        As for :func:`allocate`.
    policies : tuple of str, default POLICIES
        The policies to run, in the order of the returned mapping.
    seed : int, optional
        Seed of the ``lottery`` draw (required if ``lottery`` is among ``policies``).
    life_critical_max_tier : int or None, default 0
        As for :func:`allocate`.
    explain : tuple of str, default ()
        The policies whose results get the ``explanation`` sentences.

    Returns
    -------
    dict of str to pandas.DataFrame
        For each policy, exactly what ``allocate(requests, stock, policy=..., seed=seed,
        life_critical_max_tier=..., explain=policy in explain)`` returns.

    Examples
    --------
    >>> import pandas as pd
    >>> from civicgrid.engine.allocation import allocate_each
    >>> requests = pd.DataFrame({"request_id": [1, 2], "household_id": [1, 2], "item": "water",
    ...                          "need": [6, 6], "weight": [1.0, 2.0], "tier": [1, 1], "floor": [2, 2],
    ...                          "requested_at": [1.0, 2.0]})
    >>> stock = pd.DataFrame({"item": ["water"], "quantity": [8]})
    >>> {p: r.allocated.tolist() for p, r in allocate_each(requests, stock, policies=("equity", "fcfs")).items()}
    {'equity': [3, 5], 'fcfs': [6, 2]}
    """
    if not isinstance(requests, pd.DataFrame):
        raise TypeError(f"requests must be a pandas DataFrame, got {type(requests).__name__}")
    if not isinstance(stock, pd.DataFrame):
        raise TypeError(f"stock must be a pandas DataFrame, got {type(stock).__name__}")
    for policy in policies:
        if policy not in POLICIES:
            raise ValueError(f"unknown policy {policy!r}; choose one of {', '.join(POLICIES)}")
    if "lottery" in policies and seed is None:
        raise ValueError("policy 'lottery' needs a seed, so that the draw can be recomputed")
    data = _encode(requests, stock, life_critical_max_tier=life_critical_max_tier)
    out = {}
    for policy in policies:
        allocated, level = _solve(data, policy, seed=seed, integral=True)
        out[policy] = _result_frame(requests, data, policy, allocated, level, explain=policy in explain)
    return out


# --------------------------------------------------------------------------- encoding


@dataclass(frozen=True)
class _Encoded:
    """Validated requests and stock as flat arrays (one entry per request or per pool)."""

    ids: npt.NDArray[np.generic]
    pool: IntArray
    need: FloatArray
    floor: FloatArray
    weight: FloatArray
    tier: IntArray
    critical: BoolArray
    time: FloatArray | IntArray
    step_floor: IntArray
    step_rest: IntArray
    n_steps: int
    stock: FloatArray  # per pool
    pool_demand: FloatArray  # per pool
    pool_item: list[str]
    pool_unit: list[str]
    has_point: bool

    @cached_property
    def id_rank(self) -> IntArray:
        """Rank of every request id (computed once, shared by the policies that order by id)."""
        return _rank(self.ids)

    def tie_break(self, idx: IntArray) -> TieBreak:
        ids = self.ids[idx]
        return TieBreak(weight=self.weight[idx], time=self.time[idx], id_rank=_rank(ids))


def _rank(values: npt.NDArray[np.generic]) -> IntArray:
    codes, _ = pd.factorize(values, sort=True)
    return codes.astype(np.int64)


def _fail_rows(
    table: str, column: str, problem: str, bad: BoolArray, ids: npt.NDArray[np.generic] | None
) -> None:
    if not bad.any():
        return
    where = np.flatnonzero(bad)
    example = f"request_id {ids[where[0]]!r}" if ids is not None else f"row {where[0]}"
    raise ValueError(
        f"{table} column {column!r} {problem}: {where.size} row(s), first at {example}"
    )


def _numeric(
    frame: pd.DataFrame, column: str, table: str, ids: npt.NDArray[np.generic] | None
) -> FloatArray:
    series = frame[column]
    if pd.api.types.is_bool_dtype(series):
        raise ValueError(f"{table} column {column!r} must be numeric, not true/false")
    if not pd.api.types.is_numeric_dtype(series):
        converted = pd.to_numeric(series, errors="coerce")
        bad = converted.isna().to_numpy() & series.notna().to_numpy()
        _fail_rows(table, column, "must be numeric", bad, ids)
        series = converted
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    _fail_rows(table, column, "has missing or infinite values", ~np.isfinite(values), ids)
    return values


def _whole(
    values: FloatArray, column: str, table: str, ids: npt.NDArray[np.generic] | None
) -> None:
    _fail_rows(table, column, "must hold whole numbers", values != np.floor(values), ids)
    _fail_rows(table, column, "must be >= 0", values < 0, ids)


def _require(frame: pd.DataFrame, columns: tuple[str, ...], table: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{table} is missing column(s) {', '.join(map(repr, missing))}; "
            f"expected {', '.join(columns)}"
        )


def _labels(
    frame: pd.DataFrame, column: str, table: str, ids: npt.NDArray[np.generic] | None
) -> tuple[IntArray, pd.Index]:
    codes, uniques = pd.factorize(frame[column], use_na_sentinel=True)
    _fail_rows(table, column, "has missing values", codes < 0, ids)
    return codes.astype(np.int64), pd.Index(uniques)


def _times(series: pd.Series, ids: npt.NDArray[np.generic]) -> FloatArray | IntArray:
    """A sort key for the request time: nanoseconds for datetimes, the number otherwise."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        _fail_rows("requests", "requested_at", "has missing values", np.isnan(values), ids)
        return values
    try:
        if pd.api.types.is_datetime64_any_dtype(series):
            stamps = pd.to_datetime(series, utc=True)
        else:
            try:
                # the fast path for the usual ISO 8601 text; anything else is parsed per value
                stamps = pd.to_datetime(series, utc=True, format="ISO8601")
            except ValueError:
                stamps = pd.to_datetime(series, utc=True, format="mixed")
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"requests column 'requested_at' has a value that is not a date: {exc}"
        ) from exc
    _fail_rows("requests", "requested_at", "has missing values", stamps.isna().to_numpy(), ids)
    return stamps.dt.as_unit("ns").astype("int64").to_numpy()


def _encode(
    requests: pd.DataFrame, stock: pd.DataFrame, *, life_critical_max_tier: int | None
) -> _Encoded:
    _require(requests, REQUEST_COLUMNS, "requests")
    _require(stock, STOCK_COLUMNS, "stock")
    has_point = "point" in stock.columns
    if has_point and "point" not in requests.columns:
        raise ValueError(
            "stock has a 'point' column but requests do not: give each request the "
            "distribution point it draws on, or drop 'point' from stock"
        )

    ids_series = requests["request_id"]
    if ids_series.isna().any():
        raise ValueError("requests column 'request_id' has missing values")
    ids = ids_series.to_numpy()
    if ids.dtype == object and pd.api.types.infer_dtype(ids_series, skipna=False) not in (
        "string",
        "integer",
    ):
        raise ValueError("requests column 'request_id' must hold only text or only whole numbers")
    duplicated = ids_series.duplicated().to_numpy()
    _fail_rows("requests", "request_id", "must be unique", duplicated, ids)
    if requests["household_id"].isna().any():
        raise ValueError("requests column 'household_id' has missing values")

    need = _numeric(requests, "need", "requests", ids)
    _whole(need, "need", "requests", ids)
    floor = _numeric(requests, "floor", "requests", ids)
    _whole(floor, "floor", "requests", ids)
    _fail_rows("requests", "floor", "must not exceed need", floor > need, ids)
    weight = _numeric(requests, "weight", "requests", ids)
    _fail_rows("requests", "weight", "must be >= 1", weight < 1, ids)
    tier_f = _numeric(requests, "tier", "requests", ids)
    _whole(tier_f, "tier", "requests", ids)
    tier = tier_f.astype(np.int64)
    time = _times(requests["requested_at"], ids)

    item_code, items = _labels(requests, "item", "requests", ids)
    quantity = _numeric(stock, "quantity", "stock", None)
    _whole(quantity, "quantity", "stock", None)
    stock_item = items.get_indexer(stock["item"])
    if len(stock) and len(requests) and (stock_item < 0).all():
        raise ValueError(
            "no stock row matches any requested item (check the item names and their types: "
            f"requests have e.g. {items[0]!r}, stock has {stock['item'].iloc[0]!r})"
        )
    if has_point:
        point_code, points = _labels(requests, "point", "requests", ids)
        stock_point = points.get_indexer(stock["point"])
        if stock["point"].isna().any():
            raise ValueError("stock column 'point' has missing values")
    else:
        point_code = np.zeros(len(requests), dtype=np.int64)
        points = pd.Index([None])
        stock_point = np.zeros(len(stock), dtype=np.int64)

    # a pool is an (item, point) pair that somebody requested
    pool_key = item_code * len(points) + point_code
    pool_codes, pool_keys = pd.factorize(pool_key)
    pool = pool_codes.astype(np.int64)
    n_pools = len(pool_keys)
    matched = (stock_item >= 0) & (stock_point >= 0)
    stock_pool = pd.Index(pool_keys).get_indexer(
        stock_item[matched] * len(points) + stock_point[matched]
    )
    in_pool = stock_pool >= 0
    pool_stock = np.bincount(
        stock_pool[in_pool], weights=quantity[matched][in_pool], minlength=n_pools
    ).astype(np.float64)
    pool_item = [str(items[k // len(points)]) for k in pool_keys]
    pool_unit = ["units"] * n_pools
    if "unit" in stock.columns:
        units = stock["unit"].to_numpy()[matched][in_pool]
        for p, u in zip(stock_pool[in_pool].tolist(), units.tolist(), strict=True):
            if isinstance(u, str) and u.strip():
                pool_unit[p] = u.strip()

    critical = (
        np.zeros(tier.shape, dtype=bool)
        if life_critical_max_tier is None
        else tier <= life_critical_max_tier
    )
    step_floor, step_rest, n_steps = _steps(tier, critical)
    return _Encoded(
        ids=ids,
        pool=pool,
        need=need,
        floor=floor,
        weight=weight,
        tier=tier,
        critical=critical,
        time=time,
        step_floor=step_floor,
        step_rest=step_rest,
        n_steps=n_steps,
        stock=pool_stock,
        pool_demand=np.bincount(pool, weights=need, minlength=n_pools).astype(np.float64),
        pool_item=pool_item,
        pool_unit=pool_unit,
        has_point=has_point,
    )


def _steps(tier: IntArray, critical: BoolArray) -> tuple[IntArray, IntArray, int]:
    """Order of service: critical tiers (floor, then rest), other floors, other rests."""
    tiers = np.sort(pd.unique(tier))
    rank = np.searchsorted(tiers, tier)
    is_critical_tier = np.zeros(tiers.size, dtype=bool)
    is_critical_tier[rank[critical]] = True
    # critical tiers are the lowest ones, so they take the first ranks
    n_critical = int(is_critical_tier.sum())
    n_other = tiers.size - n_critical
    r = np.arange(tiers.size)
    floor_step = np.where(is_critical_tier, 2 * r, 2 * n_critical + (r - n_critical))
    rest_step = np.where(is_critical_tier, 2 * r + 1, 2 * n_critical + n_other + (r - n_critical))
    return (
        floor_step[rank].astype(np.int64),
        rest_step[rank].astype(np.int64),
        max(1, 2 * int(tiers.size)),
    )


# --------------------------------------------------------------------------- solving


def _solve(
    data: _Encoded, policy: str, *, seed: int | None, integral: bool
) -> tuple[FloatArray, FloatArray]:
    """Allocation per request and water level per pool (NaN where not applicable)."""
    tie_for = data.tie_break if integral else None
    n_pools = data.stock.shape[0]
    if policy in ("equity", "proportional", "equal"):
        if policy == "equity":
            rate = data.need * data.weight
            floor, step_floor, step_rest, n_steps = (
                data.floor,
                data.step_floor,
                data.step_rest,
                data.n_steps,
            )
        else:
            rate = data.need.copy() if policy == "proportional" else np.ones_like(data.need)
            floor = np.zeros_like(data.need)
            step_floor = np.zeros_like(data.pool)
            step_rest = np.ones_like(data.pool)
            n_steps = 2
        solution = equity_fill(
            data.pool, step_floor, step_rest, n_steps, data.need, floor, rate, data.stock, tie_for
        )
        return solution.allocated, solution.level
    if policy == "fcfs":
        order = np.lexsort((data.id_rank, data.time))
    else:
        # draw in request-id order so the lottery does not depend on the row order of the input
        by_id = np.argsort(data.id_rank, kind="stable")
        ticket = np.empty(by_id.size, dtype=np.int64)
        ticket[by_id] = np.random.default_rng(seed).permutation(by_id.size)
        order = np.argsort(ticket, kind="stable")
    allocated = sequential_fill(data.pool, order, data.need, data.stock)
    return allocated, np.full(n_pools, np.nan)


# --------------------------------------------------------------------------- explaining


def _result_frame(
    requests: pd.DataFrame,
    data: _Encoded,
    policy: str,
    allocated: FloatArray,
    level: FloatArray,
    *,
    explain: bool = True,
) -> pd.DataFrame:
    alloc = np.rint(allocated).astype(np.int64)
    need = data.need.astype(np.int64)
    floor = data.floor.astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        coverage = np.where(
            data.pool_demand > 0, np.minimum(1.0, data.stock / data.pool_demand), 1.0
        )
    # the input columns are passed as Series (same index) so they keep their dtype as is
    columns: dict[str, object] = {
        "request_id": requests["request_id"],
        "allocated": alloc,
        "item": requests["item"],
    }
    if data.has_point:
        columns["point"] = requests["point"]
    columns.update(
        {
            "tier": data.tier,
            "life_critical": data.critical,
            "need": need,
            "floor": floor,
            "weight": data.weight,
            "floor_met": alloc >= floor,
            "capped_by_need": alloc == need,
            "water_level": level[data.pool],
            "stock_coverage": coverage[data.pool],
            "policy": pd.Categorical.from_codes(np.zeros(alloc.size, dtype=np.int8), [policy]),
        }
    )
    if explain:
        columns["explanation"] = _sentences(requests, data, policy, alloc, need, floor, coverage)
    return pd.DataFrame(columns, index=requests.index)


def _sentences(
    requests: pd.DataFrame,
    data: _Encoded,
    policy: str,
    alloc: IntArray,
    need: IntArray,
    floor: IntArray,
    coverage: FloatArray,
) -> pd.Categorical:
    """One sentence per request, formatted once per distinct sentence.

    A sentence is assembled from the numbers received and asked and three parts that each
    take few values (pool, weight and policy part), so it is formatted once per distinct
    combination and shared through a Categorical: one Python string per request would cost
    more than the whole allocation.
    """
    n = alloc.size
    is_equity = policy == "equity"
    # pools that read alike (same item, unit and rounded-down coverage) share their part
    percent = np.where(coverage >= 1, 100, np.floor(coverage * 100)).astype(np.int64)
    pool_parts = [
        (data.pool_unit[p], data.pool_item[p], int(percent[p])) for p in range(percent.size)
    ]
    part_code, part_values = pd.factorize(pd.Series(pool_parts, dtype=object))
    pool_text = [(u, i, _pool_part(u, i, pct)) for u, i, pct in part_values]

    weight_tenths = np.rint(data.weight * 10).astype(np.int64)
    reason_text: list[str] = [""]
    reason_code = np.zeros(n, dtype=np.int64)
    if "weight_reason" in requests.columns:
        raw_code, raw_reasons = pd.factorize(requests["weight_reason"], use_na_sentinel=True)
        # reasons that read the same after trimming share one code; 0 means "no reason"
        trimmed = ["" if pd.isna(r) else str(r).strip() for r in raw_reasons]
        canon_code, reason_values = pd.factorize(pd.Index(["", *trimmed], dtype=object))
        reason_text = [str(r) for r in reason_values]
        reason_code = canon_code[raw_code + 1].astype(np.int64)
    status = np.select(
        [alloc >= need, alloc < floor, floor > 0], [_FULL, _BELOW_FLOOR, _FLOOR_MET], _NO_FLOOR
    )
    critical = data.critical if is_equity else np.zeros(n, dtype=bool)
    # Inputs that do not change the text are zeroed, so that distinct combinations give
    # distinct sentences: the reason only shows for a weight above 1, the floor only in
    # equity sentences of requests not met in full outside life-critical tiers, and a
    # request for nothing gets one fixed sentence per pool.
    reason_code = np.where(weight_tenths > 10, reason_code, 0)
    if not is_equity:
        status = np.where(status == _FULL, _FULL, _NO_FLOOR)
    status = np.where(critical & (status != _FULL), _NO_FLOOR, status)
    shown_floor = np.where((status == _BELOW_FLOOR) | (status == _FLOOR_MET), floor, 0)
    nothing = need == 0
    weight_tenths = np.where(nothing, 0, weight_tenths)
    reason_code = np.where(nothing, 0, reason_code)
    status = np.where(nothing, _FULL, status)
    shown_floor = np.where(nothing, 0, shown_floor)
    critical = critical & ~nothing

    codes, rows = _combinations(
        [
            part_code[data.pool],
            weight_tenths,
            reason_code,
            status,
            shown_floor,
            critical.astype(np.int64),
            alloc,
            need,
        ]
    )
    weight_key = list(zip(weight_tenths[rows].tolist(), reason_code[rows].tolist(), strict=True))
    weight_text = {key: _weight_part(key[0] / 10, reason_text[key[1]]) for key in set(weight_key)}
    tail_key = list(
        zip(status[rows].tolist(), shown_floor[rows].tolist(), critical[rows].tolist(), strict=True)
    )
    tail_text = {key: _policy_part(policy, *key) for key in set(tail_key)}
    sentences = [
        f"You received {a} of {b} {pool_text[p][2]}; {weight_text[w]}. {tail_text[t]}"
        if b > 0
        else f"You asked for no {pool_text[p][0]} of {pool_text[p][1]}, so none were allocated."
        for p, w, t, a, b in zip(
            part_code[data.pool[rows]].tolist(),
            weight_key,
            tail_key,
            alloc[rows].tolist(),
            need[rows].tolist(),
            strict=True,
        )
    ]
    categories = pd.Index(sentences, dtype=object)
    try:
        dtype = pd.CategoricalDtype(categories)
    except ValueError:
        # only if free-text reasons make two different combinations read alike
        remap, distinct = pd.factorize(categories)
        codes = remap[codes]
        dtype = pd.CategoricalDtype(pd.Index(distinct, dtype=object))
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


def _combinations(parts: list[IntArray]) -> tuple[IntArray, IntArray]:
    """Code of each row's combination of ``parts`` (ints >= 0) and the first row of each code."""
    key = np.zeros(parts[0].size, dtype=np.int64)
    span = 1
    for values in parts:
        size = int(values.max()) + 1 if values.size else 1
        if span * size >= 2**62:
            # keep the combined key within int64 by renumbering the combinations so far
            key = pd.factorize(key)[0].astype(np.int64)
            span = int(key.max()) + 1 if key.size else 1
        key = key * size + values
        span *= size
    codes = pd.factorize(key)[0].astype(np.int64)
    if codes.size == 0:
        return codes, codes
    # factorize numbers combinations in order of first appearance
    seen = np.maximum.accumulate(codes)
    first = np.flatnonzero(np.concatenate(([True], codes[1:] > seen[:-1])))
    return codes, first


_FULL, _BELOW_FLOOR, _FLOOR_MET, _NO_FLOOR = 0, 1, 2, 3


def _pool_part(unit: str, item: str, percent: int) -> str:
    return f"{unit} of {item} you asked for; stock covered {percent}% of all requests for {item}"


def _weight_part(weight: float, reason: str) -> str:
    if weight > 1 and reason:  # read back by quoted_weight_reason: change both together
        return f"your weight {weight:.1f} came from {reason}"
    if weight > 1:
        return f"your weight is {weight:.1f}"
    return "your weight is 1.0 (no added vulnerability recorded)"


_QUOTED_REASON = re.compile(r"; your weight \d+\.\d came from (.+?)\.(?: |$)")


def quoted_weight_reason(explanation: str) -> str:
    """The ``weight_reason`` an explanation quotes for its request's weight, or "" when it quotes none.

    A platform that shows the explanation in another language words the numbers itself and takes the reason from
    here, so it needs no second copy of the sentence's grammar.

    Parameters
    ----------
    explanation : str
        A sentence of the ``explanation`` column of :func:`allocate`.

    Returns
    -------
    str
        The reason as given in the requests' ``weight_reason`` column (trimmed; a reason holding ". " is cut
        there).

    Examples
    --------
    >>> quoted_weight_reason("You received 2 of 3 parcels of water you asked for; stock covered 66% of all "
    ...                      "requests for water; your weight 1.8 came from one resident over 80. The stock was "
    ...                      "shared by need and weight.")
    'one resident over 80'
    >>> quoted_weight_reason("You received 3 of 3 parcels of water you asked for; stock covered 100% of all "
    ...                      "requests for water; your weight is 1.0 (no added vulnerability recorded). You got "
    ...                      "all you asked for.")
    ''
    """
    found = _QUOTED_REASON.search(explanation)
    return found.group(1) if found else ""


def _policy_part(policy: str, status: int, floor: int, critical: bool) -> str:
    """The closing sentence: why the request got what it got under ``policy``."""
    full = status == _FULL
    if policy != "equity":
        return ("Your request was met in full. " if full else "") + _POLICY_SENTENCE[policy]
    if critical:
        return "Life-critical requests are served first" + (
            ", and yours was met in full."
            if full
            else ", but stock ran out before yours was met in full."
        )
    if full:
        return "Your request was met in full."
    if status == _BELOW_FLOOR:
        return (
            "Survival minimums are served first, tier by tier, but stock ran out before "
            f"yours ({floor}) was reached."
        )
    if status == _FLOOR_MET:
        return (
            f"Every household's survival minimum came first and yours ({floor}) was met; "
            "the rest was shared by need and weight."
        )
    return "The stock was shared by need and weight."
