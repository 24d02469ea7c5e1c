"""The day loop gives the numbers of the loop it replaced (kept in ``simulation_reference.py``),
on populations and scenarios that take every path: every household covered or not, areas sorted
or not, visits and stock short or not, cut-offs, phones down, withdrawals, every policy; and
replications run side by side (``run_batch``) give each replication's own numbers.

Every output is equal to the bit.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from civicgrid.engine._simulation_batch import run_batch, run_replications
from civicgrid.engine._simulation_kernel import run_replication
from civicgrid.engine._simulation_setup import _phases
from civicgrid.engine._simulation_stats import exact_in_any_order
from civicgrid.engine.governance import ActorInput, load_governance_fixture
from civicgrid.engine.simulation import (
    bundled_scenarios,
    load_scenario,
    population_from_governance,
    scenario_from_dict,
    simulate,
    synthetic_population,
)
from tests.engine import simulation_reference as reference
from tests.engine.test_simulation_validity import SCARCITY, _community

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "governance"
POLICIES = ("equity", "fcfs", "lottery", "proportional", "equal")


def _assert_same(got, want, where: str) -> None:
    for field in dataclasses.fields(want):
        a, b = getattr(got, field.name), getattr(want, field.name)
        at = f"{where}: {field.name}"
        if not isinstance(b, np.ndarray):
            assert a == b, at
            continue
        assert a.dtype == b.dtype and a.shape == b.shape, at
        assert np.array_equal(a, b, equal_nan=True), at


def _populations():
    short_providers = [
        ActorInput(id="clinic", name="Clinic", sector="state", kind="health_station",
                   capacities={"medicine": 150}, service_area=("a",)),
        ActorInput(id="pharmacy", name="Pharmacy", sector="capital", kind="shop",
                   capacities={"medicine": 100}, service_area=("b", "c")),
        ActorInput(id="team", name="Team", sector="society", kind="volunteer_team",
                   capacities={"food_supply": 500, "care_vulnerable": 40}, volunteer_share=1.0),
    ]
    return {
        "synthetic": lambda: synthetic_population(households=2000, seed=2),
        "baibuting": lambda: population_from_governance(
            load_governance_fixture(FIXTURES / "baibuting.yaml"), seed=1),
        # areas interleaved (not sorted), providers short of what the households need
        "short providers": lambda: _community(actors=short_providers, areas=("a", "b", "c"),
                                              volunteers=12),
        "no volunteers": lambda: _community(volunteers=0),
    }


def _scenarios(population: str):
    scenarios = {name: load_scenario(path) for name, path in sorted(bundled_scenarios().items())}
    events = [*SCARCITY["events"], {"type": "cut_off", "from": 2, "to": 5, "share": 0.3},
              {"type": "phones_down", "from": 1, "to": 3, "report_rate": 0.4},
              {"type": "supply", "from": 17, "to": 19, "ratio": 0.0}]
    if population == "short providers":
        events += [{"type": "withdraw", "from": 8, "to": 12, "actors": ["pharmacy"]},
                   {"type": "cut_off", "from": 9, "to": 11, "areas": ["b"]}]
    if population == "baibuting":
        events += [{"type": "withdraw", "from": 5, "actors": ["enterprise-group"]}]
    scenarios["mixed"] = scenario_from_dict(
        {**SCARCITY, "supply": {"ratio": 0.8, "every": 3, "cv": 0.4, "initial_days": 1}, "events": events})
    return scenarios


@pytest.mark.parametrize("population_name", list(_populations()))
def test_the_day_loop_gives_the_reference_loops_numbers_to_the_bit(population_name: str) -> None:
    population = _populations()[population_name]()
    for scenario_name, scenario in _scenarios(population_name).items():
        for run in (0, 1):
            new = run_replication(population, scenario, policies=POLICIES, seed=7, run=run,
                                  days=scenario.days)
            old = reference.run_replication(population, scenario, policies=POLICIES, seed=7,
                                            run=run, days=scenario.days)
            for got, want in zip(new, old, strict=True):
                _assert_same(got, want, f"{population_name}, {scenario_name}, run {run}, {want.policy}")


@pytest.mark.parametrize("shape", [(6, 1), (6, 7), (6, 10_001), (3, 5)])
def test_phases_are_numpys_bounded_integers(shape: tuple[int, int]) -> None:
    for seed in range(5):
        want = np.random.default_rng(seed).integers(0, 2**15, size=shape, dtype=np.int16)
        got = _phases(np.random.default_rng(seed), shape)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_a_sum_said_to_be_exact_is_the_same_in_every_order() -> None:
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(200):
        count, events, max_units = int(rng.integers(1, 5000)), int(rng.integers(1, 40)), int(rng.integers(1, 40))
        if not exact_in_any_order(count=count, events=events, max_units=max_units):
            continue
        units = rng.integers(1, max_units + 1, count)
        held = rng.integers(1, events * units + 1)
        amounts = held.astype(np.int16) * (1.0 / units).astype(np.float32)  # as the day loop computes them
        assert amounts.dtype == np.float32
        exact = math.fsum(amounts.astype(np.float64).tolist())
        for order in (amounts, amounts[::-1], np.sort(amounts), rng.permutation(amounts)):
            assert float(order.sum(dtype=np.float64)) == exact
        checked += 1
    assert checked > 100


@pytest.mark.parametrize("population_name", list(_populations()))
def test_replications_run_side_by_side_give_each_replications_own_numbers(population_name: str) -> None:
    population = _populations()[population_name]()
    for scenario_name, scenario in _scenarios(population_name).items():
        for policy in POLICIES:
            runs = [0, 1, 2]
            together = run_batch(population, scenario, policy=policy, seed=7, runs=runs, days=scenario.days)
            for run, got in zip(runs, together, strict=True):
                (want,) = reference.run_replication(population, scenario, policies=(policy,), seed=7, run=run,
                                                    days=scenario.days)
                _assert_same(got, want, f"{population_name}, {scenario_name}, run {run}, {policy}, side by side")


def test_replications_side_by_side_with_every_policy_are_run_replications() -> None:
    population = _populations()["synthetic"]()
    scenario = _scenarios("synthetic")["mixed"]
    together = run_replications(population, scenario, policies=POLICIES, seed=3, runs=[4, 5, 6],
                                days=scenario.days)
    for run, per_policy in zip([4, 5, 6], together, strict=True):
        alone = run_replication(population, scenario, policies=POLICIES, seed=3, run=run, days=scenario.days)
        for got, want in zip(per_policy, alone, strict=True):
            assert got.policy == want.policy
            _assert_same(got, want, f"run {run}, {want.policy}")


def test_a_serial_run_with_a_progress_bar_reports_often_and_gives_the_same_numbers() -> None:
    # a small population runs 20 replications side by side when nobody watches; a progress bar must
    # still move at least ten times (not jump from nothing to done), and the numbers must not change
    population = _populations()["synthetic"]()
    scenario = _scenarios("synthetic")["mixed"]
    kwargs = {"policies": ("equity", "fcfs"), "runs": 20, "seed": 5, "days": 8}
    seen: list[tuple[int, int]] = []
    watched = simulate(population, scenario, progress=lambda done, total: seen.append((done, total)), **kwargs)
    unwatched = simulate(population, scenario, **kwargs)
    assert len(seen) >= 10
    assert [d for d, _ in seen] == sorted({d for d, _ in seen}) and seen[-1] == (20, 20)
    pd.testing.assert_frame_equal(watched.daily, unwatched.daily, check_exact=True)
    pd.testing.assert_frame_equal(watched.runs, unwatched.runs, check_exact=True)
