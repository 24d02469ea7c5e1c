"""Validity of the simulation: properties with an independent truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from civicgrid.engine._simulation_kernel import _Setup, run_policy, run_replication
from civicgrid.engine._simulation_model import KINDS, population_from_facts
from civicgrid.engine.governance import ActorInput, function_coverage, load_governance_fixture
from civicgrid.engine.simulation import (
    population_from_governance,
    scenario_from_dict,
    simulate,
    synthetic_population,
)

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "governance"
AMPLE = {"food_supply": 10**6, "medicine": 10**6, "care_vulnerable": 10**6}


def _community(*, n: int = 600, volunteers: int = 60, seed: int = 3, actors=None, areas=("a", "b")):
    rng = np.random.default_rng(seed)
    area = np.array(areas)[np.arange(n) % len(areas)]
    return population_from_facts(
        household_ids=[f"h{i}" for i in range(n)],
        area_codes=area,
        size=rng.integers(1, 5, n),
        weight=1 + rng.choice([0, 0.3, 0.8], n),
        vulnerable=rng.random(n) < 0.3,
        can_fetch=rng.random(n) < 0.6,
        chronic=rng.integers(0, 2, n),
        elder_alone=rng.random(n) < 0.1,
        psychosocial=rng.random(n) < 0.05,
        actors=actors or [ActorInput(id="all", name="All", sector="state", kind="party_committee",
                                     capacities=AMPLE, volunteer_share=1.0)],
        volunteer_area_codes=[areas[i % len(areas)] for i in range(volunteers)],
        volunteer_actor_ids=[(actors or [ActorInput(id="all", name="", sector="state",
                                                    kind="x")])[0].id] * volunteers,
        seed=seed,
    )


def test_regular_sufficient_supply_leaves_no_unmet_need() -> None:
    population = _community()
    scenario = scenario_from_dict({"name": "calm", "days": 21,
                                   "supply": {"ratio": 1.5, "every": 1, "initial_days": 3}})
    out = run_replication(population, scenario, policies=("equity", "fcfs"), seed=1, run=0,
                          days=21)
    for run in out:
        assert run.coverage.min() == 1.0
        # every need is met on the day it falls due: nothing is ever left open overnight
        assert run.shortfall.max() == 0.0
        assert run.unmet.max() == 0


def test_without_delivery_capacity_only_those_who_fetch_are_served() -> None:
    population = _community(volunteers=0)
    scenario = scenario_from_dict({"name": "no visits", "days": 14,
                                   "supply": {"ratio": 1.5, "every": 1, "initial_days": 3}})
    setup = _Setup(population, scenario, seed=2, run=0, days=14)
    out = run_policy(setup, "equity")
    units = population.units
    goods_only = (units[3:] == 0).all(axis=0)
    has_need = (units > 0).any(axis=0)
    # the independent truth: a household is served in full iff it can fetch and needs only goods
    never_short = out.shortfall_days == 0
    np.testing.assert_array_equal(never_short, ~has_need | (population.can_fetch & goods_only))
    # and on every day exactly the fetching households with a need were reached
    assert out.served.max() <= int((population.can_fetch & has_need).sum())


def test_removing_the_only_provider_leaves_exactly_the_governance_gap() -> None:
    actors = [
        ActorInput(id="clinic", name="Clinic", sector="state", kind="health_station",
                   capacities={"medicine": 10**5}, service_area=("a",)),
        ActorInput(id="pharmacy", name="Pharmacy", sector="capital", kind="shop",
                   capacities={"medicine": 10**5}, service_area=("b", "c")),
        ActorInput(id="team", name="Team", sector="society", kind="volunteer_team",
                   capacities={"food_supply": 10**5, "care_vulnerable": 10**5},
                   volunteer_share=1.0),
    ]
    population = _community(actors=actors, areas=("a", "b", "c"), volunteers=90)
    scenario = scenario_from_dict({
        "name": "pharmacy closes", "days": 14,
        "supply": {"ratio": 1.5, "every": 1, "initial_days": 3},
        "events": [{"type": "withdraw", "from": 0, "actors": ["pharmacy"]}]})
    out = run_policy(_Setup(population, scenario, seed=4, run=0, days=14), "equity")
    medicine = [KINDS.index(k) for k in ("medicine", "insulin", "dialysis")]
    needs_medicine = (population.units[medicine] > 0).any(axis=0)
    short = out.shortfall_days > 0
    # the governance engine, on the same community, after the same removal
    coverage = {c.function: c for c in function_coverage(
        inputs=population.governance_inputs(), remove_actors=("pharmacy",))}
    gap = coverage["medicine"]
    in_gap = np.isin(np.array(population.areas)[population.area], ["b", "c"])
    assert gap.without_provider == int(in_gap.sum())
    # exactly the households that need medicine where no provider is left go short
    np.testing.assert_array_equal(short, needs_medicine & in_gap)
    assert int((short & ~population.vulnerable).sum() + (short & population.vulnerable).sum()) == \
        int((needs_medicine & in_gap).sum())


SCARCITY = {"name": "shortage", "days": 20, "supply": {"ratio": 1.0, "every": 1},
            "events": [{"type": "supply", "from": 4, "to": 16, "ratio": 0.35},
                       {"type": "self_fetch", "from": 0, "allowed": False},
                       {"type": "volunteers_sick", "from": 6, "to": 12, "share": 0.5}]}


def test_under_scarcity_equity_leaves_vulnerable_households_less_unmet_need_than_fcfs() -> None:
    population = synthetic_population(households=3000, seed=5)
    result = simulate(population, scenario_from_dict(SCARCITY), policies=("equity", "fcfs"),
                      runs=4, seed=9)
    runs = result.runs.pivot(index="run", columns="policy", values="unmet_need_vulnerable")
    # on every replication's draws, not only on average
    assert (runs["equity"] < runs["fcfs"]).all(), runs


def test_same_seed_same_numbers_and_policies_share_the_draws() -> None:
    population = synthetic_population(households=800, seed=6)
    scenario = scenario_from_dict({**SCARCITY, "events": [
        *SCARCITY["events"], {"type": "cut_off", "from": 2, "to": 5, "share": 0.3},
        {"type": "phones_down", "from": 1, "to": 3, "report_rate": 0.4}]})
    a = simulate(population, scenario, policies=("equity", "fcfs", "lottery"), runs=2, seed=3)
    b = simulate(population, scenario, policies=("lottery", "equity"), runs=2, seed=3)
    for policy in ("equity", "lottery"):
        left = a.daily[a.daily.policy == policy].reset_index(drop=True)
        right = b.daily[b.daily.policy == policy].reset_index(drop=True)
        np.testing.assert_array_equal(left["value"].to_numpy(), right["value"].to_numpy())
    c = simulate(population, scenario, policies=("equity",), runs=2, seed=4)
    assert not np.array_equal(
        a.daily[a.daily.policy == "equity"]["value"].to_numpy(), c.daily["value"].to_numpy())


# --------------------------------------------------------------------------- the two seeds

LOCKDOWN = {"name": "lockdown", "days": 30, "self_fetch": True,
            "supply": {"ratio": 1.1, "every": 2, "cv": 0.25, "initial_days": 2},
            "events": [{"type": "self_fetch", "from": 0, "to": 14, "allowed": False},
                       {"type": "supply", "from": 2, "to": 10, "ratio": 0.6},
                       {"type": "volunteers_sick", "from": 10, "to": 24, "share": 0.33}]}


def _vulnerable_harm(path: Path, withdrawn: list[str], *, runs: int = 6) -> tuple[float, dict]:
    inputs = load_governance_fixture(path)
    population = population_from_governance(inputs, seed=1)

    def mean_need(events: list[dict]) -> float:
        scenario = scenario_from_dict({**LOCKDOWN, "events": LOCKDOWN["events"] + events})
        result = simulate(population, scenario, policies=("equity",), runs=runs, seed=2026)
        return float(result.runs["unmet_need_per_vulnerable_household"].mean())

    base = mean_need([])
    harm = {a: mean_need([{"type": "withdraw", "from": 5, "actors": [a]}]) - base
            for a in withdrawn}
    return base, harm


@pytest.mark.slow
def test_losing_baibutings_enterprise_group_hurts_far_more_than_any_sichuan_actor() -> None:
    base_b, harm_b = _vulnerable_harm(FIXTURES / "baibuting.yaml", ["enterprise-group"])
    sichuan = load_governance_fixture(FIXTURES / "sichuan.yaml")
    base_s, harm_s = _vulnerable_harm(FIXTURES / "sichuan.yaml", [a.id for a in sichuan.actors])
    worst_actor, worst = max(harm_s.items(), key=lambda kv: kv[1])
    print(f"\nBaibuting-like: baseline {base_b:.2f} need-days per vulnerable household, "
          f"+{harm_b['enterprise-group']:.2f} without the enterprise group")
    print(f"Sichuan-like: baseline {base_s:.2f}; worst single actor {worst_actor} +{worst:.2f}; "
          + ", ".join(f"{a} +{h:.2f}" for a, h in sorted(harm_s.items())))
    assert harm_b["enterprise-group"] > 0
    # "far more": at least five times the worst single loss in the Sichuan-like community
    assert harm_b["enterprise-group"] > 5 * max(worst, 0.01)
