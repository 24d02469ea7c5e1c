"""The day loop's figures of unmet need, day by day (:class:`DailyNeed`).

At ten thousand households these figures cost as much as the rest of the day, so each is
computed with as few passes over the households as gives the same numbers, to the bit, as the
plain formulas: the same sums over the same values in the same order (numpy's pairwise sum
depends on the order and grouping of the values it adds, so a sum over households is always
taken over the same contiguous array: the day's amounts, or those of the vulnerable households
gathered in household order). Counts are integers, so any way of counting gives the same.
Copies of a population run side by side (``_simulation_batch``) get each copy's figures from its
own rows: a sum along the last axis of a C-ordered array sums each row as a 1-D array is summed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class DailyNeed:
    """Unmet need per day: households short, outstanding need events, Gini and concentration.

    ``tier_rows``: for tiers 0, 1 and 2, the kinds (rows of ``pending``) of that tier, as runs
    of consecutive rows. ``needing``: per kind, the households needing it and their units per
    need event; ``intervals``: per kind, the days between two need events. The outputs are those of :class:`~civicgrid.engine._simulation_kernel.RunOutput`.
    """

    def __init__(
        self,
        *,
        days: int,
        area: IntArray,
        n_areas: int,
        vulnerable_idx: IntArray,
        size: npt.NDArray[np.int16],
        inv_units: npt.NDArray[np.float32],
        weight_rank: npt.NDArray[np.float32],
        tier_rows: list[list[slice]],
        n_groups: int,
        needing: Sequence[tuple[npt.NDArray[np.int32], npt.NDArray[np.int16]]],
        intervals: list[int],
        copies: int = 1,
    ) -> None:
        n_kinds, n = inv_units.shape
        # ``copies`` copies of a population of ``one`` households, one after the other (the
        # arrays given are the copies'; ``needing``, ``weight_rank``: one copy's): each copy's
        # figures are those it would have alone
        self.copies, self.one = copies, n // copies
        self.copy_starts = np.arange(copies) * self.one
        # a kind few households need is summed over those households only, when that gives the
        # same sum: when the sum is exact whatever the order (:func:`exact_in_any_order`)
        max_units = [int(units.max()) if units.size else 1 for _, units in needing]
        self.few = [
            (k, needing[k][0]) for k in range(n_kinds)
            if 4 * needing[k][0].size < n
            and exact_in_any_order(count=needing[k][0].size, events=days // intervals[k] + 1,
                                   max_units=max_units[k])
        ]
        few = {k for k, _ in self.few}
        self.many = [k for k in range(n_kinds) if k not in few]
        # at ten thousand households a numpy call costs about as much as its work, so the day's
        # figures take as few calls as give the same numbers: the sums of the kinds few need are
        # one gather and one ``reduceat`` (over the kinds some household needs: ``reduceat``
        # reads a value for each start)
        self.few_kinds = [k for k, needing_k in self.few if needing_k.size]
        self.few_positions = np.concatenate(
            [k * n + c * self.one + needing[k][0].astype(np.int64)
             for c in range(copies) for k in self.few_kinds] or [np.zeros(0, np.int64)]
        )
        sizes = [needing[k][0].size for _ in range(copies) for k in self.few_kinds]
        self.few_starts = np.cumsum([0] + sizes[:-1])
        # when the kinds few need come after the others, their amounts are made at their
        # positions only and added into the day's depth kind after kind (a household's depth
        # adds its kinds in kind order, as the sum over the rows does; adding a zero changes
        # nothing), not over rows of mostly zeros: the same numbers with fewer passes
        self.sparse = bool(self.few_kinds) and max(self.many, default=-1) < min(k for k, _ in self.few)
        if self.sparse:
            by_kind = [np.concatenate([c * self.one + needing[k][0].astype(np.int64) for c in range(copies)])
                       for k in self.few_kinds]
            self.sparse_households = by_kind
            self.sparse_positions = np.concatenate([k * n + hh for k, hh in zip(self.few_kinds, by_kind, strict=True)])
            self.sparse_inv = inv_units.reshape(-1).take(self.sparse_positions)
            cuts = np.cumsum([0] + [hh.size for hh in by_kind]).tolist()
            self.sparse_slices = [slice(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
            # the same sums in the order kind, then copy (exact: any order gives them)
            self.sparse_starts = np.cumsum(
                [0] + [needing[k][0].size for k in self.few_kinds for _ in range(copies)][:-1])
            self.dense_rows = len(self.many)
        # households counted each day: short, short and vulnerable, with an open need of each tier
        self.counted = np.empty((2 + len(tier_rows), n), dtype=bool)
        self.area, self.n_areas, self.vulnerable_idx, self.size = area, n_areas, vulnerable_idx, size
        self.inv_units, self.weight_rank, self.tier_rows = inv_units, weight_rank, tier_rows
        # households sorted by area (as synthetic and most registry populations are): counts per
        # area are sums over runs of households (one ``reduceat``, over the areas with households)
        self.area_runs = area_runs(area, n_areas)
        self.vulnerable = np.zeros(n, dtype=bool)
        self.vulnerable[vulnerable_idx] = True
        # the ranks of the sorted amounts (see _gini), made once
        self.ranks = np.arange(1, self.one + 1, dtype=np.float64)
        self.day = 0
        self.unmet = np.zeros((days, copies, n_groups), dtype=np.int32)
        self.shortfall = np.zeros((days, copies, n_groups))
        self.unmet_by_area = np.zeros((days, n_areas), dtype=np.int32)
        self.shortfall_days = np.zeros(n, dtype=np.float32)
        self.gini = np.full((days, copies), np.nan)
        self.concentration = np.full((days, copies), np.nan)
        # rewritten every day
        self.outstanding = np.empty((n_kinds, n), dtype=np.float32)
        self.depth = np.empty(n, dtype=np.float32)
        self.open = np.empty((n_kinds, n), dtype=bool)
        self.flags = np.empty(n, dtype=bool)

    def record(self, pending: npt.NDArray[np.int16]) -> None:
        """The figures of the next day, from its open needs ([kind, household] units) at its end."""
        day = self.day
        outstanding, depth, open_, flags = self.outstanding, self.depth, self.open, self.flags
        # unmet need: outstanding need events (a missed food delivery is 1, half of it 0.5)
        few_sums = None
        if self.sparse:
            m = self.dense_rows
            np.multiply(pending[:m], self.inv_units[:m], out=outstanding[:m])
            outstanding[:m].sum(axis=0, out=depth)
            amounts = np.multiply(pending.reshape(-1).take(self.sparse_positions), self.sparse_inv)
            for households, part in zip(self.sparse_households, self.sparse_slices, strict=True):
                depth[households] = depth.take(households) + amounts[part]
            few_sums = np.add.reduceat(amounts, self.sparse_starts, dtype=np.float64).reshape(
                len(self.few_kinds), self.copies).T
        else:
            np.multiply(pending, self.inv_units, out=outstanding)
            outstanding.sum(axis=0, out=depth)
        self.shortfall_days += depth
        np.greater(pending, 0, out=open_)
        counted = self.counted
        # short of the survival minimum: less than a day's food, or any other need open
        short = np.greater_equal(pending[0], self.size, out=counted[0])
        short |= np.logical_or.reduce(open_[1:], axis=0, out=flags)
        np.logical_and(short, self.vulnerable, out=counted[1])
        tiers = []  # households with an open need of each tier (a tier of one kind: its row)
        for t, runs in enumerate(self.tier_rows):
            if len(runs) == 1 and runs[0].stop - runs[0].start == 1:
                tiers.append(open_[runs[0].start])
                continue
            tier = counted[2 + t]
            if runs:
                np.logical_or.reduce(open_[runs[0]], axis=0, out=tier)
                for rows in runs[1:]:
                    tier |= np.logical_or.reduce(open_[rows], axis=0, out=flags)
            else:
                tier[...] = False
            tiers.append(tier)
        counting = [counted[0], counted[1], *tiers]
        count_by_area(short, self.area_runs, self.area, out=self.unmet_by_area[day])
        if self.copies == 1:
            # one row at a time: ``count_nonzero`` along an axis converts and sums, a row is counted
            counts = [[np.count_nonzero(row) for row in counting]]
            d_all = [float(depth.sum())]
            d_v = [float(depth.take(self.vulnerable_idx).sum())]
        else:
            # each copy's sums as its own array would give them (a reduction along the last axis
            # of a C-ordered array sums each row as it sums a 1-D array)
            counts = [[np.count_nonzero(row[c * self.one:(c + 1) * self.one]) for row in counting]
                      for c in range(self.copies)]
            d_all = depth.reshape(self.copies, self.one).sum(axis=1).tolist()
            d_v = depth.take(self.vulnerable_idx).reshape(self.copies, -1).sum(axis=1).tolist()
        kinds = np.zeros((self.copies, len(outstanding)))  # [copy, kind] outstanding need events
        for k in self.many:
            if self.copies == 1:
                kinds[0, k] = outstanding[k].sum(dtype=np.float64)
            else:
                kinds[:, k] = outstanding[k].reshape(self.copies, self.one).sum(axis=1, dtype=np.float64)
        if few_sums is not None:
            kinds[:, self.few_kinds] = few_sums
        elif self.few_kinds:
            # exact sums (see above), so the order of the additions is immaterial
            kinds[:, self.few_kinds] = np.add.reduceat(
                outstanding.reshape(-1).take(self.few_positions), self.few_starts, dtype=np.float64
            ).reshape(self.copies, -1)
        per_kind = kinds.tolist()
        # every copy's row at once (one conversion of a nested list, not one per copy)
        self.unmet[day] = [(n_short, n_short_v, n_short - n_short_v, *n_tier)
                           for n_short, n_short_v, *n_tier in counts]
        self.shortfall[day] = [(d_all[c], d_v[c], d_all[c] - d_v[c],
                                *(_fold(per_kind[c], runs) for runs in self.tier_rows))
                               for c in range(self.copies)]
        for c in range(self.copies):
            if d_all[c] > 0:
                amounts = depth[c * self.one:(c + 1) * self.one]
                self.gini[day, c] = _gini(amounts, self.ranks)
                # in float32, as the day's amounts are (a float32 by float64 product would skip BLAS)
                self.concentration[day, c] = 2.0 * float(amounts @ self.weight_rank) / d_all[c]
        self.day += 1


def area_runs(area: IntArray, n_areas: int) -> tuple[IntArray, IntArray | None] | None:
    """Where each area's households start, when households are sorted by area (else None), and
    which areas have households (None: every one), for counts per area by ``np.add.reduceat``
    (which reads a run for each start, so only areas with households are given one).

    Examples
    --------
    >>> import numpy as np
    >>> area_runs(np.array([0, 0, 2]), 3)
    (array([0, 2]), array([0, 2]))
    >>> area_runs(np.array([1, 0]), 2) is None
    True
    """
    if area.size == 0 or not bool((np.diff(area) >= 0).all()):
        return None
    starts = np.searchsorted(area, np.arange(n_areas))
    ends = np.searchsorted(area, np.arange(n_areas), side="right")
    with_households = np.flatnonzero(ends > starts)
    if with_households.size == n_areas:
        return starts, None
    return starts[with_households], with_households


def count_by_area(
    mask: npt.NDArray[np.bool_], runs: tuple[IntArray, IntArray | None] | None, area: IntArray, *,
    out: npt.NDArray[np.int32],
) -> npt.NDArray[np.int32]:
    """The households of ``mask`` in each area, into ``out``: by :func:`area_runs`' ``runs`` when
    households are sorted by area, else by counting their areas.

    Examples
    --------
    >>> import numpy as np
    >>> area = np.array([0, 0, 2])
    >>> mask = np.array([True, True, True])
    >>> count_by_area(mask, area_runs(area, 3), area, out=np.zeros(3, np.int32)).tolist()
    [2, 0, 1]
    >>> count_by_area(mask, None, area, out=np.zeros(3, np.int32)).tolist()
    [2, 0, 1]
    """
    if runs is None:
        out[...] = np.bincount(area[mask], minlength=out.size)
        return out
    starts, with_households = runs
    if with_households is None:
        return np.add.reduceat(mask, starts, dtype=np.int32, out=out)
    out[with_households] = np.add.reduceat(mask, starts, dtype=np.int32)
    return out


def exact_in_any_order(*, count: int, events: int, max_units: int) -> bool:
    """Whether a float64 sum of ``count`` float32 amounts ``p * float32(1 / u)`` (``u`` whole,
    up to ``max_units``; ``p`` whole, from 1 to ``events * u``) is exact whatever the order.

    Each amount is at least about ``1 / max_units``, so a multiple of ``2**(e - 23)`` with
    ``e = floor(log2(0.99 / max_units))`` (24-bit mantissa); a float64 holds every multiple of
    that below ``2**(53 + e - 23)``, and every partial sum (of amounts at most about ``events``)
    is below ``count * events``.

    Examples
    --------
    >>> exact_in_any_order(count=500, events=16, max_units=2)
    True
    >>> exact_in_any_order(count=10**9, events=366, max_units=30_000)
    False
    """
    e = math.floor(math.log2(0.99 / max_units))
    return count * events * 1.001 < 2.0 ** (30 + e)


def _gini(depth: npt.NDArray[np.floating], ranks: FloatArray | None = None) -> float:
    """:func:`civicgrid.engine.equity.gini` of the day's unmet need.

    The households without unmet need come first in the sorted order, so their ranks are known;
    the sum runs over the others only (sorting the whole array, mostly zeros, is faster than
    picking the others out first).

    Examples
    --------
    >>> import numpy as np
    >>> _gini(np.array([0., 0., 0., 4.])), _gini(np.array([1., 1.]))
    (0.75, 0.0)

    ``ranks``: ``1, 2, ..., depth.size`` as floats (made once by the caller).
    """
    ordered = np.sort(depth)
    zeros = int(np.searchsorted(ordered, 0, side="right"))
    positive = ordered[zeros:].astype(np.float64)
    total = positive.sum()
    if total == 0:
        return float("nan")
    n = depth.size
    rank = np.arange(zeros + 1, n + 1, dtype=np.float64) if ranks is None else ranks[zeros:]
    return float((2.0 * (rank @ positive) - (n + 1) * total) / (n * total))


def _fold(values: list[float], runs: list[slice]) -> float:
    """The sum of ``values`` over the rows of ``runs``, left to right: what numpy's sum of those
    few values gives (it adds fewer than eight values in order)."""
    total = 0.0
    for rows in runs:
        for v in values[rows]:
            total += v
    return total


def row_runs(rows: IntArray) -> list[slice]:
    """``rows`` (ascending) as runs of consecutive rows, so a reduction over them reads views.

    Examples
    --------
    >>> import numpy as np
    >>> row_runs(np.array([0, 1, 4]))
    [slice(0, 2, None), slice(4, 5, None)]
    """
    runs: list[slice] = []
    for r in rows.tolist():
        if runs and runs[-1].stop == r:
            runs[-1] = slice(runs[-1].start, r + 1)
        else:
            runs.append(slice(r, r + 1))
    return runs
