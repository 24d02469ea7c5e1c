"""What a replication of :mod:`civicgrid.engine.simulation` draws and knows before its first day,
whatever the policy: the needs falling due on each day, the day's disruptions (:class:`DayPlan`),
who the providers left can serve; and what stays the same over replications (per population:
:func:`_fixed`, :func:`_shared_providers`; per scenario: :func:`_timeline`), computed once.

Randomness: one :class:`numpy.random.SeedSequence` per replication, split into named streams
(:data:`STREAMS`), each drawn from when first needed; the policy never consumes a draw, so every
policy of a replication sees the same draws (common random numbers).
"""

from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from civicgrid.engine._governance import availability, effective_capacity
from civicgrid.engine._simulation_model import (
    GOODS,
    KIND_FUNCTION,
    KIND_INTERVAL,
    KINDS,
    SERVICES,
    SIM_FUNCTIONS,
    VISITS_PER_VOLUNTEER_PER_DAY,
    Population,
    area_capacity_split,
)
from civicgrid.engine._simulation_scenario import Event, Scenario

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

STREAMS = ("phases", "supply", "volunteers", "cut_off", "phones", "lottery", "coverage")
_KIND_FUNCTION_INDEX = np.array([SIM_FUNCTIONS.index(f) for f in KIND_FUNCTION])


def centred_rank(values: npt.NDArray[np.floating]) -> FloatArray:
    """The fractional rank of ``values`` (ties share their mean rank) minus its mean: the
    concentration index of ``x`` is then ``2 (x @ centred_rank) / x.sum()``, as
    :func:`civicgrid.engine.equity.concentration_index` computes it."""
    order = np.argsort(values, kind="stable")
    sorted_v = values[order]
    starts = np.r_[True, sorted_v[1:] != sorted_v[:-1]]
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    last = np.r_[first[1:], sorted_v.size] - 1
    mean_rank = (first + last) / 2.0 + 1.0  # 1-based average rank of each run of ties
    rank = np.empty(values.size)
    rank[order] = mean_rank[group]
    fractional = (rank - 0.5) / values.size
    return fractional - fractional.mean()


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
    # [kind, household]: a provider serves this household this kind (None: all_covered)
    kind_covered: BoolArray | None
    # every household that needs a kind has a provider of it (then an open need is a wanted one)
    all_covered: bool
    coverage: FloatArray  # [function] share of the households needing it that are covered
    arrivals: FloatArray | None  # [good * areas + area] whole units arriving at the points (None: none)


@dataclass(frozen=True)
class _Fixed:
    """What depends on the population only (kept while the population lives, for every run)."""

    weight_rank: FloatArray
    weight_rank32: npt.NDArray[np.float32]
    inv_units: npt.NDArray[np.float32]
    needs_function: BoolArray  # [function, household]
    units_flat: npt.NDArray[np.int16]
    weight: FloatArray
    area: IntArray
    vulnerable_idx: IntArray
    # per position in ``pending.ravel()`` (kind k, household i): k * 2 + vulnerable[i]
    kind_vulnerable: npt.NDArray[np.int8]
    # per position of a good's row: the household's distribution point (good * areas + area)
    point: npt.NDArray[np.integer]
    # households sorted by area: where each point's requests start among positions of the goods'
    # rows (a good's row, then the areas in order), and where the last ends; else None
    point_bounds: IntArray | None
    # the positions in ``pending.ravel()`` of the services households need (few households need
    # one), in order, and their households
    service_pos: IntArray
    service_hh: IntArray
    n_needing: npt.NDArray[np.int64]  # [function] households needing it (at least 1)
    # per kind: the households needing it and their units
    has: list[tuple[npt.NDArray[np.int32], npt.NDArray[np.int16]]]


_FIXED: weakref.WeakKeyDictionary[Population, _Fixed] = weakref.WeakKeyDictionary()


def _fixed(pop: Population) -> _Fixed:
    found = _FIXED.get(pop)
    if found is None:
        n_kinds = len(KINDS)
        needs_function = np.stack(
            [
                (pop.units[[k for k in range(n_kinds) if KIND_FUNCTION[k] == f]] > 0).any(axis=0)
                for f in SIM_FUNCTIONS
            ]
        )
        area = pop.area.astype(np.int64)
        found = _Fixed(
            weight_rank=(rank := centred_rank(pop.weight.astype(np.float64))),
            weight_rank32=rank.astype(np.float32),
            inv_units=np.where(pop.units > 0, 1.0 / np.maximum(pop.units, 1), 0.0).astype(np.float32),
            needs_function=needs_function,
            units_flat=np.ascontiguousarray(pop.units).reshape(-1),
            weight=pop.weight.astype(np.float64),
            area=area,
            vulnerable_idx=np.flatnonzero(pop.vulnerable),
            kind_vulnerable=(
                np.arange(n_kinds, dtype=np.int8)[:, None] * 2 + pop.vulnerable.astype(np.int8)
            ).reshape(-1),
            # small types: these arrays span every household and kind (a million households: tens of MB)
            point=(np.arange(len(GOODS))[:, None] * len(pop.areas) + area).reshape(-1).astype(
                np.int16 if len(pop.areas) * len(GOODS) <= 2**15 else np.int32
            ),
            point_bounds=_point_bounds(area, len(pop.areas), pop.n),
            service_pos=(service_pos := np.flatnonzero(pop.units[SERVICES[0]:SERVICES[-1] + 1].reshape(-1) > 0)
                         + SERVICES[0] * pop.n),
            service_hh=service_pos % pop.n,
            n_needing=np.maximum(needs_function.sum(axis=1), 1),
            has=[(has := np.flatnonzero(pop.units[k] > 0).astype(np.int32), pop.units[k, has])
                 for k in range(n_kinds)],
        )
        _FIXED[pop] = found
    return found


def _point_bounds(area: IntArray, n_areas: int, n: int) -> IntArray | None:
    """Where each distribution point's households start in ``pending.ravel()``'s rows of goods,
    point after point (goods in order, then areas), when households are sorted by area."""
    if not bool((np.diff(area) >= 0).all()):
        return None
    starts = np.searchsorted(area, np.arange(n_areas))
    rows = np.asarray(GOODS, dtype=np.int64)[:, None] * n
    return np.append((rows + starts).reshape(-1), GOODS[-1] * n + n)


# covered, kind_covered, all_covered, coverage [function], expected need per day [area, good],
# then (in a day plan) the visits per area
_Derived = tuple[BoolArray, BoolArray | None, bool, FloatArray, FloatArray]
_Providers = tuple[BoolArray, BoolArray | None, bool, FloatArray, FloatArray, FloatArray]


def _derive(pop: Population, covered: BoolArray) -> _Derived:
    """What the day loop reads of a coverage: per kind, whether it is complete, the share of the
    households needing each function that are covered, and the expected need per day at each
    point of the households a provider covers."""
    fixed = _fixed(pop)
    needs = fixed.needs_function
    expected = np.zeros((len(pop.areas), len(GOODS)))
    for g, k in enumerate(GOODS):
        ok = covered[_KIND_FUNCTION_INDEX[k]]
        expected[:, g] = np.bincount(
            fixed.area[ok], weights=pop.units[k, ok] / float(KIND_INTERVAL[k]), minlength=len(pop.areas)
        )
    complete = bool((covered | ~needs).all())
    return (
        covered,
        None if complete else covered[_KIND_FUNCTION_INDEX],
        complete,
        (covered & needs).sum(axis=1) / fixed.n_needing,
        expected,
    )


@dataclass(frozen=True)
class _SharedProviders:
    """What the providers left after some withdrawals and sickness can do (no draws)."""

    available: dict[str, float]  # actor id -> share of its capacity left
    # per function: whole units per area from the area's own providers, whole units from the
    # providers serving everywhere, and whether that serves every household needing it
    capacity: list[tuple[FloatArray, float, bool]]
    derived: _Derived | None  # when every function has enough: the same for every replication


_SHARED: weakref.WeakKeyDictionary[
    Population, dict[tuple[tuple[str, ...], float], _SharedProviders]
] = weakref.WeakKeyDictionary()


def _shared_providers(pop: Population, removed: tuple[str, ...], sick: float) -> _SharedProviders:
    per_pop = _SHARED.setdefault(pop, {})
    found = per_pop.get((removed, sick))
    if found is not None:
        return found
    dependences: dict[tuple[str, str], float] = {}
    for link in pop.links:
        key = (link.from_actor, link.to_actor)
        dependences[key] = dependences.get(key, 0.0) + link.dependence
    available = availability(actor_ids=[a.id for a in pop.actors], removed=removed, dependences=dependences)
    n_areas = len(pop.areas)
    area_index = {a: i for i, a in enumerate(pop.areas)}
    capacity = []
    for f, function in enumerate(SIM_FUNCTIONS):
        needing = _fixed(pop).needs_function[f]
        demand = np.bincount(pop.area[needing], minlength=n_areas).astype(np.int64)
        local = np.zeros(n_areas)
        everywhere = 0.0
        for actor in pop.actors:
            units = effective_capacity(
                capacity=actor.capacities.get(function, 0),
                available=available[actor.id],
                volunteer_share=actor.volunteer_share,
                volunteer_loss=sick,
            )
            if units <= 0:
                continue
            split = area_capacity_split(actor, units, areas=area_index, demand=demand)
            if split is None:
                everywhere += units
            else:
                local += split
        local_units, everywhere_units = np.floor(local + 1e-9), float(np.floor(everywhere + 1e-9))
        # enough for every household that needs it: the order does not matter
        enough = bool((local_units >= demand).all() or demand.sum() <= everywhere_units)
        capacity.append((local_units, everywhere_units, enough))
    derived = None
    if all(enough for _, _, enough in capacity):
        derived = _derive(pop, _fixed(pop).needs_function)  # read only, as every coverage
    found = _SharedProviders(available=available, capacity=capacity, derived=derived)
    per_pop[(removed, sick)] = found
    return found


def _phases(rng: np.random.Generator, shape: tuple[int, int]) -> npt.NDArray[np.int16]:
    """``rng.integers(0, 2**15, size=shape, dtype=np.int16)``, the same numbers, ten times faster.

    numpy draws a 16-bit integer below ``2**15`` from the next 16 bits of its 32-bit stream
    (the low half of a 32-bit draw first, and the low half of a 64-bit draw first), times
    ``2**15`` over ``2**16`` (Lemire's method, which never rejects for a power of two): the
    16 bits shifted right by one. ``tests/engine/test_simulation_loop.py`` checks the two agree.
    """
    size = shape[0] * shape[1]
    bits = rng.bit_generator.random_raw((size + 3) // 4).astype("<u8", copy=False).view("<u2")[:size]
    np.right_shift(bits, 1, out=bits)  # in place: below 2**15, the same bits as an int16
    return bits.view(np.int16).reshape(shape)


class _Setup:
    """What a replication draws once and every policy shares (common random numbers)."""

    copies = 1  # copies of the population the day loop runs at once (see _simulation_batch)

    def __init__(self, population: Population, scenario: Scenario, *, seed: int, run: int, days: int):
        self.population = population
        self.scenario = scenario
        self.days = days
        self._streams = dict(zip(STREAMS, np.random.SeedSequence([seed, run]).spawn(len(STREAMS)), strict=True))
        n, n_areas = population.n, len(population.areas)
        phase = _phases(self.stream("phases"), (len(KINDS), n))
        # households due on each day of a kind's cycle, by phase (day d: phase (-d) mod interval),
        # and the same as positions in ``pending.ravel()`` with their units
        self.due: list[list[npt.NDArray[np.int32]]] = []
        self.due_parts: list[list[tuple[npt.NDArray[np.int32], npt.NDArray[np.int16]]]] = []
        fixed = self.fixed = _fixed(population)
        for k, (has, units) in enumerate(fixed.has):
            interval = int(KIND_INTERVAL[k])
            ph = phase[k].take(has) % KIND_INTERVAL[k]
            order = np.argsort(ph, kind="stable")
            bounds = np.searchsorted(ph.take(order), np.arange(1, interval + 1)).tolist()
            ordered, units = has.take(order), units.take(order)
            flat = ordered + k * n
            cuts = list(zip([0, *bounds[:-1]], bounds, strict=True))
            self.due.append([ordered[a:b] for a, b in cuts])
            self.due_parts.append([(flat[a:b], units[a:b]) for a, b in cuts])
        cv = scenario.supply.cv
        shape = (days, n_areas, len(GOODS))
        if cv > 0:
            k_shape = 1.0 / cv**2
            self.supply_noise = self.stream("supply").gamma(k_shape, 1.0 / k_shape, size=shape)
        else:
            self.supply_noise = np.ones(shape)
        volunteers = self.stream("volunteers")
        self.volunteer_u = volunteers.random(population.volunteer_area.size)
        self.volunteer_keep = volunteers.random(population.volunteer_area.size)
        self._priority: IntArray | None = None  # see priority
        self._plans: list[DayPlan | None] = [None] * days
        self._by_key: dict[tuple[tuple[str, ...], float], _Providers] = {}
        self._reachable: dict[tuple[tuple[bool, ...], tuple[float, ...]], BoolArray | None] = {}
        self.weight_rank = self.fixed.weight_rank

    @property
    def one_fixed(self) -> _Fixed:
        """:func:`_fixed` of one copy of the population."""
        return self.fixed

    @property
    def met_slots(self) -> npt.NDArray[np.integer]:
        """Per position in ``pending.ravel()``: where a need met there is counted in the day's
        row of needs met, after the day it arose (kind * 2 + vulnerable)."""
        return self.fixed.kind_vulnerable

    def phone_draw(self, day: int) -> npt.NDArray[np.float32]:
        """A draw per household: when phones are down, who can call on day ``day``."""
        return np.random.default_rng(self.phone_seeds[day]).random(self.population.n, dtype=np.float32)

    def stream(self, name: str) -> np.random.Generator:
        """The replication's generator ``name`` (one of :data:`STREAMS`), made when first asked
        for: each stream has its own seed, so when a stream is first used changes no draw."""
        return np.random.default_rng(self._streams[name])

    @functools.cached_property
    def area_u(self) -> FloatArray:
        """A draw per area: a cut-off of a share ``s`` of the areas cuts those below ``s``."""
        return self.stream("cut_off").random(len(self.population.areas))

    @functools.cached_property
    def phone_seeds(self) -> IntArray:
        """A seed per day for who can call when phones are down."""
        return self.stream("phones").integers(0, 2**63, size=self.days)

    @functools.cached_property
    def lottery_seeds(self) -> IntArray:
        """A seed per day for the lottery's tickets."""
        return self.stream("lottery").integers(0, 2**63, size=self.days)

    def plan(self, day: int) -> DayPlan:
        """What day ``day`` is, whatever the policy (computed once, for the first policy)."""
        found = self._plans[day]
        if found is None:
            events = _timeline(self.population, self.scenario, self.days)[day]
            key = (events.removed, events.sick)
            if key not in self._by_key:
                self._by_key[key] = self._providers(events)
            covered, kind_covered, all_covered, coverage, expected, visits = self._by_key[key]
            supply = self.scenario.supply
            # whole units, so the stock stays whole and the order of the additions is immaterial
            arrivals = None
            if day == 0:
                arrivals = np.rint(expected * supply.initial_days)
            if day % supply.every == 0:
                more = np.rint(expected * supply.every * events.ratio * self.supply_noise[day])
                arrivals = more if arrivals is None else arrivals + more
            cut_key = (events.cut_named, events.cut_shares)
            if cut_key not in self._reachable:
                cut = np.array(events.cut_named, dtype=bool)
                for share in events.cut_shares:
                    cut |= self.area_u < share
                self._reachable[cut_key] = ~cut[self.population.area] if cut.any() else None
            found = DayPlan(key=key, covered=covered, ratio=events.ratio,
                            self_fetch=events.self_fetch, report_rate=events.report_rate,
                            reachable=self._reachable[cut_key], visits=visits,
                            kind_covered=kind_covered, all_covered=all_covered, coverage=coverage,
                            arrivals=None if arrivals is None else arrivals.T.reshape(-1))
            self._plans[day] = found
        return found

    def _providers(self, events: _DayEvents) -> _Providers:
        """Coverage, expected need and visit capacity under one set of withdrawals and sickness."""
        shared = _shared_providers(self.population, events.removed, events.sick)
        derived = shared.derived or _derive(self.population, self.coverage(events.removed, events.sick))
        return (*derived, self.visit_capacity(events.sick, shared.available))

    @property
    def priority(self) -> IntArray:
        """Households by priority when a provider's capacity is short: vulnerable first, then a
        draw (the governance engine serves vulnerable households first as well). Drawn when first
        needed, from its own stream (so the other draws do not depend on it)."""
        if self._priority is None:
            pop = self.population
            self._priority = np.lexsort((self.stream("coverage").random(pop.n), ~pop.vulnerable))
        return self._priority

    # ---------------------------------------------------------------- providers and coverage
    def coverage(self, removed: tuple[str, ...], sick: float = 0.0) -> BoolArray:
        """[function, household]: a provider with capacity left serves the household.

        As in the governance engine's stress tests: removed actors and what depends on them lose
        their capacity, and every actor loses ``volunteer_share * sick`` of what remains. Where
        the capacity left falls short, households are served in this replication's priority order.
        """
        shared = _shared_providers(self.population, removed, sick)
        if shared.derived is not None:
            return shared.derived[0]
        pop = self.population
        covered = np.zeros((len(SIM_FUNCTIONS), pop.n), dtype=bool)
        for f, (local, everywhere, enough) in enumerate(shared.capacity):
            needing = self.fixed.needs_function[f]
            if enough:
                covered[f] = needing
                continue
            # households in priority order: each area's own providers first, then the providers
            # that serve everywhere take the rest in the same order
            ordered_area = pop.area[self.priority]
            needs = needing[self.priority]
            rank_in_area = _rank_within(ordered_area, needs)
            local_ok = needs & (rank_in_area < local[ordered_area])
            rest = needs & ~local_ok
            global_ok = rest & (np.cumsum(rest) <= everywhere)
            cov = np.zeros(pop.n, dtype=bool)
            cov[self.priority] = local_ok | global_ok
            covered[f] = cov
        return covered

    def visit_capacity(self, sick: float, available: dict[str, float]) -> FloatArray:
        pop = self.population
        share = np.array([available[a.id] for a in pop.actors])[pop.volunteer_actor]
        working = (self.volunteer_u >= sick) & (self.volunteer_keep < share)
        return (
            np.bincount(pop.volunteer_area[working], minlength=len(pop.areas)).astype(np.float64)
            * VISITS_PER_VOLUNTEER_PER_DAY
        )


def _rank_within(group: npt.NDArray[np.int32], member: BoolArray) -> IntArray:
    """Position of each member among the members of its group, in array order."""
    count = np.zeros(group.size, dtype=np.int64)
    idx = np.flatnonzero(member)
    g = group[idx]
    order = np.argsort(g, kind="stable")
    sorted_g = g[order]
    starts = np.ones(sorted_g.size, dtype=bool)
    starts[1:] = sorted_g[1:] != sorted_g[:-1]
    position = np.arange(sorted_g.size) - np.flatnonzero(starts)[np.cumsum(starts) - 1]
    count[idx[order]] = position
    return count


def _match_actors(population: Population, event: Event) -> set[str]:
    ids = set(event.params.get("actors", ()))
    kinds = set(event.params.get("kinds", ()))
    sectors = set(event.params.get("sectors", ()))
    known = {a.id for a in population.actors}
    unknown = ids - known
    if unknown:
        raise ValueError(f"withdraw names unknown actor(s) {sorted(unknown)}")
    return {
        a.id for a in population.actors if a.id in ids or a.kind in kinds or a.sector in sectors
    }


def _day_flags(scenario: Scenario, day: int) -> tuple[float, bool, float]:
    ratio = scenario.supply.ratio
    self_fetch = scenario.self_fetch
    report_rate = 1.0
    for event in scenario.events:
        if not event.active(day):
            continue
        if event.type == "supply":
            ratio = float(event.params["ratio"])
        elif event.type == "self_fetch":
            self_fetch = bool(event.params["allowed"])
        elif event.type == "phones_down":
            report_rate = min(report_rate, float(event.params["report_rate"]))
    return ratio, self_fetch, report_rate


@dataclass(frozen=True)
class _DayEvents:
    """A scenario's events on one day, as the day loop reads them (no draws)."""

    removed: tuple[str, ...]  # actors withdrawn
    sick: float  # share of volunteers sick
    ratio: float
    self_fetch: bool
    report_rate: float
    cut_named: tuple[bool, ...]  # [area] cut off by name
    cut_shares: tuple[float, ...]  # shares of areas cut off by a draw


# a scenario's days, per population (whose actors and areas the events name): the same for every
# replication, so computed once (the scenario is held, so its id is not reused while cached)
_TIMELINES: weakref.WeakKeyDictionary[Population, dict[int, tuple[Scenario, list[_DayEvents]]]] = (
    weakref.WeakKeyDictionary()
)


def _timeline(population: Population, scenario: Scenario, days: int) -> list[_DayEvents]:
    cached = _TIMELINES.setdefault(population, {}).get(id(scenario))
    if cached is not None and cached[0] is scenario and len(cached[1]) >= days:
        return cached[1]
    index = {a: i for i, a in enumerate(population.areas)}
    timeline = []
    for day in range(days):
        removed: set[str] = set()
        sick = 0.0
        named = [False] * len(population.areas)
        shares: list[float] = []
        for event in scenario.events:
            if not event.active(day):
                continue
            if event.type == "withdraw":
                removed |= _match_actors(population, event)
            elif event.type == "volunteers_sick":
                sick = max(sick, float(event.params["share"]))
            elif event.type == "cut_off":
                for name in event.params.get("areas", ()):
                    if name in index:
                        named[index[name]] = True
                if "share" in event.params:
                    shares.append(float(event.params["share"]))
        ratio, self_fetch, report_rate = _day_flags(scenario, day)
        timeline.append(_DayEvents(removed=tuple(sorted(removed)), sick=sick, ratio=ratio,
                                   self_fetch=self_fetch, report_rate=report_rate,
                                   cut_named=tuple(named), cut_shares=tuple(shares)))
    _TIMELINES[population][id(scenario)] = (scenario, timeline)
    return timeline
