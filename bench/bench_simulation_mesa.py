"""The simulation's dynamics written again as a Mesa model, against the array engine.

Issue 14, section 2: the same dynamics as :mod:`civicgrid.engine.simulation`, one Mesa agent per
household (10,000 households x 30 days, the bundled ``lockdown`` scenario, policy ``fcfs``, the one
a per-agent loop states plainly: serve in order of the oldest open need, then household number).
Both run in this process on the same population (``synthetic_population``), each replication with
its own seed (so the two never share draws); the script checks that the means over replications
of the unmet need per vulnerable household and per other household agree within Monte Carlo
error (|z| < 3 with the two standard errors), and prints the time per household-day of each and
their ratio (goal: 100x or more).

Run: ``.venv/bin/python bench/bench_simulation_mesa.py [--households N] [--days D] [--mesa-runs R]
[--one-by-one]``. The engine runs its replications as :func:`civicgrid.engine.simulation.simulate`
does: a small population's side by side, a few in one day loop (``_simulation_batch``, four at
10,000 households), each giving the numbers it gives alone; ``--one-by-one`` runs them one at a
time.

Figures (2026-11-29, CPU time per run; the 2-core machine shared with three other sessions):

- before the day loop was reworked (commit f7dba54), quiet machine (load 0.2): engine 0.018 s,
  Mesa 0.69 s, 39x; under load 7: engine 0.020 s, Mesa 0.85 s, 43x;
- after that rework (89ca21d): 78x at load 1.6 (engine 9.0 ms, Mesa 0.68 s); 86x and 82x at
  load 2.9-3.3 (engine 9.45 and 10 ms, Mesa 0.81 and 0.85 s);
- now, side by side, seven runs at load 2.4-3.5: engine 7.2-7.7 ms, Mesa 0.79-0.89 s,
  **106x, 108x, 110x, 113x, 115x, 119x, 120x**; one by one at load 3.0: engine 9.6 ms, Mesa
  0.89 s, 93x. The engine alone, the three alternating in one process: 89ca21d 9.65 and 9.85 ms,
  now one by one 8.87 and 9.61 ms (1.09x and 1.03x), now side by side 6.93 and 7.62 ms (1.39x
  and 1.29x; load 2.3 and 3.2). Instructions per run (callgrind, not affected by load): 133 M,
  119 M one by one, 103.5 M side by side.
- the engine's numbers did not change (same means, to the last digit: 4.713 and 3.970);
  means agree with Mesa's (z = +1.51 and +0.72).
- after the gathers were reworked (commits after d821044: ``take`` and ``compress`` instead of
  ``[]`` with indices or masks, which cost two to three times more here; the kinds few households
  need turned into amounts at their positions only; whole-day sort keys made without
  conversions; a day's figures of every copy stored at once; the copies' plan arrays joined
  once), the engine alone, warm, best of three, processes alternating with d821044 at load
  3.0-4.0, seven pairs on the final code: 6.32-6.94 ms against 6.95-7.55 ms, 1-15 % less a
  pair, 9.5 % on the means (6.55 against 7.24 ms; the last four pairs 6.39, 6.94, 6.41, 6.41
  against 7.55, 7.39, 7.49, 7.25 ms, 12 %); callgrind was not rerun; the bench itself,
  alternating with d821044 at load 3.8-4.1: engine 6.90, 7.49, 7.41, 7.76 ms against 7.24,
  7.46, 7.64, 7.70 ms, **115x, 117x, 110x, 108x** against 107x, 108x, 109x, 98x; and four more
  at load 4.2, before the last change to the kernel (039de1f): 121x, 112x, 118x, 114x (engine
  6.79-7.21 ms, Mesa 0.79-0.82 s). The bench's
  engine figure is one cold pass of 40 replications (the tiled population and the first
  allocations: about 0.25 ms a replication); on this loaded machine it moves by 10 % from run
  to run. Every output of every replication is still equal to the bit to the reference loop's
  (``tests/engine/test_simulation_loop.py``), so the means are the same to the last digit.

What is left at ten thousand households (section timers, side by side): the day's figures
(``DailyNeed.record``: about a quarter, of which the Gini index a quarter), the goods'
requests and the first-come-first-served order at short points (about a fifth), the needs
falling due (gathers and scatters over about 17,000 positions a day, a tenth), finding the
requests (``nonzero``, a twentieth). The goal of 15 % less engine time was not reached: about
9.5 % (the margin over 100x is now 8-21 % at load 4). Tried and dropped: the first-come-first-
served amounts from a cut-off day per point instead of a sort (as slow: a weighted ``bincount``
costs what the radix sort did), food falling due by whole rows (a masked write of a row cost
more than the scatter it replaced).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import mesa

from civicgrid.engine._simulation_batch import batch_size, run_batch
from civicgrid.engine._simulation_kernel import _day_flags, run_replication
from civicgrid.engine._simulation_model import (
    GOODS,
    KIND_INTERVAL,
    KINDS,
    SERVICES,
    VISITS_PER_VOLUNTEER_PER_DAY,
    Population,
)
from civicgrid.engine.simulation import (
    Scenario,
    bundled_scenarios,
    load_scenario,
    synthetic_population,
)

N_KINDS = len(KINDS)
INTERVAL = [int(i) for i in KIND_INTERVAL]


class Household(mesa.Agent):
    """One household: what it needs, what is still open and since when."""

    def __init__(self, model: LockdownModel, index: int) -> None:
        super().__init__(model)
        pop = model.population
        self.index = index
        self.area = int(pop.area[index])
        self.size = int(pop.size[index])
        self.vulnerable = bool(pop.vulnerable[index])
        self.can_fetch = bool(pop.can_fetch[index])
        self.units = [int(pop.units[k, index]) for k in range(N_KINDS)]
        self.phase = [model.rng.integers(INTERVAL[k]) for k in range(N_KINDS)]
        self.pending = [0] * N_KINDS
        self.since = [-1] * N_KINDS

    def fall_due(self) -> None:
        day = self.model.day
        for k in range(N_KINDS):
            if self.units[k] and (day + self.phase[k]) % INTERVAL[k] == 0:
                if self.pending[k] == 0:
                    self.since[k] = day
                self.pending[k] += self.units[k]

    def wants(self, kinds: tuple[int, ...]) -> bool:
        return any(self.pending[k] > 0 for k in kinds)

    def oldest(self) -> int:
        return min(self.since[k] for k in range(N_KINDS) if self.pending[k] > 0)

    def unmet(self) -> float:
        return sum(self.pending[k] / self.units[k] for k in range(N_KINDS) if self.units[k])


class LockdownModel(mesa.Model):
    """Needs fall due, supplies arrive, visits then stock go first come, first served."""

    def __init__(self, population: Population, scenario: Scenario, *, seed: int) -> None:
        super().__init__(rng=seed)
        self.population, self.scenario, self.day = population, scenario, 0
        for i in range(population.n):
            Household(self, i)
        self.households: list[Household] = list(self.agents)
        n_areas = len(population.areas)
        self.expected = [[0.0] * len(GOODS) for _ in range(n_areas)]
        for h in self.households:
            for g, k in enumerate(GOODS):
                self.expected[h.area][g] += h.units[k] / INTERVAL[k]
        self.stock = [[0] * len(GOODS) for _ in range(n_areas)]  # whole units, as they arrive (rounded)
        self.volunteers = [(int(a), self.rng.random()) for a in population.volunteer_area]
        self.unmet_vulnerable = 0.0
        self.unmet_other = 0.0

    def step(self) -> None:
        day, supply = self.day, self.scenario.supply
        self.agents.do("fall_due")
        ratio, self_fetch, _ = _day_flags(self.scenario, day)
        cv = supply.cv
        for area, row in enumerate(self.stock):
            for g in range(len(GOODS)):
                if day == 0:
                    row[g] += round(self.expected[area][g] * supply.initial_days)
                if day % supply.every == 0:
                    noise = self.rng.gamma(1 / cv**2, cv**2) if cv > 0 else 1.0
                    row[g] += round(self.expected[area][g] * supply.every * ratio * noise)
        sick = max((e.params["share"] for e in self.scenario.events
                    if e.type == "volunteers_sick" and e.active(day)), default=0.0)
        capacity = [0] * len(self.stock)
        for area, u in self.volunteers:
            if u >= sick:
                capacity[area] += VISITS_PER_VOLUNTEER_PER_DAY
        visited: set[int] = set()
        fetching: set[int] = set()
        asks: list[Household] = []
        for h in self.households:
            goods = h.wants(GOODS)
            if goods and self_fetch and h.can_fetch:
                fetching.add(h.index)
                if h.wants(SERVICES):
                    asks.append(h)
            elif goods or h.wants(SERVICES):
                asks.append(h)
        for h in sorted(asks, key=lambda h: (h.oldest(), h.index)):
            if capacity[h.area] > 0:
                capacity[h.area] -= 1
                visited.add(h.index)
        reached = [h for h in self.households if h.index in visited or h.index in fetching]
        for g, k in enumerate(GOODS):
            for h in sorted((h for h in reached if h.pending[k] > 0),
                            key=lambda h: (h.since[k], h.index)):
                give = min(h.pending[k], self.stock[h.area][g])
                self.stock[h.area][g] -= give
                h.pending[k] -= give
                if h.pending[k] == 0:
                    h.since[k] = -1
        for h in reached:
            if h.index in visited:
                for k in SERVICES:
                    h.pending[k], h.since[k] = 0, -1
        for h in self.households:
            if h.vulnerable:
                self.unmet_vulnerable += h.unmet()
            else:
                self.unmet_other += h.unmet()
        self.day += 1


def _se(values: list[float]) -> float:
    return statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--mesa-runs", type=int, default=4)
    parser.add_argument("--engine-runs", type=int, default=40)
    parser.add_argument("--one-by-one", action="store_true",
                        help="run the engine's replications one at a time (run_replication), not side by side")
    args = parser.parse_args()
    population = synthetic_population(households=args.households, seed=2026)
    scenario = load_scenario(bundled_scenarios()["lockdown"])
    n_v = int(population.vulnerable.sum())
    n_o = population.n - n_v

    engine: dict[str, list[float]] = {"vulnerable": [], "other": []}
    started = time.process_time()
    if args.one_by_one:
        outputs = [run_replication(population, scenario, policies=("fcfs",), seed=1, run=run,
                                   days=args.days)[0] for run in range(args.engine_runs)]
    else:
        outputs = run_batch(population, scenario, policy="fcfs", seed=1, runs=range(args.engine_runs),
                            days=args.days)
    engine_time = (time.process_time() - started) / args.engine_runs
    for out in outputs:
        assert out.coverage.min() == 1.0  # every household has a provider: Mesa needs no coverage
        engine["vulnerable"].append(out.shortfall[:, 1].sum() / n_v)
        engine["other"].append(out.shortfall[:, 2].sum() / n_o)

    mesa_result: dict[str, list[float]] = {"vulnerable": [], "other": []}
    started = time.process_time()
    for run in range(args.mesa_runs):
        model = LockdownModel(population, scenario, seed=10_000 + run)
        for _ in range(args.days):
            model.step()
        mesa_result["vulnerable"].append(model.unmet_vulnerable / n_v)
        mesa_result["other"].append(model.unmet_other / n_o)
    mesa_time = (time.process_time() - started) / args.mesa_runs

    household_days = args.households * args.days
    print(f"{args.households:,} households x {args.days} days, scenario {scenario.name}, policy fcfs "
          f"(Mesa {mesa.__version__}); engine replications "
          f"{'one by one' if args.one_by_one else f'{batch_size(population)} side by side'}")
    agree = True
    for group in ("vulnerable", "other"):
        a, b = engine[group], mesa_result[group]
        z = (statistics.mean(a) - statistics.mean(b)) / math.hypot(_se(a), _se(b))
        agree &= abs(z) < 3
        print(f"  unmet need per {group} household: engine {statistics.mean(a):.3f} "
              f"(SE {_se(a):.3f}, {len(a)} runs), Mesa {statistics.mean(b):.3f} "
              f"(SE {_se(b):.3f}, {len(b)} runs), z = {z:+.2f}")
    print(f"  means agree within Monte Carlo error (|z| < 3): {'yes' if agree else 'NO'}")
    print(f"  CPU per run: engine {engine_time * 1000:.2f} ms ({household_days / engine_time / 1e6:.2f} M "
          f"household-days/s), Mesa {mesa_time:.2f} s ({household_days / mesa_time / 1e3:.1f} k "
          f"household-days/s)")
    print(f"  ratio (Mesa time / engine time per household-day): {mesa_time / engine_time:.0f}x "
          f"(goal 100x or more)")
    if not agree:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
