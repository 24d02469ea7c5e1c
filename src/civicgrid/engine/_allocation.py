"""Vectorised kernels behind :func:`civicgrid.engine.allocation.allocate`.

Everything here works on flat numpy arrays with one entry per request and an integer
``pool`` code per request (a pool is one item, or one item at one distribution point).
There are no Python loops over requests or pools: problems of all pools are solved at once
by sorting on ``(pool, key)`` and taking segmented cumulative sums.

The equity policy is a sequence of *steps* per pool (floors and rest-of-need per tier).
Because every step either fits in the remaining stock (every member gets its cap) or
exhausts it, each pool has at most one *scarce* step, and only that step needs
water-filling and rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Remainders closer than this are treated as equal, so that float noise never decides who
# gets a leftover unit: the documented tie-break (weight, request time, id) does.
_REMAINDER_RESOLUTION = 1e-9


@dataclass(frozen=True)
class TieBreak:
    """Per-request keys for the deterministic tie-break after the remainder.

    ``weight`` (higher first), ``time`` (earlier first, any numeric sort key), ``id_rank``
    (smaller first). Arrays are aligned with the requests they were built for.
    """

    weight: FloatArray
    time: FloatArray | IntArray
    id_rank: IntArray


# Builds the tie-break keys for a subset of requests (given by index), so that costly keys
# such as the rank of string ids are only computed for the few requests that need rounding.
TieBreakFor = Callable[[IntArray], TieBreak]


@dataclass(frozen=True)
class PoolSolution:
    """Allocation of all requests plus per-pool diagnostics.

    ``allocated`` is float in continuous mode and holds whole numbers in integral mode.
    ``level`` is the water level of the pool's scarce step (NaN if the pool had enough
    stock for every step). ``scarce_step`` is the index of that step (``n_steps`` if none).
    """

    allocated: FloatArray
    level: FloatArray
    scarce_step: IntArray


def segment_starts(sorted_groups: IntArray) -> BoolArray:
    """Mark the first element of each run in an array sorted by group."""
    starts = np.ones(sorted_groups.shape[0], dtype=bool)
    starts[1:] = sorted_groups[1:] != sorted_groups[:-1]
    return starts


def segmented_cumsum(values: FloatArray, starts: BoolArray) -> FloatArray:
    """Cumulative sum that restarts at every ``starts`` position."""
    total = np.cumsum(values)
    start_idx = np.flatnonzero(starts)
    offset = np.zeros_like(total)
    # value of the running total just before each segment begins
    offset[start_idx[1:]] = total[start_idx[1:] - 1]
    run_id = np.cumsum(starts) - 1
    return total - offset[start_idx][run_id]


def water_fill(
    group: IntArray,
    lo: FloatArray,
    hi: FloatArray,
    rate: FloatArray,
    budget: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Weighted water-filling of several independent groups at once.

    Request ``i`` receives ``clip(L[g] * rate[i], lo[i], hi[i])`` where the level ``L[g]`` of
    its group is the smallest one at which the group's increments over ``lo`` add up to
    ``budget[g]``. This is the lexicographic max-min of ``allocation / rate`` under the bounds.

    Parameters
    ----------
    group : int array, shape (m,)
        Group code of each request, in ``range(len(budget))``.
    lo, hi : float arrays, shape (m,)
        Lower and upper bound of each request (``lo <= hi``).
    rate : float array, shape (m,)
        Speed at which a request fills per unit of level (need * weight); ``> 0``.
    budget : float array, shape (n_groups,)
        Units to hand out above ``lo`` per group; a budget at or above the group's total
        headroom gives every request its ``hi``.

    Returns
    -------
    allocation : float array, shape (m,)
    level : float array, shape (n_groups,)
        NaN for groups without any request that can still grow.
    """
    n_groups = budget.shape[0]
    level = np.full(n_groups, np.nan)
    rising = hi > lo
    if not rising.any():
        return lo.astype(np.float64, copy=True), level
    g = group[rising]
    start = lo[rising] / rate[rising]
    end = hi[rising] / rate[rising]
    headroom = np.bincount(g, weights=hi[rising] - lo[rising], minlength=n_groups)
    base = np.bincount(g, weights=lo[rising], minlength=n_groups)
    target = base + np.minimum(np.maximum(budget, 0.0), headroom)

    # Breakpoints of the piecewise-linear total sum_i clip(L * rate_i, lo_i, hi_i): at a
    # request's start its rate joins the slope, at its end it leaves and hi joins the constant.
    ev_level = np.concatenate([start, end])
    ev_group = np.concatenate([g, g])
    ev_slope = np.concatenate([rate[rising], -rate[rising]])
    ev_const = np.concatenate([-lo[rising], hi[rising]])
    order = sort_within_groups(ev_group, ev_level)
    ev_level = ev_level[order]
    ev_group = ev_group[order]
    starts = segment_starts(ev_group)
    slope = segmented_cumsum(ev_slope[order], starts)
    const = segmented_cumsum(ev_const[order], starts) + base[ev_group]
    total_at_event = const + slope * ev_level

    tol = 1e-9 * np.maximum(1.0, target)
    reached = np.flatnonzero(total_at_event >= (target - tol)[ev_group])
    first = reached[segment_starts(ev_group[reached])]
    first_group = ev_group[first]
    # Interpolate on the segment that ends at the first breakpoint reaching the target.
    prev = first - 1
    interior = ~starts[first]
    lvl = ev_level[first].copy()
    p = prev[interior]
    gi = first_group[interior]
    lvl[interior] = ev_level[p] + (target[gi] - total_at_event[p]) / slope[p]
    level[first_group] = lvl

    allocation = lo.astype(np.float64, copy=True)
    filled = np.clip(level[g] * rate[rising], lo[rising], hi[rising])
    allocation[rising] = filled
    return allocation, level


def round_largest_remainder(
    group: IntArray,
    x: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    total: FloatArray,
    tie_for: TieBreakFor,
) -> FloatArray:
    """Round a continuous allocation to whole units that add up to ``total[group]``.

    Every request first gets ``floor(x)``; the units left over go one each to the requests
    with the largest remainder, ties broken by higher weight, then earlier request time,
    then smaller id. Results stay within ``[lo, hi]`` and within one unit of ``x``.
    ``lo``, ``hi`` and ``total`` must be whole numbers; ``tie_for`` receives indices into
    these arrays.
    """
    n_groups = total.shape[0]
    base = np.clip(np.floor(x + _REMAINDER_RESOLUTION), lo, hi)
    missing = np.rint(total - np.bincount(group, weights=base, minlength=n_groups)).astype(np.int64)
    remainder_key = np.rint((x - base) / _REMAINDER_RESOLUTION).astype(np.int64)
    result = base.copy()
    if (missing > 0).any():
        _hand_out(result, group, missing, base < hi, -remainder_key, tie_for, step=1)
    if (missing < 0).any():
        # Only reachable through float noise in ``x``; take units back from the requests
        # that would have been served last, so the total is still exact.
        _hand_out(result, group, -missing, base > lo, remainder_key, tie_for, step=-1)
    return result


def sort_within_groups(group: IntArray, key: npt.NDArray[np.generic]) -> IntArray:
    """Permutation that orders by ``group``, then by ``key`` (ties in any order)."""
    order = np.argsort(key)
    grouped = group[order]
    if grouped.size and grouped.max() < 2**16:
        # numpy radix-sorts 16-bit integers with kind="stable": linear instead of n log n
        grouped = grouped.astype(np.uint16)
    return order[np.argsort(grouped, kind="stable")]


def _position_in_group(sorted_groups: IntArray) -> IntArray:
    starts = segment_starts(sorted_groups)
    return np.arange(sorted_groups.size) - np.flatnonzero(starts)[np.cumsum(starts) - 1]


def _hand_out(
    result: FloatArray,
    group: IntArray,
    count: IntArray,
    eligible: BoolArray,
    primary: IntArray,
    tie_for: TieBreakFor,
    *,
    step: int,
) -> None:
    """Add ``step`` to the ``count[g]`` eligible requests of each group with lowest ``primary``.

    Requests tied on ``primary`` at the cut are ordered by the tie-break (for ``step=+1``:
    higher weight, earlier time, smaller id first; for ``step=-1`` the reverse, so units are
    taken back from those who would have been served last). Only the tied requests need
    tie-break keys, which keeps string-id ranking off the hot path.
    """
    idx = np.flatnonzero(eligible & (count[group] > 0))
    if idx.size == 0:
        return
    n_groups = count.shape[0]
    count = np.minimum(count, np.bincount(group[idx], minlength=n_groups))
    order = idx[sort_within_groups(group[idx], primary[idx])]
    g_sorted = group[order]
    at_cut = order[_position_in_group(g_sorted) == count[g_sorted] - 1]
    cut = np.zeros(n_groups, dtype=np.int64)
    cut[group[at_cut]] = primary[at_cut]
    has_cut = np.zeros(n_groups, dtype=bool)
    has_cut[group[at_cut]] = True

    ok = has_cut[group[idx]]
    idx = idx[ok]
    better = idx[primary[idx] < cut[group[idx]]]
    tied = idx[primary[idx] == cut[group[idx]]]
    result[better] += step
    left = count - np.bincount(group[better], minlength=n_groups)
    if tied.size == 0:
        return
    tie = tie_for(tied)
    sign = 1 if step > 0 else -1
    keys = (sign * tie.id_rank, sign * tie.time, -sign * tie.weight, group[tied])
    ranked = tied[np.lexsort(keys)]
    g_ranked = group[ranked]
    result[ranked[_position_in_group(g_ranked) < left[g_ranked]]] += step


def equity_fill(
    pool: IntArray,
    step_floor: IntArray,
    step_rest: IntArray,
    n_steps: int,
    need: FloatArray,
    floor: FloatArray,
    rate: FloatArray,
    stock: FloatArray,
    tie_for: TieBreakFor | None,
) -> PoolSolution:
    """Serve each pool's steps in order; water-fill and round only the scarce step.

    Each request takes part in two steps of its pool: ``step_floor`` (up to its floor) and
    ``step_rest`` (from its floor up to its need), with ``step_floor < step_rest``.
    ``tie_for=None`` returns the continuous (unrounded) allocation.
    """
    n_pools = stock.shape[0]
    cells = n_pools * n_steps
    demand = np.bincount(pool * n_steps + step_floor, weights=floor, minlength=cells)
    demand += np.bincount(pool * n_steps + step_rest, weights=need - floor, minlength=cells)
    cumulative = np.cumsum(demand.reshape(n_pools, n_steps), axis=1)
    short = cumulative > stock[:, None]
    scarce = np.where(short.any(axis=1), short.argmax(axis=1), n_steps).astype(np.int64)
    served_before = np.zeros(n_pools)
    has_prior = (scarce > 0) & (scarce < n_steps)
    served_before[has_prior] = cumulative[has_prior, scarce[has_prior] - 1]
    budget = stock - served_before

    step_limit = scarce[pool]
    allocated = np.where(
        step_rest < step_limit, need, np.where(step_floor < step_limit, floor, 0.0)
    )
    in_floor = step_floor == step_limit
    in_rest = step_rest == step_limit
    members = np.flatnonzero(in_floor | in_rest)
    lo = np.where(in_rest[members], floor[members], 0.0)
    hi = np.where(in_rest[members], need[members], floor[members])
    x, level = water_fill(pool[members], lo, hi, rate[members], budget)
    if tie_for is not None:
        total = np.bincount(pool[members], weights=lo, minlength=n_pools).astype(np.float64)
        total += np.maximum(budget, 0.0)
        x = round_largest_remainder(
            pool[members], x, lo, hi, total, lambda idx: tie_for(members[idx])
        )
    allocated[members] = x
    level[scarce == n_steps] = np.nan
    return PoolSolution(allocated=allocated, level=level, scarce_step=scarce)


def sequential_fill(
    pool: IntArray, order: IntArray, need: FloatArray, stock: FloatArray
) -> FloatArray:
    """Serve requests one after another in ``order`` (a permutation) within each pool."""
    sorted_pool = pool[order]
    # stable re-sort by pool keeps ``order`` inside each pool
    by_pool = order[np.argsort(sorted_pool, kind="stable")]
    return fill_in_pool_order(pool, by_pool, need, stock)


def fill_in_pool_order(pool: IntArray, by_pool: IntArray, need: FloatArray, stock: FloatArray) -> FloatArray:
    """:func:`sequential_fill` given the serving order already grouped by pool (``by_pool``)."""
    p = pool[by_pool]
    wanted = need[by_pool]
    before = segmented_cumsum(wanted, segment_starts(p)) - wanted
    allocated = np.empty_like(need)
    allocated[by_pool] = np.clip(stock[p] - before, 0.0, wanted)
    return allocated
