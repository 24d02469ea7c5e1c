"""Tests for civicgrid.engine.governance.

Truth comes from outside the code under test: scipy.stats.entropy for the balance score, graphs
whose Freeman centralisation is known (star = 1, cycle = 0) and a second formula via
networkx.degree_centrality, linear programmes solved by HiGHS (scipy.optimize.linprog) for
coverage, hand-computed dependence cascades, properties every stress test must satisfy, and the
two seed cases (tests/data/governance/*.yaml, written from seeds 001 and 000).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from scipy.stats import entropy

from civicgrid.engine import _governance, governance
from civicgrid.engine.governance import (
    CRITICAL_FUNCTIONS,
    SECTORS,
    ActorInput,
    Contribution,
    GovernanceInputs,
    HouseholdInput,
    Link,
    PostInput,
    StressScenario,
    actor_network,
    balance_score,
    degree_centralization,
    function_coverage,
    fusion,
    governance_report,
    load_governance_fixture,
    report_to_json,
    report_to_text,
    sector_shares,
    stress_test,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "governance"
AREAS = ("a", "b", "c")


@pytest.fixture(scope="module")
def baibuting() -> governance.GovernanceReport:
    return governance_report(inputs=load_governance_fixture(DATA / "baibuting.yaml"))


@pytest.fixture(scope="module")
def sichuan() -> governance.GovernanceReport:
    return governance_report(inputs=load_governance_fixture(DATA / "sichuan.yaml"))


def _scenario(
    report: governance.GovernanceReport,
    *,
    actors: tuple[str, ...] = (),
    sectors: tuple[str, ...] = (),
) -> governance.StressResult:
    for result in report.stress_tests:
        if (
            result.scenario.remove_actors == actors
            and result.scenario.remove_sectors == sectors
            and result.scenario.volunteer_loss == 0
        ):
            return result
    raise LookupError((actors, sectors))


# --- the seed cases -------------------------------------------------------------------------


def test_baibuting_rates_fused_and_society_weak(baibuting: governance.GovernanceReport) -> None:
    assert baibuting.fused
    assert baibuting.society_weak
    assert baibuting.fusion.score >= 0.5
    assert baibuting.society_strength < 1 / 6


def test_sichuan_is_more_balanced_and_less_fused(
    baibuting: governance.GovernanceReport, sichuan: governance.GovernanceReport
) -> None:
    assert not sichuan.fused
    assert not sichuan.society_weak
    assert sichuan.balance > baibuting.balance
    assert sichuan.society_strength > baibuting.society_strength
    assert sichuan.fusion.score < baibuting.fusion.score


def test_losing_the_enterprise_group_hurts_far_more_than_any_sichuan_actor(
    baibuting: governance.GovernanceReport, sichuan: governance.GovernanceReport
) -> None:
    def vulnerable_households(report: governance.GovernanceReport) -> int:
        care = next(c for c in report.coverage if c.function == "care_vulnerable")
        return care.demand

    group = _scenario(baibuting, actors=("enterprise-group",))
    baibuting_share = group.max_newly_uncovered_vulnerable / vulnerable_households(baibuting)
    sichuan_worst = max(
        _scenario(sichuan, actors=(actor,)).max_newly_uncovered_vulnerable
        for actor in sichuan.network.nodes
    )
    sichuan_share = sichuan_worst / vulnerable_households(sichuan)
    # "Far more": at least twice the share, and a quarter of all vulnerable households more.
    assert baibuting_share >= 2 * sichuan_share
    assert baibuting_share - sichuan_share >= 0.25


def test_baibuting_enterprise_group_is_a_single_point_of_failure(
    baibuting: governance.GovernanceReport,
) -> None:
    points = {p.actor_id: p for p in baibuting.single_points_of_failure}
    assert "enterprise-group" in points
    # The fixture names no other provider of medicine or shelter (seed 001, 3.1).
    assert set(points["enterprise-group"].functions) >= {"medicine", "shelter"}


def test_fixture_figures_are_marked_declared(baibuting: governance.GovernanceReport) -> None:
    assert {s.basis for s in baibuting.shares} == {"declared"}
    assert baibuting.balance_basis == "declared"
    assert baibuting.fusion.basis == "declared"
    assert baibuting.network_basis == "declared"
    assert {c.basis for c in baibuting.coverage} == {"declared"}


# --- balance ---------------------------------------------------------------------------------

shares_strategy = st.lists(
    st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=3, max_size=3
).filter(lambda xs: sum(xs) > 1e-9)


@settings(max_examples=60, deadline=None)
@given(shares_strategy)
def test_balance_score_matches_scipy_entropy(amounts: list[float]) -> None:
    total = math.fsum(amounts)
    shares = dict(zip(SECTORS, (a / total for a in amounts), strict=True))
    assert balance_score(shares=shares) == pytest.approx(entropy(amounts, base=3), abs=1e-9)


def test_balance_score_extremes() -> None:
    assert balance_score(
        shares={"state": 1 / 3, "capital": 1 / 3, "society": 1 / 3}
    ) == pytest.approx(1.0)
    assert balance_score(shares={"state": 0.0, "capital": 1.0, "society": 0.0}) == 0.0


def test_balance_score_rejects_bad_shares() -> None:
    with pytest.raises(ValueError, match="market"):
        balance_score(shares={"state": 0.5, "market": 0.5})
    with pytest.raises(ValueError, match="sum to 1"):
        balance_score(shares={"state": 0.5, "capital": 0.2, "society": 0.2})


def test_sector_shares_and_basis() -> None:
    inputs = _community(
        contributions=[
            Contribution(actor_id="office", kind="resources", amount=6, basis="recorded"),
            Contribution(actor_id="firm", kind="resources", amount=3, basis="recorded"),
            Contribution(actor_id="team", kind="resources", amount=1, basis="recorded"),
            Contribution(actor_id="team", kind="work", amount=2, basis="declared"),
            Contribution(actor_id="office", kind="work", amount=2, basis="recorded"),
        ]
    )
    resources, work = sector_shares(inputs=inputs)
    assert resources.shares == pytest.approx({"state": 0.6, "capital": 0.3, "society": 0.1})
    assert resources.basis == "recorded"
    assert work.basis == "mixed"
    report = governance_report(inputs=inputs, volunteer_losses=())
    assert report.balance == pytest.approx(
        (entropy([6, 3, 1], base=3) + entropy([1, 0, 1], base=3)) / 2
    )
    assert report.society_strength == pytest.approx((0.1 + 0.5) / 2)
    assert report.balance_basis == "mixed"
    assert any("decisions" in note for note in report.notes)


def test_capacities_stand_in_when_nothing_is_recorded() -> None:
    report = governance_report(inputs=_community(), volunteer_losses=())
    assert report.shares == ()
    assert report.capacity_shares is not None
    assert report.balance == pytest.approx(report.capacity_shares.balance)
    assert report.balance_basis == "declared"
    assert report.notes


# --- fusion and network ----------------------------------------------------------------------


def test_one_fused_block_scores_fused() -> None:
    # Every leader of each sector also sits in the other two: one block.
    posts = [
        PostInput(person_id=person, actor_id=actor, role="member", is_key=actor == own)
        for person, own in (("p1", "office"), ("p2", "firm"), ("p3", "team"))
        for actor in ("office", "firm", "team")
    ]
    result = fusion(inputs=_community(posts=posts))
    assert (result.score, result.key_posts, result.fused_key_posts) == (1.0, 3, 3)
    assert result.basis == "recorded"


def test_separate_sectors_score_unfused() -> None:
    posts = [
        PostInput(person_id="p1", actor_id="office", role="head", is_key=True),
        PostInput(person_id="p2", actor_id="firm", role="head", is_key=True),
        PostInput(person_id="p2", actor_id="firm", role="treasurer"),
        PostInput(person_id="p3", actor_id="team", role="head", is_key=True),
    ]
    assert fusion(inputs=_community(posts=posts)).score == 0.0


@pytest.mark.parametrize("leaves", [2, 3, 5, 12])
def test_centralization_of_a_star_is_one(leaves: int) -> None:
    assert degree_centralization(graph=nx.star_graph(leaves)) == pytest.approx(1.0)


@pytest.mark.parametrize("nodes", [3, 4, 7, 20])
def test_centralization_of_a_cycle_is_zero(nodes: int) -> None:
    assert degree_centralization(graph=nx.cycle_graph(nodes)) == 0.0


@settings(max_examples=30, deadline=None)
@given(
    st.integers(min_value=3, max_value=15),
    st.floats(min_value=0.1, max_value=0.9),
    st.integers(min_value=0, max_value=10_000),
)
def test_centralization_matches_degree_centrality_formula(n: int, p: float, seed: int) -> None:
    graph = nx.gnp_random_graph(n, p, seed=seed)
    normalised = nx.degree_centrality(graph)  # degree / (n - 1)
    top = max(normalised.values())
    expected = sum(top - c for c in normalised.values()) / (n - 2)
    assert degree_centralization(graph=graph) == pytest.approx(expected)


def test_actor_network_edges() -> None:
    inputs = _community(
        posts=[
            PostInput(person_id="p1", actor_id="office", role="head", is_key=True),
            PostInput(person_id="p1", actor_id="firm", role="board"),
        ],
        links=[
            Link(from_actor="office", to_actor="team", kind="funding", dependence=0.5),
            Link(from_actor="office", to_actor="firm", kind="command"),
        ],
    )
    graph = actor_network(inputs=inputs)
    assert graph.nodes["team"]["sector"] == "society"
    assert graph.edges["office", "firm"]["relations"] == ("command", "shared_people")
    assert graph.edges["office", "firm"]["shared_people"] == 1
    assert graph.edges["team", "office"]["lines"] == (("funding", "office", "team", 0.5),)
    assert not graph.has_edge("firm", "team")


# --- coverage against a linear programme --------------------------------------------------


@st.composite
def communities(draw: st.DrawFn) -> GovernanceInputs:
    count = draw(st.integers(min_value=1, max_value=5))
    actors = []
    for index in range(count):
        functions = draw(st.lists(st.sampled_from(CRITICAL_FUNCTIONS), max_size=3, unique=True))
        actors.append(
            ActorInput(
                id=f"x{index}",
                name=f"Actor {index}",
                sector=draw(st.sampled_from(SECTORS)),
                kind="test",
                capacities={f: draw(st.integers(min_value=0, max_value=8)) for f in functions},
                service_area=tuple(draw(st.lists(st.sampled_from(AREAS), max_size=2, unique=True))),
                volunteer_share=draw(st.sampled_from([0.0, 0.5, 1.0])),
            )
        )
    links = []
    for index in range(1, count):
        source = draw(st.integers(min_value=0, max_value=count - 1))
        if source != index:
            links.append(
                Link(
                    from_actor=f"x{source}",
                    to_actor=f"x{index}",
                    kind="funding",
                    dependence=draw(st.sampled_from([0.0, 0.3, 0.5, 1.0])),
                )
            )
    households = [
        HouseholdInput(id=f"h{i}", area=draw(st.sampled_from(AREAS)), vulnerable=draw(st.booleans()))
        for i in range(draw(st.integers(min_value=0, max_value=14)))
    ]
    return GovernanceInputs(community="random", actors=actors, households=households, links=links)


def _lp_served(
    inputs: GovernanceInputs, function: str, capacities: dict[str, int], *, vulnerable_only: bool
) -> int:
    """Most households servable, by LP over (household, provider) pairs -- no aggregation."""
    demand = [
        h
        for h in inputs.households
        if (h.vulnerable or function != "care_vulnerable") and (h.vulnerable or not vulnerable_only)
    ]
    pairs = [
        (i, a.id)
        for i, h in enumerate(demand)
        for a in inputs.actors
        if capacities.get(a.id, 0) > 0 and (not a.service_area or h.area in a.service_area)
    ]
    if not pairs:
        return 0
    rows, bounds = [], []
    for i in range(len(demand)):
        rows.append([1.0 if pair[0] == i else 0.0 for pair in pairs])
        bounds.append(1.0)
    for actor_id, capacity in capacities.items():
        rows.append([1.0 if pair[1] == actor_id else 0.0 for pair in pairs])
        bounds.append(float(capacity))
    result = linprog([-1.0] * len(pairs), A_ub=rows, b_ub=bounds, bounds=(0, 1), method="highs")
    assert result.status == 0
    return round(-result.fun)


def _capacities(inputs: GovernanceInputs, function: str, removed: set[str]) -> dict[str, int]:
    """Capacities after removal, computed directly for the hand-checkable no-link case."""
    return {a.id: a.capacities.get(function, 0) for a in inputs.actors if a.id not in removed}


@settings(max_examples=40, deadline=None)
@given(communities(), st.data())
def test_coverage_matches_linear_programme(inputs: GovernanceInputs, data: st.DataObject) -> None:
    plain = GovernanceInputs(
        community="no links", actors=inputs.actors, households=inputs.households
    )
    removed = set(data.draw(st.lists(st.sampled_from([a.id for a in plain.actors]), unique=True)))
    for coverage in function_coverage(inputs=plain, remove_actors=removed):
        capacities = _capacities(plain, coverage.function, removed)
        served = _lp_served(plain, coverage.function, capacities, vulnerable_only=False)
        served_vulnerable = _lp_served(plain, coverage.function, capacities, vulnerable_only=True)
        assert coverage.demand - coverage.uncovered == served
        assert coverage.vulnerable_demand - coverage.uncovered_vulnerable == served_vulnerable


def test_vulnerable_households_are_served_first() -> None:
    inputs = GovernanceInputs(
        community="c",
        actors=[
            ActorInput(
                id="shop",
                name="Shop",
                sector="capital",
                kind="business",
                capacities={"food_supply": 2},
            )
        ],
        households=[HouseholdInput(id=f"h{i}", area="a", vulnerable=i < 2) for i in range(5)],
    )
    food = function_coverage(inputs=inputs)[0]
    assert (food.uncovered, food.uncovered_vulnerable, food.without_provider) == (3, 0, 0)


def test_service_area_limits_providers() -> None:
    inputs = GovernanceInputs(
        community="c",
        actors=[
            ActorInput(
                id="team",
                name="Team",
                sector="society",
                kind="volunteer_team",
                capacities={"care_vulnerable": 10},
                service_area=("a",),
            )
        ],
        households=[
            HouseholdInput(id="h1", area="a", vulnerable=True),
            HouseholdInput(id="h2", area="b", vulnerable=True),
            HouseholdInput(id="h3", area="b", vulnerable=False),
        ],
    )
    care = next(c for c in function_coverage(inputs=inputs) if c.function == "care_vulnerable")
    assert (care.demand, care.uncovered, care.without_provider) == (2, 1, 1)


# --- dependences and volunteers --------------------------------------------------------------


def test_dependence_cascades_down_a_funding_chain() -> None:
    level = _governance.availability(
        actor_ids=["a", "b", "c"], removed=["a"], dependences={("a", "b"): 0.5, ("b", "c"): 0.5}
    )
    assert level == pytest.approx({"a": 0.0, "b": 0.5, "c": 0.75})


def test_dependence_cycle_collapses_when_fed_from_outside() -> None:
    # b and c keep each other going only through what a provides.
    level = _governance.availability(
        actor_ids=["a", "b", "c"],
        removed=["a"],
        dependences={("a", "b"): 0.5, ("c", "b"): 0.5, ("b", "c"): 1.0},
    )
    assert level == {"a": 0.0, "b": 0.0, "c": 0.0}


def test_volunteer_loss_reduces_volunteer_delivered_capacity() -> None:
    inputs = GovernanceInputs(
        community="c",
        actors=[
            ActorInput(
                id="team",
                name="Team",
                sector="society",
                kind="volunteer_team",
                capacities={"food_supply": 10},
                volunteer_share=0.5,
            )
        ],
        households=[HouseholdInput(id=f"h{i}", area="a") for i in range(10)],
    )
    food = function_coverage(inputs=inputs, volunteer_loss=0.4)[0]
    assert food.capacity == 8  # 10 * (1 - 0.5 * 0.4)


# --- stress-test properties ------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(communities())
def test_removing_nothing_leaves_coverage_unchanged(inputs: GovernanceInputs) -> None:
    baseline = function_coverage(inputs=inputs)
    result = stress_test(inputs=inputs, scenario=StressScenario(name="nothing"), baseline=baseline)
    assert result.coverage == baseline
    assert result.functions_losing_coverage == ()
    assert result.max_newly_uncovered == result.max_newly_uncovered_vulnerable == 0


@settings(max_examples=40, deadline=None)
@given(communities(), st.data())
def test_removing_a_superset_never_uncovers_fewer(
    inputs: GovernanceInputs, data: st.DataObject
) -> None:
    ids = [a.id for a in inputs.actors]
    small = set(data.draw(st.lists(st.sampled_from(ids), unique=True)))
    large = small | set(data.draw(st.lists(st.sampled_from(ids), unique=True)))
    loss_small = data.draw(st.sampled_from([0.0, 0.3]))
    loss_large = data.draw(st.sampled_from([loss_small, 1.0]))
    before = function_coverage(inputs=inputs, remove_actors=small, volunteer_loss=loss_small)
    after = function_coverage(inputs=inputs, remove_actors=large, volunteer_loss=loss_large)
    for b, a in zip(before, after, strict=True):
        assert a.uncovered >= b.uncovered
        assert a.uncovered_vulnerable >= b.uncovered_vulnerable
        assert a.without_provider >= b.without_provider
        assert a.capacity <= b.capacity


def test_removing_a_sector_removes_its_actors() -> None:
    inputs = _community()
    by_sector = stress_test(
        inputs=inputs, scenario=StressScenario(name="no capital", remove_sectors=("capital",))
    )
    by_actor = stress_test(
        inputs=inputs, scenario=StressScenario(name="no firm", remove_actors=("firm",))
    )
    assert by_sector.removed == by_actor.removed == ("firm",)
    assert by_sector.coverage == by_actor.coverage


# --- input checks ----------------------------------------------------------------------------


def test_bad_input_is_rejected_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="sector"):
        ActorInput(id="a", name="A", sector="market", kind="firm")
    with pytest.raises(ValueError, match="negative"):
        ActorInput(id="a", name="A", sector="state", kind="office", capacities={"shelter": -1})
    with pytest.raises(ValueError, match="function"):
        ActorInput(id="a", name="A", sector="state", kind="office", capacities={"transport": 3})
    with pytest.raises(TypeError, match="whole number"):
        ActorInput(id="a", name="A", sector="state", kind="office", capacities={"shelter": 2.5})
    with pytest.raises(ValueError, match="unknown actor 'ghost'"):
        _community(posts=[PostInput(person_id="p", actor_id="ghost", role="head")])
    with pytest.raises(ValueError, match="contribution kind"):
        Contribution(actor_id="office", kind="money", amount=1, basis="recorded")
    with pytest.raises(ValueError, match="non-negative"):
        Contribution(actor_id="office", kind="work", amount=-1, basis="recorded")
    with pytest.raises(ValueError, match="sum to 1.5"):
        _community(
            links=[
                Link(from_actor="office", to_actor="team", kind="funding", dependence=1.0),
                Link(from_actor="firm", to_actor="team", kind="funding", dependence=0.5),
            ]
        )
    with pytest.raises(ValueError, match="duplicate actor"):
        GovernanceInputs(
            community="c",
            households=[],
            actors=[ActorInput(id="a", name="A", sector="state", kind="office")] * 2,
        )
    with pytest.raises(ValueError, match="unknown actor 'ghost'"):
        function_coverage(inputs=_community(), remove_actors=["ghost"])
    with pytest.raises(ValueError, match="volunteer_loss"):
        StressScenario(name="x", volunteer_loss=1.5)


def test_fixture_loader_rejects_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("community: c\nactors: []\nhouseholds: []\nactor: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match="actor"):
        load_governance_fixture(path)


def test_from_records_accepts_dataframes() -> None:
    actors = pd.DataFrame(
        [
            {
                "id": "shop",
                "name": "Shop",
                "sector": "capital",
                "kind": "business",
                "food_supply": 3,
                "medicine": None,
            },
            {
                "id": "clinic",
                "name": "Clinic",
                "sector": "state",
                "kind": "health_station",
                "food_supply": None,
                "medicine": 2,
                "service_area": "a;b",
            },
        ]
    )
    households = pd.DataFrame([{"id": "h1", "area": "a", "vulnerable": True}])
    inputs = GovernanceInputs.from_records(community="c", actors=actors, households=households)
    assert dict(inputs.actor("shop").capacities) == {"food_supply": 3}
    assert inputs.actor("clinic").service_area == ("a", "b")
    with pytest.raises(ValueError, match="unknown actor field"):
        GovernanceInputs.from_records(
            community="c",
            households=[],
            actors=[{"id": "a", "name": "A", "sector": "state", "kind": "office", "sectr": "x"}],
        )


# --- rendering and docs ----------------------------------------------------------------------


def test_json_report_round_trips(baibuting: governance.GovernanceReport) -> None:
    data = json.loads(report_to_json(baibuting))
    assert data["fusion"]["score"] == pytest.approx(baibuting.fusion.score)
    assert data["balance"] == pytest.approx(baibuting.balance)
    assert len(data["network"]["nodes"]) == baibuting.network.number_of_nodes()
    assert len(data["stress_tests"]) == len(baibuting.stress_tests)
    assert data["coverage"][0]["function"] == CRITICAL_FUNCTIONS[0]


def test_text_report_names_the_figures(baibuting: governance.GovernanceReport) -> None:
    text = report_to_text(baibuting)
    assert f"{baibuting.balance:.3f}" in text
    assert "fused" in text and "society weak" in text
    assert "Baibuting enterprise group" in text
    assert "[declared]" in text


# --- helpers ---------------------------------------------------------------------------------


def _community(**extra: object) -> GovernanceInputs:
    """Three actors, one per sector, five households in two areas."""
    return GovernanceInputs(
        community="test",
        actors=[
            ActorInput(
                id="office",
                name="Office",
                sector="state",
                kind="office",
                capacities={"information_release": 5, "shelter": 3},
            ),
            ActorInput(
                id="firm",
                name="Firm",
                sector="capital",
                kind="business",
                capacities={"food_supply": 5, "medicine": 2},
            ),
            ActorInput(
                id="team",
                name="Team",
                sector="society",
                kind="volunteer_team",
                capacities={"care_vulnerable": 2, "food_supply": 1},
                volunteer_share=1.0,
            ),
        ],
        households=[
            HouseholdInput(id=f"h{i}", area="a" if i < 3 else "b", vulnerable=i % 2 == 0)
            for i in range(5)
        ],
        **extra,
    )
