"""Several replications in one day loop: :func:`run_batch`.

At ten thousand households each numpy call of the day loop does little work, so its fixed cost
counts: replications of a small population are run as copies of it side by side, each copy with
its own areas and distribution points and its own replication's draws (:class:`BatchSetup`), so
one call does the work of several replications. Copies never share an area, a point or a
figure, and every order the loop uses is by area or point first, so each copy gets the numbers
its replication gets alone (``tests/engine/test_simulation_loop.py`` checks every output, to the
bit, against the reference loop and :func:`~civicgrid.engine._simulation_kernel.run_replication`).

Measured (10,000 households x 30 days, ``lockdown``, ``fcfs``, CPU per replication, the shared
2-core machine at load 2.3): 6.9 ms four side by side against 8.9 ms one by one; two side by
side 7.8 ms, five 7.3 ms, six 7.5 ms (beyond about 40,000 households the arrays leave the cache).
Again after the gathers were reworked (load 3.0, best of four): two 7.77 ms, four 6.70, five
7.14, eight 7.09, ten 7.24: four stays the best.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import cast

import numpy as np
import numpy.typing as npt

from civicgrid.engine._simulation_kernel import RunOutput, run_copies, run_policy
from civicgrid.engine._simulation_model import GOODS, KINDS, Population
from civicgrid.engine._simulation_scenario import Scenario
from civicgrid.engine._simulation_setup import DayPlan, _Fixed, _fixed, _point_bounds, _Setup

# copies run at once: beyond a few, the loop's arrays leave the processor's cache
BATCH_HOUSEHOLDS = 40_000

_TILED: weakref.WeakKeyDictionary[Population, dict[int, tuple[Population, _Fixed]]] = weakref.WeakKeyDictionary()


def batch_size(population: Population) -> int:
    """How many replications of ``population`` :func:`run_batch` runs at once."""
    return max(1, BATCH_HOUSEHOLDS // max(1, population.n))


def run_batch(
    population: Population,
    scenario: Scenario,
    *,
    policy: str,
    seed: int,
    runs: Sequence[int],
    days: int,
) -> list[RunOutput]:
    """Replications ``runs`` under ``policy``, the same outputs as
    :func:`~civicgrid.engine._simulation_kernel.run_replication` gives each, :func:`batch_size`
    at a time. The lottery draws its tickets over all of a replication's requests at once, so
    its replications run one by one."""
    setups = [_Setup(population, scenario, seed=seed, run=run, days=days) for run in runs]
    if policy == "lottery":
        return [run_policy(setup, policy) for setup in setups]
    size = batch_size(population)
    outputs: list[RunOutput] = []
    for start in range(0, len(setups), size):
        group = setups[start:start + size]
        outputs += run_policy_list(group, policy)
    return outputs


def run_policy_list(setups: list[_Setup], policy: str) -> list[RunOutput]:
    """:func:`run_policy` of each of ``setups`` (replications of one population), in one loop."""
    if len(setups) == 1:
        return [run_policy(setups[0], policy)]
    return run_copies(BatchSetup(setups), policy)


def run_replications(
    population: Population,
    scenario: Scenario,
    *,
    policies: Sequence[str],
    seed: int,
    runs: Sequence[int],
    days: int,
) -> list[list[RunOutput]]:
    """:func:`~civicgrid.engine._simulation_kernel.run_replication` of each of ``runs`` (every
    policy on each replication's draws), the replications side by side (:func:`batch_size` of
    them; the lottery's one by one)."""
    setups = [_Setup(population, scenario, seed=seed, run=run, days=days) for run in runs]
    if len(setups) == 1:
        return [[run_policy(setups[0], policy) for policy in policies]]
    batch = BatchSetup(setups)
    per_policy = [
        [run_policy(setup, policy) for setup in setups] if policy == "lottery" else run_copies(batch, policy)
        for policy in policies
    ]
    return [list(outputs) for outputs in zip(*per_policy, strict=True)]


def _tiled(population: Population, copies: int) -> tuple[Population, _Fixed]:
    """``copies`` copies of ``population`` one after the other, each with its own areas (copy
    ``c``'s area ``a`` is area ``c * areas + a``), and their :class:`_Fixed`, built from one
    copy's (so the relief weight's ranks stay each copy's own)."""
    per_pop = _TILED.setdefault(population, {})
    if copies in per_pop:
        return per_pop[copies]
    one, n, n_areas = _fixed(population), population.n, len(population.areas)
    offsets = np.repeat(np.arange(copies), n)
    area = np.tile(population.area, copies) + (offsets * n_areas).astype(np.int32)
    tiled = Population(
        household_ids=cast("npt.NDArray[np.str_]", np.tile(population.household_ids, copies)),
        areas=tuple(f"{c}:{a}" for c in range(copies) for a in population.areas),
        area=area,
        size=np.tile(population.size, copies),
        weight=np.tile(population.weight, copies),
        vulnerable=np.tile(population.vulnerable, copies),
        can_fetch=np.tile(population.can_fetch, copies),
        units=np.tile(population.units, (1, copies)),
        actors=population.actors,
        links=population.links,
        volunteer_area=np.concatenate([population.volunteer_area + c * n_areas for c in range(copies)]).astype(
            np.int32
        ),
        volunteer_actor=np.tile(population.volunteer_actor, copies),
    )
    big_n, big_areas = n * copies, n_areas * copies
    area64 = area.astype(np.int64)
    units = tiled.units
    service_pos = np.flatnonzero(units[len(GOODS):].reshape(-1) > 0) + len(GOODS) * big_n
    fixed = _Fixed(
        weight_rank=np.tile(one.weight_rank, copies),
        weight_rank32=one.weight_rank32,  # read one copy at a time
        inv_units=np.tile(one.inv_units, (1, copies)),
        needs_function=np.tile(one.needs_function, (1, copies)),
        units_flat=np.ascontiguousarray(units).reshape(-1),
        weight=np.tile(one.weight, copies),
        area=area64,
        vulnerable_idx=np.flatnonzero(tiled.vulnerable),
        kind_vulnerable=np.tile(one.kind_vulnerable.reshape(len(KINDS), n), (1, copies)).reshape(-1),
        point=(np.arange(len(GOODS))[:, None] * big_areas + area64).reshape(-1).astype(
            np.int16 if big_areas * len(GOODS) <= 2**15 else np.int32
        ),
        point_bounds=_point_bounds(area64, big_areas, big_n),
        n_needing=one.n_needing,
        has=[(has := np.flatnonzero(units[k] > 0).astype(np.int32), units[k, has]) for k in range(len(KINDS))],
        service_pos=service_pos,
        service_hh=service_pos % big_n,
    )
    per_pop[copies] = (tiled, fixed)
    return tiled, fixed


class BatchSetup(_Setup):
    """The replications ``setups`` (of one population, scenario and number of days) as one
    :class:`_Setup` of copies of the population: copy ``c`` draws what replication ``c`` draws."""

    def __init__(self, setups: list[_Setup]):  # noqa: D107 (no super().__init__: nothing is drawn here)
        first = setups[0]
        self.setups, self.copies, self.days = setups, len(setups), first.days
        self.population, self.fixed = _tiled(first.population, self.copies)
        self.scenario = first.scenario
        one, n = first.population.n, self.population.n
        # a need falls due on the same days of its cycle in every copy: each day's positions in
        # ``pending.ravel()`` (kind k, copy c, household i: k * n + c * one + i)
        self.due_parts = []
        for k, parts in enumerate(first.due_parts):
            per_phase = []
            for phase in range(len(parts)):
                positions = [s.due_parts[k][phase][0] + (k * (n - one) + c * one) for c, s in enumerate(setups)]
                per_phase.append((np.concatenate(positions), np.concatenate([s.due_parts[k][phase][1] for s in setups])))
            self.due_parts.append(per_phase)
        self._merged: list[DayPlan | None] = [None] * self.days
        self._joined: dict[tuple[tuple[int, ...], ...], tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_] | None,
                                                             npt.NDArray[np.bool_] | None, npt.NDArray[np.float64],
                                                             npt.NDArray[np.float64]]] = {}
        # each copy's needs met in its own part of the day's row (days * kinds * 2 slots a copy)
        span = self.days * len(KINDS) * 2
        offset = np.repeat(np.arange(self.copies) * span, one).astype(
            np.int16 if self.copies * span <= 2**15 else np.int32)
        self._met_slots = np.tile(offset, len(KINDS)) + self.fixed.kind_vulnerable

    @property
    def met_slots(self) -> npt.NDArray[np.integer]:
        return self._met_slots

    @property
    def one_fixed(self) -> _Fixed:
        return self.setups[0].fixed

    def phone_draw(self, day: int) -> npt.NDArray[np.float32]:
        return np.concatenate([s.phone_draw(day) for s in self.setups])

    def plan(self, day: int) -> DayPlan:
        """Each copy's day plan, side by side (the scenario's flags are the same in every copy)."""
        found = self._merged[day]
        if found is None:
            plans = [s.plan(day) for s in self.setups]
            first = plans[0]
            n_areas = len(first.visits)
            # a replication's plans share their arrays between days with the same disruptions,
            # so the copies' arrays side by side are made once for each combination
            same = tuple((id(p.covered), id(p.kind_covered), id(p.reachable), id(p.visits), id(p.coverage))
                         for p in plans)
            if same not in self._joined:
                self._joined[same] = self._join(plans)
            covered, kind_covered, reachable, visits, coverage = self._joined[same]
            arrivals = None
            if any(p.arrivals is not None for p in plans):
                per_copy = [p.arrivals if p.arrivals is not None else np.zeros(len(GOODS) * n_areas) for p in plans]
                # points: good, then copy, then area
                arrivals = np.stack([a.reshape(len(GOODS), n_areas) for a in per_copy], axis=1).reshape(-1)
            found = DayPlan(
                key=first.key,
                covered=covered,
                ratio=first.ratio,
                self_fetch=first.self_fetch,
                report_rate=first.report_rate,
                reachable=reachable,
                visits=visits,
                kind_covered=kind_covered,
                all_covered=all(p.all_covered for p in plans),
                coverage=coverage,
                arrivals=arrivals,
            )
            self._merged[day] = found
        return found

    def _join(self, plans: list[DayPlan]) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_] | None,
                                                   npt.NDArray[np.bool_] | None, npt.NDArray[np.float64],
                                                   npt.NDArray[np.float64]]:
        """The copies' coverage, reachability and visits side by side (every plan of the
        setups stays in their lists while this batch lives, so the ids keyed on stay theirs)."""
        kind_covered = None
        if any(p.kind_covered is not None for p in plans):
            kind_covered = np.concatenate(
                [p.kind_covered if p.kind_covered is not None else np.ones((len(KINDS), p.covered.shape[1]), bool)
                 for p in plans], axis=1)
        reachable = None
        if any(p.reachable is not None for p in plans):
            reachable = np.concatenate(
                [p.reachable if p.reachable is not None else np.ones(p.covered.shape[1], dtype=bool) for p in plans]
            )
        return (np.concatenate([p.covered for p in plans], axis=1), kind_covered, reachable,
                np.concatenate([p.visits for p in plans]), np.stack([p.coverage for p in plans]))
