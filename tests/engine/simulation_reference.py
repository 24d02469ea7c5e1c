"""The simulation's day loop as it was before it was made faster (commit f7dba54), kept to pin
the new loop's outputs to the bit (``test_simulation_loop.py``).

It is the old ``_Setup``, ``run_policy`` and their helpers, unchanged but for the imports: the
allocation kernels they call (``policy_fill``) are the engine's own, which
``test_simulation_allocation.py`` checks against ``allocate``. Not used by the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from civicgrid.engine._governance import availability, effective_capacity
from civicgrid.engine._simulation_kernel import (
    _NO_TIER,
    GROUPS,
    HELP_WITHIN_DAYS,
    RunOutput,
    policy_fill,
)
from civicgrid.engine._simulation_model import (
    GOODS,
    KIND_INTERVAL,
    KIND_TIER,
    KINDS,
    SERVICES,
    SIM_FUNCTIONS,
    VISITS_PER_VOLUNTEER_PER_DAY,
    Population,
    area_capacity_split,
)
from civicgrid.engine._simulation_scenario import Scenario
from civicgrid.engine._simulation_setup import (
    _KIND_FUNCTION_INDEX,
    STREAMS,
    _day_flags,
    _fixed,
    _match_actors,
    _rank_within,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def daily_gini(depth: npt.NDArray[np.floating], n_zero: int | None = None) -> float:
    """:func:`civicgrid.engine.equity.gini` of the day's unmet need, sorting only the households
    with some (the zeros come first in the sorted order, so their ranks are known).

    Examples
    --------
    >>> import numpy as np
    >>> from tests.engine.simulation_reference import daily_gini
    >>> daily_gini(np.array([0., 0., 0., 4.])), daily_gini(np.array([1., 1.]))
    (0.75, 0.0)
    """
    positive = np.sort(depth[depth > 0]).astype(np.float64)
    total = positive.sum()
    if total == 0:
        return float("nan")
    n = depth.size
    zeros = n - positive.size
    rank = np.arange(zeros + 1, n + 1, dtype=np.float64)
    return float((2.0 * (rank @ positive) - (n + 1) * total) / (n * total))


@dataclass(frozen=True)
class DayPlan:
    """A day's disruptions as the day loop reads them (the same for every policy)."""

    key: tuple[tuple[str, ...], float]  # (withdrawn actors, share of volunteers sick)
    covered: BoolArray  # [function, household]
    ratio: float
    self_fetch: bool
    report_rate: float
    reachable: BoolArray | None  # [household]; None: no grid cut off
    visits: FloatArray  # [area] visits the working volunteers make


class _Setup:
    """What a replication draws once and every policy shares (common random numbers)."""

    def __init__(self, population: Population, scenario: Scenario, *, seed: int, run: int, days: int):
        self.population = population
        self.scenario = scenario
        self.days = days
        children = np.random.SeedSequence([seed, run]).spawn(len(STREAMS))
        self.rng = {name: np.random.default_rng(s) for name, s in zip(STREAMS, children, strict=True)}
        n, n_areas = population.n, len(population.areas)
        phase = self.rng["phases"].integers(0, 2**15, size=(len(KINDS), n), dtype=np.int16)
        # households due on each day of a kind's cycle, by phase (day d: phase (-d) mod interval)
        self.due: list[list[IntArray]] = []
        for k in range(len(KINDS)):
            has = np.flatnonzero(population.units[k] > 0)
            ph = phase[k, has] % KIND_INTERVAL[k]
            order = np.argsort(ph, kind="stable")
            bounds = np.searchsorted(ph[order], np.arange(KIND_INTERVAL[k] + 1))
            self.due.append(
                [has[order[bounds[p] : bounds[p + 1]]] for p in range(int(KIND_INTERVAL[k]))]
            )
        # the same, as positions in ``pending.ravel()`` (row k: kind k), so a day's due needs of
        # every kind are one array
        self.due_flat = [[k * n + d for d in per_phase] for k, per_phase in enumerate(self.due)]
        cv = scenario.supply.cv
        shape = (days, n_areas, len(GOODS))
        if cv > 0:
            k_shape = 1.0 / cv**2
            self.supply_noise = self.rng["supply"].gamma(k_shape, 1.0 / k_shape, size=shape)
        else:
            self.supply_noise = np.ones(shape)
        self.volunteer_u = self.rng["volunteers"].random(population.volunteer_area.size)
        self.volunteer_keep = self.rng["volunteers"].random(population.volunteer_area.size)
        self.area_u = self.rng["cut_off"].random(n_areas)
        self.phone_seeds = self.rng["phones"].integers(0, 2**63, size=days)
        self.lottery_seeds = self.rng["lottery"].integers(0, 2**63, size=days)
        self._priority: IntArray | None = None  # see priority
        self._coverage_cache: dict[tuple[tuple[str, ...], float], BoolArray] = {}
        self._availability_cache: dict[tuple[str, ...], dict[str, float]] = {}
        self._visit_cache: dict[tuple[tuple[str, ...], float], FloatArray] = {}
        self._plans: list[DayPlan | None] = [None] * days
        self.fixed = _fixed(population)
        self.weight_rank = self.fixed.weight_rank

    def plan(self, day: int) -> DayPlan:
        """What day ``day`` is, whatever the policy (computed once, for the first policy)."""
        found = self._plans[day]
        if found is None:
            removed = self.removed_actors(day)
            sick = self.sick_share(day)
            available = self.availability(removed)
            ratio, self_fetch, report_rate = _day_flags(self.scenario, day)
            cut = _cut_areas(self, day)
            key = (removed, sick)
            if key not in self._visit_cache:
                self._visit_cache[key] = self.visit_capacity(day, available)
            found = DayPlan(key=key, covered=self.coverage(removed, sick), ratio=ratio,
                            self_fetch=self_fetch, report_rate=report_rate,
                            reachable=~cut[self.population.area] if cut.any() else None,
                            visits=self._visit_cache[key])
            self._plans[day] = found
        return found

    @property
    def priority(self) -> IntArray:
        """Households by priority when a provider's capacity is short: vulnerable first, then a
        draw (the governance engine serves vulnerable households first as well). Drawn when first
        needed, from its own stream (so the other draws do not depend on it)."""
        if self._priority is None:
            pop = self.population
            self._priority = np.lexsort((self.rng["coverage"].random(pop.n), ~pop.vulnerable))
        return self._priority

    # ---------------------------------------------------------------- providers and coverage
    def removed_actors(self, day: int) -> tuple[str, ...]:
        removed: set[str] = set()
        for event in self.scenario.events:
            if event.type == "withdraw" and event.active(day):
                removed |= _match_actors(self.population, event)
        return tuple(sorted(removed))

    def availability(self, removed: tuple[str, ...]) -> dict[str, float]:
        if removed in self._availability_cache:
            return self._availability_cache[removed]
        pop = self.population
        dependences: dict[tuple[str, str], float] = {}
        for link in pop.links:
            key = (link.from_actor, link.to_actor)
            dependences[key] = dependences.get(key, 0.0) + link.dependence
        found = availability(
            actor_ids=[a.id for a in pop.actors], removed=removed, dependences=dependences
        )
        self._availability_cache[removed] = found
        return found

    def sick_share(self, day: int) -> float:
        sick = 0.0
        for event in self.scenario.events:
            if event.type == "volunteers_sick" and event.active(day):
                sick = max(sick, float(event.params["share"]))
        return sick

    def coverage(self, removed: tuple[str, ...], sick: float = 0.0) -> BoolArray:
        """[function, household]: a provider with capacity left serves the household.

        As in the governance engine's stress tests: removed actors and what depends on them lose
        their capacity, and every actor loses ``volunteer_share * sick`` of what remains.
        """
        key = (removed, sick)
        if key in self._coverage_cache:
            return self._coverage_cache[key]
        pop = self.population
        available = self.availability(removed)
        n_areas = len(pop.areas)
        area_index = {a: i for i, a in enumerate(pop.areas)}
        covered = np.zeros((len(SIM_FUNCTIONS), pop.n), dtype=bool)
        for f, function in enumerate(SIM_FUNCTIONS):
            needing = self.fixed.needs_function[f]
            demand = np.bincount(pop.area[needing], minlength=n_areas).astype(np.int64)
            local = np.zeros(n_areas)
            everywhere = 0.0
            for actor in pop.actors:
                capacity = effective_capacity(
                    capacity=actor.capacities.get(function, 0),
                    available=available[actor.id],
                    volunteer_share=actor.volunteer_share,
                    volunteer_loss=sick,
                )
                if capacity <= 0:
                    continue
                split = area_capacity_split(actor, capacity, areas=area_index, demand=demand)
                if split is None:
                    everywhere += capacity
                else:
                    local += split
            if (np.floor(local + 1e-9) >= demand).all() or demand.sum() <= np.floor(everywhere + 1e-9):
                # enough for every household that needs it: the order does not matter
                covered[f] = needing
                continue
            # households in priority order: each area's own providers first, then the providers
            # that serve everywhere take the rest in the same order
            ordered_area = pop.area[self.priority]
            needs = needing[self.priority]
            rank_in_area = _rank_within(ordered_area, needs)
            local_ok = needs & (rank_in_area < np.floor(local + 1e-9)[ordered_area])
            rest = needs & ~local_ok
            global_ok = rest & (np.cumsum(rest) <= np.floor(everywhere + 1e-9))
            cov = np.zeros(pop.n, dtype=bool)
            cov[self.priority] = local_ok | global_ok
            covered[f] = cov
        self._coverage_cache[key] = covered
        return covered

    def visit_capacity(self, day: int, available: dict[str, float]) -> FloatArray:
        pop = self.population
        sick = self.sick_share(day)
        share = np.array([available[a.id] for a in pop.actors])[pop.volunteer_actor]
        working = (self.volunteer_u >= sick) & (self.volunteer_keep < share)
        return (
            np.bincount(pop.volunteer_area[working], minlength=len(pop.areas)).astype(np.float64)
            * VISITS_PER_VOLUNTEER_PER_DAY
        )


def _cut_areas(setup: _Setup, day: int) -> BoolArray:
    pop = setup.population
    cut = np.zeros(len(pop.areas), dtype=bool)
    index = {a: i for i, a in enumerate(pop.areas)}
    for event in setup.scenario.events:
        if event.type != "cut_off" or not event.active(day):
            continue
        for name in event.params.get("areas", ()):
            if name in index:
                cut[index[name]] = True
        if "share" in event.params:
            cut |= setup.area_u < float(event.params["share"])
    return cut


def run_policy(setup: _Setup, policy: str) -> RunOutput:
    """Simulate ``setup.days`` days under ``policy``; the draws all come from ``setup``.

    At a few thousand households the day's fixed costs (numpy calls, not their arithmetic) are
    most of the time: the needs of every kind fall due in one indexed update, every need met in
    a day is recorded in one call, and what does not depend on the policy (the day's
    disruptions, coverage, visit capacity) is computed once per replication (:meth:`_Setup.plan`).
    """
    pop, scenario, days = setup.population, setup.scenario, setup.days
    n, n_areas, n_kinds = pop.n, len(pop.areas), len(KINDS)
    n_goods = len(GOODS)
    fixed = setup.fixed
    pending = np.zeros((n_kinds, n), dtype=np.int16)
    since = np.full((n_kinds, n), -1, dtype=np.int16)
    pending_flat, since_flat = pending.reshape(-1), since.reshape(-1)  # views
    weight = pop.weight.astype(np.float64)
    vulnerable = pop.vulnerable
    vulnerable_idx = np.flatnonzero(vulnerable)
    area = pop.area.astype(np.int64)
    stock = np.zeros((n_areas, n_goods))
    unmet = np.zeros((days, len(GROUPS)), dtype=np.int32)
    served = np.zeros(days, dtype=np.int32)
    unmet_by_area = np.zeros((days, n_areas), dtype=np.int32)
    coverage_series = np.zeros((days, len(SIM_FUNCTIONS)), dtype=np.float32)
    shortfall = np.zeros((days, len(GROUPS)))
    shortfall_days = np.zeros(n, dtype=np.float32)
    inv_units = fixed.inv_units
    units_flat = fixed.units_flat
    goods_floor_food = pop.size.astype(np.float64)  # one day of food per person (Sphere minimum)
    needs_function = fixed.needs_function
    n_needing = np.maximum(needs_function.sum(axis=1), 1)
    CoverKey = tuple[tuple[str, ...], float]
    expected_cache: dict[CoverKey, FloatArray] = {}
    kind_cover_cache: dict[CoverKey, tuple[BoolArray, FloatArray, bool]] = {}
    no_one = np.zeros(n, dtype=bool)
    goods_rows, service_rows = slice(GOODS[0], GOODS[-1] + 1), slice(SERVICES[0], SERVICES[-1] + 1)
    tier_rows = [np.flatnonzero(t == KIND_TIER) for t in (0, 1, 2)]
    tier8 = KIND_TIER.astype(np.int8)[:, None]  # small types: these arrays span the day's askers
    never = np.int16(np.iinfo(np.int16).max)
    arisen = np.zeros(days * 6)  # [day, tier, vulnerable], flat
    # needs met, by the day they arose: [day, kind, vulnerable], flat
    met_by_start = np.zeros(days * n_kinds * 2)
    waited_by_start = np.zeros(days * n_kinds * 2)
    within = np.zeros(days * n_kinds * 2)
    gini_series = np.full(days, np.nan)
    concentration_series = np.full(days, np.nan)
    weight_rank = fixed.weight_rank32
    intervals = [int(i) for i in KIND_INTERVAL]

    def resolve(flat: IntArray, day: int) -> None:
        """The needs at ``flat`` (positions in ``pending.ravel()``) met on ``day``."""
        if flat.size == 0:
            return
        k = flat // n
        who = flat - k * n
        started = since_flat[flat].astype(np.int64)
        waited = day - started
        slot = (started * n_kinds + k) * 2 + vulnerable[who]
        size = days * n_kinds * 2
        met_by_start[:] += np.bincount(slot, minlength=size)
        waited_by_start[:] += np.bincount(slot, weights=waited, minlength=size)
        within[:] += np.bincount(slot, weights=waited <= HELP_WITHIN_DAYS, minlength=size)
        since_flat[flat] = -1

    for day in range(days):
        # needs fall due, every kind at once (a kind's due households are distinct)
        due = np.concatenate([setup.due_flat[k][(-day) % intervals[k]] for k in range(n_kinds)])
        before = pending_flat[due]
        fresh = due[before == 0]
        since_flat[fresh] = day
        pending_flat[due] = before + units_flat[due]
        fresh_kind = fresh // n
        arisen[day * 6 : day * 6 + 6] += np.bincount(
            KIND_TIER[fresh_kind] * 2 + vulnerable[fresh - fresh_kind * n], minlength=6
        )

        plan = setup.plan(day)
        key, covered = plan.key, plan.covered
        if key not in kind_cover_cache:
            kind_cover_cache[key] = (
                covered[_KIND_FUNCTION_INDEX],
                (covered & needs_function).sum(axis=1) / n_needing,
                bool(covered.all()),
            )
        kind_covered, coverage_series[day], everyone_covered = kind_cover_cache[key]
        ratio, self_fetch, report_rate = plan.ratio, plan.self_fetch, plan.report_rate
        if key not in expected_cache:
            # expected need per day at each point of the households a provider covers
            per_day = np.zeros((n_areas, n_goods))
            for g, k in enumerate(GOODS):
                ok = covered[_KIND_FUNCTION_INDEX[k]]
                per_day[:, g] = np.bincount(
                    area[ok], weights=pop.units[k, ok] / float(KIND_INTERVAL[k]), minlength=n_areas
                )
            expected_cache[key] = per_day
        expected = expected_cache[key]
        if day == 0:
            stock += np.rint(expected * scenario.supply.initial_days)
        if day % scenario.supply.every == 0:
            stock += np.rint(expected * scenario.supply.every * ratio * setup.supply_noise[day])

        wanting = pending > 0
        wanting &= kind_covered
        reachable = plan.reachable
        any_goods = wanting[goods_rows].any(axis=0)
        any_service = wanting[service_rows].any(axis=0)
        fetch = any_goods & pop.can_fetch if self_fetch else no_one
        if reachable is not None:
            fetch = fetch & reachable
        asks = (any_goods & ~fetch) | any_service
        if reachable is not None:
            asks &= reachable
        if report_rate < 1.0:
            seen = np.random.default_rng(setup.phone_seeds[day]).random(n, dtype=np.float32)
            asks &= seen < report_rate

        who = np.flatnonzero(asks)
        if who.size:
            visited = np.zeros(n, dtype=bool)
            # over every household then picked: gathering columns of (kind, household) arrays is
            # slower than the whole rows; only equity serves by tier (the others never read it)
            tiers = (np.where(wanting, tier8, np.int8(_NO_TIER)).min(axis=0)[who] if policy == "equity"
                     else np.zeros(who.size, dtype=np.int8))
            if everyone_covered:
                # open needs are exactly those with since >= 0 (-1 otherwise): read as unsigned,
                # -1 is the largest value, so one pass gives the oldest open need
                first = since.view(np.uint16).min(axis=0)[who]
            else:
                first = np.where(wanting, since, never).min(axis=0)[who]
            one = np.ones(who.size)
            got = policy_fill(
                pool=area[who],
                need=one,
                floor=one,
                weight=weight[who],
                tier=tiers.astype(np.int64),
                time=first.astype(np.float64),
                stock=plan.visits,
                policy=policy,
                seed=int(setup.lottery_seeds[day]),
            )
            visited[who[got > 0]] = True
            reached = fetch | visited
        else:
            visited, reached = no_one, fetch

        # requests of each good in household order, good after good
        flat = np.flatnonzero(wanting[goods_rows] & reached) + GOODS[0] * n  # 1-D: faster than 2-D
        met = flat[:0]
        if flat.size:
            k_of = flat // n
            hh = flat - k_of * n
            held = pending_flat[flat]
            need = held.astype(np.float64)
            # the floor is equity's; fcfs and the lottery read neither floor nor weight
            floor = np.where(k_of == 0, np.minimum(need, goods_floor_food[hh]), need) if policy == "equity" else need
            point = area[hh] * n_goods + (k_of - GOODS[0])
            alloc = policy_fill(
                pool=point,
                need=need,
                floor=floor,
                weight=weight[hh] if policy not in ("fcfs", "lottery") else need,
                tier=KIND_TIER[k_of],
                time=since_flat[flat].astype(np.float64),
                stock=stock.reshape(-1).copy(),
                policy=policy,
                seed=int(setup.lottery_seeds[day]) + 1,
            )
            stock -= np.bincount(point, weights=alloc, minlength=n_areas * n_goods).reshape(
                n_areas, n_goods
            )
            left = held - alloc.astype(np.int16)
            pending_flat[flat] = left
            met = flat[left == 0]
        if who.size:
            helped = np.flatnonzero(wanting[service_rows] & visited) + SERVICES[0] * n
            pending_flat[helped] = 0
            met = np.concatenate([met, helped])
        resolve(met, day)

        # unmet need: outstanding need events (a missed food delivery is 1, half of it 0.5);
        # a household is "short" below its survival minimum (a day's food, or any of the rest)
        outstanding = pending * inv_units
        depth = outstanding.sum(axis=0)
        open_need = pending > 0
        shortfall_days += depth
        short = (pending[0] >= pop.size) | open_need[1:].any(axis=0)
        n_short_v = int(np.count_nonzero(short & vulnerable))
        n_short = int(np.count_nonzero(short))
        unmet[day, :3] = (n_short, n_short_v, n_short - n_short_v)
        for t, rows in enumerate(tier_rows):
            unmet[day, 3 + t] = int(np.count_nonzero(open_need[rows].any(axis=0)))
        d_v = float(depth[vulnerable_idx].sum())  # the same values as depth[vulnerable], gathered faster
        d_all = float(depth.sum())
        shortfall[day, :3] = (d_all, d_v, d_all - d_v)
        per_kind = outstanding.sum(axis=1, dtype=np.float64)
        shortfall[day, 3:] = [float(per_kind[rows].sum()) for rows in tier_rows]
        served[day] = int(np.count_nonzero(reached))
        unmet_by_area[day] = np.bincount(area[short], minlength=n_areas)
        if d_all > 0:
            gini_series[day] = daily_gini(depth)
            # in float32, as the day's amounts are (a float32 by float64 product would skip BLAS)
            concentration_series[day] = 2.0 * float(depth @ weight_rank) / d_all

    met_by_kind = met_by_start.reshape(days, n_kinds, 2)
    waited_by_kind = waited_by_start.reshape(days, n_kinds, 2)
    within_by_kind = within.reshape(days, n_kinds, 2)
    unresolved = np.zeros((n_kinds, 2))
    waited_open = np.zeros((days, 3, 2))
    for k in range(n_kinds):
        still = since[k] >= 0
        unresolved[k, 1] = np.count_nonzero(still & vulnerable)
        unresolved[k, 0] = np.count_nonzero(still & ~vulnerable)
        open_ = np.flatnonzero(still)
        started = since[k, open_].astype(np.int64)
        waited_open[:, KIND_TIER[k], :] += np.bincount(
            started * 2 + vulnerable[open_], weights=days - started, minlength=days * 2
        ).reshape(days, 2)
    return RunOutput(
        policy=policy,
        unmet=unmet,
        served=served,
        unmet_by_area=unmet_by_area,
        coverage=coverage_series,
        wait_sum=waited_by_kind.sum(axis=0),
        wait_count=met_by_kind.sum(axis=0),
        unresolved=unresolved,
        shortfall=shortfall,
        shortfall_days=shortfall_days,
        arisen=arisen.reshape(days, 3, 2),
        waited=np.stack([waited_by_kind[:, rows].sum(axis=1) for rows in tier_rows], axis=1),
        within=np.stack([within_by_kind[:, rows].sum(axis=1) for rows in tier_rows], axis=1),
        waited_open=waited_open,
        gini=gini_series,
        concentration=concentration_series,
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


