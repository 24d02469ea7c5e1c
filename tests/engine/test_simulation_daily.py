"""Time to help and equity per day and group (issue 14 §1 outputs), against truths counted by hand on
a population of two households, a property (with sufficient supply every need is met the day it
arises, every day), and the equity module's own Gini and concentration index on the day's amounts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from civicgrid.engine._simulation_kernel import _Setup, run_policy
from civicgrid.engine._simulation_model import population_from_facts
from civicgrid.engine.equity import concentration_index, gini
from civicgrid.engine.governance import ActorInput
from civicgrid.engine.simulation import scenario_from_dict, simulate
from tests.engine.test_simulation_validity import AMPLE, _community

DAYS = 10
CLOSED_UNTIL = 3  # nobody may fetch on days 0, 1 and 2


def _two_households():
    """A (other household, two people, can fetch) and B (vulnerable, alone, cannot fetch); food only
    (no chronic illness, care or counselling); no volunteer, so B is never reached; plenty of stock."""
    population = population_from_facts(
        household_ids=["A", "B"], area_codes=["g", "g"], size=[2, 1], weight=[1.0, 2.0],
        vulnerable=[False, True], can_fetch=[True, False], chronic=[0, 0], elder_alone=[0, 0],
        psychosocial=[0, 0],
        actors=[ActorInput(id="all", name="All", sector="state", kind="party_committee", capacities=AMPLE)],
    )
    scenario = scenario_from_dict({"name": "closed, then open", "days": DAYS,
                                   "supply": {"ratio": 5.0, "every": 1, "initial_days": 20},
                                   "events": [{"type": "self_fetch", "from": 0, "to": CLOSED_UNTIL,
                                               "allowed": False}]})
    return population, scenario


def _due_days(setup: _Setup, household: int) -> list[int]:
    """The days household ``household`` falls due for food (its phase is the replication's draw)."""
    return [d for d in range(DAYS) if household in setup.due[0][(-d) % 3]]


@pytest.mark.parametrize("seed", range(8))  # A first falls due on day 0, 1 or 2 among these seeds
def test_days_waited_by_the_day_needs_arise_are_the_hand_count(seed: int) -> None:
    population, scenario = _two_households()
    setup = _Setup(population, scenario, seed=seed, run=0, days=DAYS)
    output = run_policy(setup, "equity")
    due_a, due_b = _due_days(setup, 0), _due_days(setup, 1)
    assert len(due_a) >= 3 and due_a[0] < 3 and due_b[0] < 3

    # A, by hand: a need arises on a due day when nothing is open; it is met on the first day from
    # day 3 on (A fetches everything open), so it waits (that day - the day it arose)
    arisen_a: dict[int, int] = {}
    open_since = None
    for d in range(DAYS):
        if d in due_a and open_since is None:
            open_since = d
        if open_since is not None and d >= CLOSED_UNTIL:
            arisen_a[open_since] = d - open_since
            open_since = None
    first = due_a[0]
    assert arisen_a[first] == CLOSED_UNTIL - first  # e.g. arose on day 1, met on day 3: 2 days
    assert all(wait == 0 for day, wait in arisen_a.items() if day >= CLOSED_UNTIL)

    frame = simulate(population, scenario, runs=1, seed=seed).daily  # replication 0 draws the same phases

    def series(metric: str, group: str) -> dict[int, float]:
        rows = frame[(frame["metric"] == metric) & (frame["group"] == group)]
        return dict(zip(rows["day"].astype(int), rows["value"], strict=True))

    assert series("needs_arisen", "other") == {d: 1.0 for d in arisen_a}
    assert series("days_to_help", "other") == {d: float(w) for d, w in arisen_a.items()}
    assert series("helped_within_a_day", "other") == {d: float(w <= 1) for d, w in arisen_a.items()
                                                      if d + 1 <= DAYS - 1}
    # B: one need arises on its first due day and is never met: it waits until the end of the run
    # (a lower bound), later due days add to the same open need
    assert series("needs_arisen", "vulnerable") == {due_b[0]: 1.0}
    assert series("days_to_help", "vulnerable") == {due_b[0]: float(DAYS - due_b[0])}
    assert series("helped_within_a_day", "vulnerable") == {due_b[0]: 0.0}
    # both groups together, and by tier (food is tier 1)
    both = series("needs_arisen", "all")
    assert sum(both.values()) == len(arisen_a) + 1
    assert series("needs_arisen", "tier1") == both and series("needs_arisen", "tier0") == {}
    assert output.arisen.sum() == len(arisen_a) + 1


@pytest.mark.parametrize("seed", range(8))
def test_daily_equity_is_the_equity_modules_on_the_days_amounts(seed: int) -> None:
    population, scenario = _two_households()
    setup = _Setup(population, scenario, seed=seed, run=0, days=DAYS)
    output = run_policy(setup, "equity")
    due_a, due_b = _due_days(setup, 0), _due_days(setup, 1)
    for d in range(DAYS):
        # unmet need in need events: A has one delivery open from its first due day until day 3;
        # B has every delivery due so far open
        a = 1.0 if due_a[0] <= d < CLOSED_UNTIL else 0.0
        b = float(sum(1 for x in due_b if x <= d))
        amounts = [a, b]
        if a + b == 0:
            assert np.isnan(output.gini[d]) and np.isnan(output.concentration[d])
            continue
        assert output.gini[d] == pytest.approx(gini(amounts))
        assert output.concentration[d] == pytest.approx(concentration_index(amounts, rank_by=[1.0, 2.0]))


def test_with_sufficient_supply_every_need_is_met_the_day_it_arises_every_day() -> None:
    population = _community()
    scenario = scenario_from_dict({"name": "calm", "days": 21,
                                   "supply": {"ratio": 1.5, "every": 1, "initial_days": 3}})
    result = simulate(population, scenario, policies=("equity", "fcfs"), runs=3, seed=1)
    daily = result.daily
    for group in ("all", "vulnerable", "other", "tier0", "tier1", "tier2"):
        waits = daily[(daily["metric"] == "days_to_help") & (daily["group"] == group)]
        assert len(waits) and (waits["value"] == 0).all(), group
        helped = daily[(daily["metric"] == "helped_within_a_day") & (daily["group"] == group)]
        assert (helped["value"] == 1).all(), group
    every_day = daily[(daily["metric"] == "days_to_help") & (daily["group"] == "all")]
    assert set(every_day["day"]) == set(range(21))  # needs arise every day in a community of 600
    # no unmet need on any day: no Gini, concentration or gap to report
    assert not daily["metric"].isin(["gini_unmet_need", "concentration_unmet_need", "unmet_need_gap"]).any()


def test_scarcity_makes_people_wait_and_intervals_cover_the_runs(tmp_path) -> None:
    population = _community(volunteers=5)
    scenario = scenario_from_dict({"name": "short", "days": 14,
                                   "supply": {"ratio": 1.0, "every": 1, "initial_days": 1},
                                   "events": [{"type": "supply", "from": 2, "to": 10, "ratio": 0.3},
                                              {"type": "self_fetch", "from": 0, "allowed": False}]})
    result = simulate(population, scenario, policies=("equity", "fcfs"), runs=4, seed=2)
    intervals = result.intervals()
    waits = intervals[(intervals["metric"] == "days_to_help") & (intervals["group"] == "vulnerable")]
    assert waits["mean"].max() > 1 and (waits["low"] <= waits["mean"]).all()
    assert (waits["mean"] <= waits["high"]).all() and waits["runs"].max() == 4
    gap = intervals[intervals["metric"] == "unmet_need_gap"]
    assert len(gap) and set(gap["group"]) == {"vulnerable_vs_other"}
    # the tidy files of `civicgrid simulate` carry the new series
    result.write(tmp_path)
    for name in ("daily", "intervals"):
        for frame in (pd.read_csv(tmp_path / f"{name}.csv"), pd.read_parquet(tmp_path / f"{name}.parquet")):
            assert {"days_to_help", "helped_within_a_day", "needs_arisen", "gini_unmet_need",
                    "concentration_unmet_need", "unmet_need_gap"} <= set(frame["metric"])
