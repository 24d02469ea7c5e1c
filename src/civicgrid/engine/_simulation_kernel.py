"""The day loop of :mod:`civicgrid.engine.simulation`, on arrays; no pandas on the hot path.

Each day: needs fall due; supplies arrive at the distribution points; the day's disruptions apply;
the volunteers' visits are allocated to the households that asked for one, then each point's stock
to the households that fetch themselves or were visited, both with the allocation policy's own
kernel (:func:`policy_fill`, equal to :func:`civicgrid.engine.allocation.allocate` request for
request: ``tests/engine/test_simulation_allocation.py``); services are done at a visit.

Randomness: the draws of a replication are :class:`~civicgrid.engine._simulation_setup._Setup`'s
(one seed per replication, split into named streams). The policy never consumes a draw, so every
policy of a replication sees the same draws (common random numbers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from civicgrid.engine._allocation import TieBreak, equity_fill, fill_in_pool_order, sequential_fill
from civicgrid.engine._simulation_model import (
    GOODS,
    KIND_INTERVAL,
    KIND_TIER,
    KINDS,
    SIM_FUNCTIONS,
    Population,
)
from civicgrid.engine._simulation_scenario import Scenario
from civicgrid.engine._simulation_setup import (  # noqa: F401 (_day_flags: bench_simulation_mesa)
    DayPlan,
    _day_flags,
    _Setup,
)
from civicgrid.engine._simulation_stats import DailyNeed, count_by_area, row_runs
from civicgrid.engine.allocation import _steps

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_NO_TIER = 99


def policy_fill(
    *,
    pool: IntArray,
    need: FloatArray,
    floor: FloatArray,
    weight: FloatArray,
    tier: IntArray,
    time: FloatArray,
    stock: FloatArray,
    policy: str,
    seed: int | None = None,
    life_critical_max_tier: int | None = 0,
) -> FloatArray:
    """Whole units per request, as :func:`~civicgrid.engine.allocation.allocate` gives them.

    Requests are in id order (the request id is the position); ``pool`` indexes ``stock``.
    This is ``allocate`` without its frame checks and explanations: the same kernels
    (``equity_fill``, ``sequential_fill``) on the same keys.

    Examples
    --------
    >>> import numpy as np
    >>> from civicgrid.engine._simulation_kernel import policy_fill
    >>> policy_fill(pool=np.array([0, 0, 0]), need=np.array([10., 10., 4.]),
    ...             floor=np.array([4., 4., 2.]), weight=np.array([1., 2., 1.]),
    ...             tier=np.array([1, 1, 0]), time=np.array([0., 1., 2.]),
    ...             stock=np.array([15.]), policy="equity").tolist()
    [4.0, 7.0, 4.0]
    """
    n = need.size
    if n == 0:
        return np.zeros(0)
    if policy != "lottery" and bool((need == 1).all() and (floor == need).all()):
        return unit_fill(
            pool=pool, weight=weight, tier=tier, time=time, stock=stock, policy=policy,
            life_critical_max_tier=life_critical_max_tier,
        )
    if policy in ("equity", "proportional", "equal"):
        if policy == "equity":
            critical = (
                np.zeros(n, dtype=bool)
                if life_critical_max_tier is None
                else tier <= life_critical_max_tier
            )
            step_floor, step_rest, n_steps = _steps(tier, critical)
            rate, lo = need * weight, floor
        else:
            rate = need.copy() if policy == "proportional" else np.ones_like(need)
            lo = np.zeros_like(need)
            step_floor, step_rest, n_steps = np.zeros(n, np.int64), np.ones(n, np.int64), 2

        def tie_for(idx: IntArray) -> TieBreak:
            # ids are positions, so the rank of the ids of ``idx`` (ascending) is its order
            return TieBreak(weight=weight[idx], time=time[idx], id_rank=np.arange(idx.size))

        solution = equity_fill(pool, step_floor, step_rest, n_steps, need, lo, rate, stock, tie_for)
        return np.rint(solution.allocated)
    if policy == "fcfs":
        by_pool = _pool_time_order(pool, time)
        if by_pool is not None:
            return np.rint(fill_in_pool_order(pool, by_pool, need, stock))
        order = np.lexsort((np.arange(n), time))
    elif policy == "lottery":
        ticket = np.random.default_rng(seed).permutation(n)
        order = np.argsort(ticket, kind="stable")
    else:
        raise ValueError(f"unknown policy {policy!r}")
    return np.rint(sequential_fill(pool, order, need, stock))


def unit_fill(
    *,
    pool: IntArray,
    weight: FloatArray,
    tier: IntArray,
    time: FloatArray,
    stock: FloatArray,
    policy: str,
    life_critical_max_tier: int | None = 0,
) -> FloatArray:
    """:func:`policy_fill` for requests of one unit each whose floor is that unit (a visit).

    Water-filling one-unit requests by ``allocated / weight`` and rounding by largest remainder,
    ties to higher weight, earlier time, smaller id, hands the pool's units out one by one in
    that order; ``equity`` serves tier by tier first (with one-unit floors every tier's step
    is its floor step, so the life-critical split changes nothing), ``proportional`` and
    ``equal`` ignore tiers, ``fcfs`` goes by time then id. So one sort and a sequential fill
    give the kernel's answer (checked against ``allocate`` in the tests).
    """
    n = weight.size
    ids = np.arange(n)
    if policy not in ("equity", "proportional", "equal", "fcfs"):
        raise ValueError(f"unit_fill does not cover policy {policy!r}")
    by_pool = _pool_time_order(pool, time, tier=tier if policy == "equity" else None,
                               weight=None if policy == "fcfs" else weight)
    if by_pool is not None:
        return np.rint(_units_in_pool_order(pool, by_pool, stock))
    if policy == "equity":
        order = np.lexsort((ids, time, -weight, tier))
    elif policy in ("proportional", "equal"):
        order = np.lexsort((ids, time, -weight))
    else:
        order = np.lexsort((ids, time))
    return np.rint(sequential_fill(pool, order, np.ones(n), stock))


def _units_in_pool_order(pool: IntArray, by_pool: IntArray, stock: FloatArray) -> FloatArray:
    """:func:`~civicgrid.engine._allocation.fill_in_pool_order` for requests of one unit each:
    the units already served in a pool before a request are its rank in the pool (the same
    numbers, without the cumulative sums)."""
    p = pool[by_pool]
    position = np.arange(p.size)
    starts = np.ones(p.size, dtype=bool)
    starts[1:] = p[1:] != p[:-1]
    rank = position - np.maximum.accumulate(np.where(starts, position, 0))
    allocated = np.empty(p.size)
    allocated[by_pool] = np.clip(stock[p] - rank, 0.0, 1.0)
    return allocated


def _pool_time_order(
    pool: IntArray, time: FloatArray, *, tier: IntArray | None = None, weight: FloatArray | None = None
) -> IntArray | None:
    """Requests by pool, then tier (if given), then weight, highest first (if given), then time,
    then id (position): the order in which :func:`sequential_fill` serves them after the policy's
    ``lexsort``, from one stable sort of an integer key when the times are whole days (in the
    simulation they are: the day a need arose); None when they are not.

    Examples
    --------
    >>> import numpy as np
    >>> _pool_time_order(np.array([1, 0, 1, 0]), np.array([2., 5., 1., 5.])).tolist()
    [1, 3, 2, 0]
    >>> _pool_time_order(np.array([0, 0, 0]), np.array([1., 0., 0.]),
    ...                  weight=np.array([2., 1., 2.])).tolist()
    [2, 0, 1]
    """
    n = pool.size
    if n == 0:
        return None
    if time.dtype.kind in "iu":
        # whole days already (the day loop's own): no conversion, no check that they are whole
        whole = time
        if time.dtype.kind == "i" and whole.min() < 0:
            return None
    else:
        whole = time.astype(np.int64)
        if not (whole == time).all() or whole.min() < 0:
            return None
    span = int(whole.max()) + 1
    cells = int(pool.max()) + 1
    if tier is None and weight is None and cells * span <= 2**15:
        # the same key, made in 16 bits directly
        return np.argsort(pool.astype(np.int16) * np.int16(span) + whole.astype(np.int16, copy=False), kind="stable")
    prefix = pool.astype(np.int64)
    if tier is not None:
        levels = int(tier.max()) + 1
        prefix = prefix * levels + tier
        cells *= levels
    if weight is not None:
        # the rank of -weight among the distinct weights: higher weight first
        distinct, rank = np.unique(-weight, return_inverse=True)
        prefix = prefix * distinct.size + rank.reshape(-1)
        cells *= distinct.size
    cells *= span
    if cells >= 2**62:
        return None
    key = prefix * span + whole
    # a stable sort keeps ids in order within equal keys; on 16-bit keys numpy's stable sort is
    # a radix sort, linear in n
    return np.argsort(key.astype(np.int16) if cells <= 2**15 else key, kind="stable")


@dataclass(frozen=True)
class RunOutput:
    """One replication under one policy: daily series and end-of-run figures."""

    policy: str
    # [day, group] households short of their survival minimum at the end of the day (groups: all,
    # vulnerable, other; then households with any open need of tier 0, 1, 2)
    unmet: npt.NDArray[np.int32]
    # [day, group] unmet need: outstanding need events (same groups; tiers: of that tier's kinds)
    shortfall: FloatArray
    served: npt.NDArray[np.int32]  # [day] households reached (fetched or visited)
    unmet_by_area: npt.NDArray[np.int32]  # [day, area]
    coverage: npt.NDArray[np.float32]  # [day, function] share of needing households covered
    wait_sum: FloatArray  # [kind, vulnerable] days waited by resolved needs
    wait_count: FloatArray  # [kind, vulnerable]
    unresolved: FloatArray  # [kind, vulnerable] needs still open at the end
    shortfall_days: npt.NDArray[np.float32]  # [household] unmet need summed over the days
    # by the day a need arose ([day, tier, vulnerable]): needs that arose (a need arises when a
    # household with nothing open of that kind falls due), days waited by those met, those met
    # within HELP_WITHIN_DAYS days, and the days waited so far by those still open at the end
    arisen: FloatArray
    waited: FloatArray
    within: FloatArray
    waited_open: FloatArray
    gini: FloatArray  # [day] Gini of the day's unmet need across households (NaN: none unmet)
    concentration: FloatArray  # [day] its concentration index along the relief weight (NaN: none)


HELP_WITHIN_DAYS = 1  # "helped within a day": met the day it arose or the next


GROUPS: tuple[str, ...] = ("all", "vulnerable", "other", "tier0", "tier1", "tier2")


def run_policy(setup: _Setup, policy: str) -> RunOutput:
    """Simulate ``setup.days`` days under ``policy``; the draws all come from ``setup``
    (see :func:`run_copies`)."""
    (output,) = run_copies(setup, policy)
    return output


def run_copies(setup: _Setup, policy: str) -> list[RunOutput]:
    """Simulate ``setup.days`` days under ``policy``; the draws all come from ``setup``: one
    output per copy of the population it holds (one for a replication's :class:`_Setup`; one per
    replication for :class:`~civicgrid.engine._simulation_batch.BatchSetup`, whose copies never
    share an area, a point or a figure, so each gets the numbers it would get alone).

    At ten thousand households the arithmetic of a day is small and numpy's calls and passes
    over the households are most of the time, so the loop makes as few as give the same
    numbers: what does not depend on the policy (the needs falling due, the day's disruptions,
    coverage, visit capacity, supply arrivals) comes from :class:`_Setup`, computed once per
    replication or once per population; an area or point with enough for every request serves
    them all whatever the policy, so only short ones are ordered; needs met are counted in one
    table by the day met and the day arisen, reduced at the end (the needs that arose are those
    met plus those still open); the day's figures of unmet need are
    :class:`~civicgrid.engine._simulation_stats.DailyNeed`'s. ``tests/engine/test_simulation_loop.py``
    checks every output, to the bit, against the loop this one replaced.
    """
    pop, days, copies = setup.population, setup.days, setup.copies
    n, n_areas, n_kinds = pop.n, len(pop.areas), len(KINDS)
    fixed = setup.fixed
    one = n // copies  # households in a copy
    pending = np.zeros((n_kinds, n), dtype=np.int16)
    since = np.full((n_kinds, n), -1, dtype=np.int16)
    pending_flat, since_flat = pending.reshape(-1), since.reshape(-1)  # views
    weight, area, vulnerable = fixed.weight, fixed.area, pop.vulnerable
    can_fetch = pop.can_fetch
    stock = np.zeros(n_areas * len(GOODS))  # [point]: good * areas + area
    served = np.zeros((days, copies), dtype=np.int32)
    copy_starts = range(0, n, one)
    coverage_series = np.zeros((days, copies, len(SIM_FUNCTIONS)), dtype=np.float32)
    goods_floor_food = pop.size.astype(np.float64)  # one day of food per person (Sphere minimum)
    goods_rows = slice(GOODS[0], GOODS[-1] + 1)
    need = DailyNeed(days=days, area=area, n_areas=n_areas, vulnerable_idx=fixed.vulnerable_idx,
                     size=pop.size, inv_units=fixed.inv_units, weight_rank=fixed.weight_rank32,
                     tier_rows=[row_runs(np.flatnonzero(t == KIND_TIER)) for t in (0, 1, 2)],
                     n_groups=len(GROUPS), needing=setup.one_fixed.has,
                     intervals=[int(i) for i in KIND_INTERVAL], copies=copies)
    # needs met: [day met, copy * day arisen * kind * vulnerable]
    cells = n_kinds * 2
    met_table = np.zeros((days, copies * days * cells), dtype=np.int64)
    kind_vulnerable, point_flat, point_bounds = setup.met_slots, fixed.point, fixed.point_bounds
    due_parts = setup.due_parts
    intervals = [int(i) for i in KIND_INTERVAL]
    wanting = np.empty((n_kinds, n), dtype=bool)  # rewritten every day
    wanting_flat = wanting.reshape(-1)  # a view
    service_pos, service_hh = fixed.service_pos, fixed.service_hh
    no_one = np.zeros(n, dtype=bool)
    asked = np.empty(n_areas, dtype=np.int32)  # askers per area, rewritten every day

    for day in range(days):
        # needs fall due, every kind at once (a kind's due households are distinct)
        parts = [due_parts[k][(-day) % intervals[k]] for k in range(n_kinds)]
        due = np.concatenate([part[0] for part in parts])
        before = pending_flat.take(due)  # ``take``: a gather three times faster than ``[]``
        fresh = before == 0
        since_flat[np.compress(fresh, due)] = day  # ``compress``: faster than a boolean ``[]``
        pending_flat[due] = before + np.concatenate([part[1] for part in parts])

        plan = setup.plan(day)
        coverage_series[day] = plan.coverage
        if plan.arrivals is not None:
            stock += plan.arrivals

        np.greater(pending, 0, out=wanting)
        if plan.kind_covered is not None:
            wanting &= plan.kind_covered
        reachable = plan.reachable
        any_goods = wanting[goods_rows].any(axis=0)
        # the services wanted, from the few positions where a household needs one
        service_wanted = wanting_flat.take(service_pos)
        any_service = np.zeros(n, dtype=bool)
        any_service[np.compress(service_wanted, service_hh)] = True
        if plan.self_fetch:
            fetch = any_goods & can_fetch
            if reachable is not None:
                fetch &= reachable
            asks = any_goods & ~fetch
            asks |= any_service
        else:
            fetch = no_one
            asks = np.logical_or(any_goods, any_service)
        if reachable is not None:
            asks &= reachable
        if plan.report_rate < 1.0:
            seen = setup.phone_draw(day)
            asks &= seen < plan.report_rate

        count_by_area(asks, need.area_runs, area, out=asked)
        anyone_asks = bool(asked.any())
        if anyone_asks:
            if (asked <= plan.visits).all():
                # every area has a visit for each of its askers: every policy visits them all
                visited = asks
            else:
                who = np.flatnonzero(asks)
                visited = _visit(policy, asks, who, area.take(who), asked, wanting, since, weight, plan,
                                 seed=int(setup.lottery_seeds[day]) if policy == "lottery" else 0)
            reached = fetch | visited
        else:
            visited, reached = no_one, fetch

        # requests of each good in household order, good after good (everyone wanting goods is
        # reached when no area is short of visits, none is cut off and phones work)
        if visited is asks and reachable is None and plan.report_rate >= 1.0:
            flat = np.flatnonzero(wanting[goods_rows])
        else:
            flat = np.flatnonzero(wanting[goods_rows] & reached)  # 1-D: faster than 2-D
        if GOODS[0]:
            flat += GOODS[0] * n
        met = flat
        if flat.size:
            held = pending_flat.take(flat)
            if point_bounds is not None:
                # households sorted by area: the requests are point by point, so each point's
                # demand is a difference of one running total
                runs = np.searchsorted(flat, point_bounds)
                total = np.empty(flat.size + 1, dtype=np.int64)
                total[0] = 0
                np.cumsum(held, out=total[1:])
                demand = np.diff(total.take(runs)).astype(np.float64)
                point = None
            else:
                runs = None
                point = point_flat[flat - GOODS[0] * n] if GOODS[0] else point_flat[flat]
                demand = np.bincount(point, weights=held, minlength=stock.size).astype(np.float64, copy=False)
            if (demand <= stock).all():
                # every point has enough for all its requests: every policy gives them all
                stock -= demand
                pending_flat[flat] = 0
            else:
                if policy == "fcfs":
                    left = _fcfs_left(flat, point, held, demand, stock, since_flat, runs=runs)
                    # a point short of stock hands out all of it, the others what was asked
                    stock -= np.minimum(demand, stock)
                else:
                    if point is None:
                        point = point_flat[flat - GOODS[0] * n] if GOODS[0] else point_flat[flat]
                    alloc = _goods(policy, flat, point, held, stock, since_flat, weight, goods_floor_food,
                                   n=n, seed=int(setup.lottery_seeds[day]) + 1 if policy == "lottery" else 0)
                    stock -= np.bincount(point, weights=alloc, minlength=stock.size)
                    left = held - alloc.astype(np.int16)
                pending_flat[flat] = left
                met = np.compress(left == 0, flat)
        if anyone_asks:
            helped = np.compress(service_wanted & visited.take(service_hh), service_pos)
            pending_flat[helped] = 0
            met = np.concatenate([met, helped])
        if met.size:
            # by the day the need arose, its kind and the household's group
            slot = since_flat.take(met) * cells + kind_vulnerable.take(met)
            met_table[day] = np.bincount(slot, minlength=copies * days * cells)
            since_flat[met] = -1

        # a count per copy (``count_nonzero`` of a slice: faster than a ``reduceat`` that converts)
        served[day] = [np.count_nonzero(reached[start:start + one]) for start in copy_starts]
        need.record(pending)

    n_areas_one = n_areas // copies
    outputs = []
    for c in range(copies):
        households = slice(c * one, (c + 1) * one)
        outputs.append(_run_output(
            policy, met_table[:, c * days * cells:(c + 1) * days * cells], since[:, households],
            vulnerable[households], days,
            unmet=need.unmet[:, c], served=served[:, c],
            unmet_by_area=need.unmet_by_area[:, c * n_areas_one:(c + 1) * n_areas_one],
            coverage=coverage_series[:, c], shortfall=need.shortfall[:, c],
            shortfall_days=need.shortfall_days[households], gini=need.gini[:, c],
            concentration=need.concentration[:, c],
        ))
    return outputs


def _run_output(
    policy: str, met_table: npt.NDArray[np.int64], since: npt.NDArray[np.int16], vulnerable: BoolArray,
    days: int, **series: npt.NDArray[np.generic],
) -> RunOutput:
    """One copy's output: its needs met (``met_table``: [day met, day arisen * kind *
    vulnerable]) and still open (``since``), reduced, and its day series (``series``)."""
    n_kinds = len(KINDS)
    # needs met, by the day they arose: [day met, day arisen, kind, vulnerable]
    table = met_table.reshape(days, days, n_kinds, 2)
    waited_days = np.arange(days)[:, None] - np.arange(days)[None, :]  # [day met, day arisen]
    met_by_start = table.sum(axis=0)  # [day arisen, kind, vulnerable]
    met_by_kind = met_by_start.astype(np.float64)
    waited_by_kind = (table * waited_days[:, :, None, None]).sum(axis=0).astype(np.float64)
    within_by_kind = (table * (waited_days <= HELP_WITHIN_DAYS)[:, :, None, None]).sum(axis=0).astype(
        np.float64
    )
    tier_rows = [np.flatnonzero(t == KIND_TIER) for t in (0, 1, 2)]
    # the needs still open, all kinds at once (whole numbers: any order of addition is exact)
    n = since.shape[1]
    open_ = np.flatnonzero(since >= 0)
    kind = open_ // n
    started = since.reshape(-1).take(open_).astype(np.int64)
    group = vulnerable.take(open_ - kind * n).astype(np.int64)
    unresolved = np.bincount(kind * 2 + group, minlength=n_kinds * 2).reshape(n_kinds, 2).astype(np.float64)
    slot = (KIND_TIER.take(kind) * days + started) * 2 + group  # [tier, day arisen, vulnerable]
    open_days = np.bincount(slot, weights=days - started, minlength=3 * days * 2).astype(np.float64, copy=False)
    waited_open = np.ascontiguousarray(open_days.reshape(3, days, 2).transpose(1, 0, 2))
    # every need that arose was met on some day or is still open: counting both by the day it
    # arose counts the needs that arose
    arisen = np.bincount(slot, minlength=3 * days * 2).reshape(3, days, 2).transpose(1, 0, 2).astype(np.float64)
    for t, rows in enumerate(tier_rows):
        arisen[:, t, :] += met_by_start[:, rows, :].sum(axis=1)
    day_series = {name: np.ascontiguousarray(values) for name, values in series.items()}
    return RunOutput(
        policy=policy,
        wait_sum=waited_by_kind.sum(axis=0),
        wait_count=met_by_kind.sum(axis=0),
        unresolved=unresolved,
        arisen=arisen,
        waited=np.stack([waited_by_kind[:, rows].sum(axis=1) for rows in tier_rows], axis=1),
        within=np.stack([within_by_kind[:, rows].sum(axis=1) for rows in tier_rows], axis=1),
        waited_open=waited_open,
        **day_series,  # type: ignore[arg-type]
    )


def _visit(
    policy: str, asks: BoolArray, who: IntArray, pool: IntArray, asked: npt.NDArray[np.integer],
    wanting: BoolArray, since: npt.NDArray[np.int16], weight: FloatArray, plan: DayPlan, *,
    seed: int,
) -> BoolArray:
    """The households a volunteer visits when some area has fewer visits than askers (``who``,
    in areas ``pool``; ``asked`` of them in each area): one unit each, by the policy, oldest
    open need first among equals (:func:`unit_fill`'s order).

    The lottery's tickets are a permutation of all the askers, so it draws for them all. The
    other policies order each area's askers by their own keys, and an area with a visit for each
    of its askers visits them all whatever the order: only the short areas are ordered.
    """
    visits = plan.visits
    if policy == "lottery":
        visited = np.zeros(asks.size, dtype=bool)
        one = np.ones(who.size)
        got = policy_fill(pool=pool, need=one, floor=one, weight=weight[who],
                          tier=np.zeros(who.size, dtype=np.int64), time=np.zeros(who.size),
                          stock=visits, policy=policy, seed=seed)
        visited[who[got > 0]] = True
        return visited
    short_area = asked > visits
    in_short = np.flatnonzero(short_area.take(pool))
    who, pool = who.take(in_short), pool.take(in_short)
    if policy == "equity":
        # the lowest tier among the kinds the household wants (tier 0: life-critical first)
        tiers = np.full(who.size, _NO_TIER, dtype=np.int64)
        for t in (2, 1, 0):
            rows = np.flatnonzero(t == KIND_TIER)
            tiers[wanting[rows][:, who].any(axis=0)] = t
    else:
        tiers = np.zeros(who.size, dtype=np.int64)
    if plan.all_covered:
        # open needs are exactly those with since >= 0 (-1 otherwise): read as unsigned,
        # -1 is the largest value, so one pass gives the oldest open need
        # (every asker wants something, so its oldest open need is a day: whole and small)
        first = np.take(since.view(np.uint16), who, axis=1).min(axis=0)
    else:
        first = np.where(np.take(wanting, who, axis=1), np.take(since, who, axis=1),
                         np.int16(np.iinfo(np.int16).max)).min(axis=0)
    visited = asks.copy()
    by_pool = _pool_time_order(pool, first, tier=tiers if policy == "equity" else None,
                               weight=None if policy == "fcfs" else weight[who])
    if by_pool is None:
        one = np.ones(who.size)
        got = policy_fill(pool=pool, need=one, floor=one, weight=weight[who], tier=tiers,
                          time=first.astype(np.float64), stock=visits, policy=policy, seed=seed)
        visited[who[got == 0]] = False
        return visited
    # in that order, an asker is visited while its area has visits left: its position among
    # the short areas' askers is below the visits of its area plus the askers of those before
    taken = np.where(short_area, asked, 0)
    room = visits + (np.cumsum(taken) - taken)
    unserved = np.arange(who.size) >= room.take(pool.take(by_pool))
    visited[who.take(np.compress(unserved, by_pool))] = False
    return visited


def _fcfs_left(
    flat: IntArray, point: npt.NDArray[np.integer] | None, held: npt.NDArray[np.int16], demand: FloatArray,
    stock: FloatArray, since_flat: npt.NDArray[np.int16], *, runs: IntArray | None = None,
) -> npt.NDArray[np.int16]:
    """What ``fcfs`` leaves open of the requests ``flat`` (at ``point``, for ``held`` units) given
    ``stock`` (``demand``: the units asked at each point): ``held`` less the whole units
    :func:`policy_fill` gives them.

    A point with enough gives every request what it asks. The others serve their requests by
    the day the need arose, then request order; a request gets what is left after those before
    it in its point, up to what it asks. The amounts are whole numbers, counted as integers.
    ``runs`` (instead of ``point``): when the requests come point by point, where each point's
    start, and where the last ends.

    Examples
    --------
    >>> import numpy as np
    >>> since = np.array([2, 0, 1, 1], dtype=np.int16)
    >>> held = np.array([3, 2, 4, 1], dtype=np.int16)
    >>> demand, stock = np.array([9., 1.]), np.array([5., 1.])
    >>> _fcfs_left(np.arange(4), np.array([0, 0, 0, 1]), held, demand, stock, since).tolist()
    [3, 0, 1, 0]
    >>> _fcfs_left(np.arange(4), None, held, demand, stock, since, runs=np.array([0, 3, 4])).tolist()
    [3, 0, 1, 0]
    """
    short = demand > stock
    left = np.zeros_like(held)
    p: npt.NDArray[np.integer]
    if runs is not None:
        counts = np.diff(runs)
        in_short = np.flatnonzero(np.repeat(short, counts))
        # the points in order: after the sort below, still in order
        p = np.repeat(np.flatnonzero(short), counts[short])
    else:
        assert point is not None
        in_short = np.flatnonzero(short.take(point))
        p = point.take(in_short)
    if in_short.size == 0:
        return left
    time = since_flat.take(flat.take(in_short))
    span = int(time.max()) + 1
    # a stable sort keeps the request order within equal keys; on 16-bit keys it is a radix sort
    if stock.size * span <= 2**15:
        key = p.astype(np.int16) * np.int16(span) + time
    else:
        key = p.astype(np.int64) * span + time
    order = np.argsort(key, kind="stable")
    served_order = in_short.take(order)
    if runs is None:
        p = p.take(order)
    # what each point has for the requests from the short points served before it, in that order
    asked = np.where(short, demand, 0.0).astype(np.int64)
    room = stock.astype(np.int64) + (np.cumsum(asked) - asked)
    wanted = held.take(served_order)
    # in place: each step writes into the array it reads (no new array per step)
    got = room.take(p)
    got -= np.cumsum(wanted, dtype=np.int64)
    got += wanted  # less the units asked before this request
    np.maximum(got, 0, out=got)
    np.minimum(got, wanted, out=got)
    left[served_order] = wanted - got
    return left


def _goods(
    policy: str, flat: IntArray, point: npt.NDArray[np.integer], held: npt.NDArray[np.int16], stock: FloatArray,
    since_flat: npt.NDArray[np.int16], weight: FloatArray, food_floor: FloatArray, *, n: int,
    seed: int,
) -> FloatArray:
    """Whole units of each point's stock to the requests ``flat`` when some point is short."""
    k_of = flat // n
    hh = flat - k_of * n
    need = held.astype(np.float64)
    # the floor is equity's; fcfs and the lottery read neither floor nor weight
    floor = np.where(k_of == 0, np.minimum(need, food_floor[hh]), need) if policy == "equity" else need
    return policy_fill(
        pool=point.astype(np.int64),
        need=need,
        floor=floor,
        weight=weight[hh] if policy not in ("fcfs", "lottery") else need,
        tier=KIND_TIER[k_of],
        time=since_flat[flat].astype(np.float64),
        stock=stock.copy(),
        policy=policy,
        seed=seed,
    )


def run_replication(
    population: Population,
    scenario: Scenario,
    *,
    policies: Sequence[str],
    seed: int,
    run: int,
    days: int,
) -> list[RunOutput]:
    """Every policy on replication ``run``'s draws (common random numbers)."""
    setup = _Setup(population, scenario, seed=seed, run=run, days=days)
    return [run_policy(setup, policy) for policy in policies]


