"""Tests of civicgrid.engine.allocation.

The equity policy is checked against an independent reference: the lexicographic max-min
allocation computed by progressive filling with linear programs (scipy's HiGHS), step by
step, in plain Python loops. Hypothesis checks the invariants of every policy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from civicgrid.engine import _allocation, allocation
from civicgrid.engine.allocation import (
    POLICIES,
    allocate,
    allocate_each,
    quoted_weight_reason,
    sphere_floor,
)
from civicgrid.engine.allocation_cli import run_allocate_cli

# --------------------------------------------------------------------------- reference


def lex_maxmin_lp(lo: np.ndarray, hi: np.ndarray, rate: np.ndarray, total: float) -> np.ndarray:
    """Lexicographic max-min of x / rate with lo <= x <= hi, sum(x) <= total, by progressive
    filling: maximise the common level t of the unfrozen requests (one LP), then freeze every
    request that no feasible solution at that level can raise (one LP each), repeat."""
    n = lo.size
    if hi.sum() <= total + 1e-12:
        return hi.astype(float)
    frozen = np.zeros(n, dtype=bool)
    value = np.zeros(n)
    scale = max(1.0, float(hi.max()))
    while not frozen.all():
        free = np.flatnonzero(~frozen)
        # variables: x_0 .. x_{n-1}, t ; rows: t * rate_i - x_i <= 0 (free i), sum x <= total
        a_ub = np.zeros((free.size + 1, n + 1))
        a_ub[np.arange(free.size), free] = -1.0
        a_ub[np.arange(free.size), n] = rate[free]
        a_ub[-1, :n] = 1.0
        b_ub = np.zeros(free.size + 1)
        b_ub[-1] = total
        bounds = [(value[i], value[i]) if frozen[i] else (lo[i], hi[i]) for i in range(n)]
        c = np.zeros(n + 1)
        c[n] = -1.0
        level = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=[*bounds, (0, None)], method="highs")
        assert level.status == 0, level.message
        t = level.x[n] * (1 - 1e-10)
        newly = []
        for i in free:
            c_i = np.zeros(n + 1)
            c_i[i] = -1.0
            best = linprog(c_i, A_ub=a_ub, b_ub=b_ub, bounds=[*bounds, (t, t)], method="highs")
            assert best.status == 0, best.message
            stays = max(t * rate[i], lo[i])
            if -best.fun <= stays + 1e-7 * scale:
                newly.append((i, min(stays, hi[i])))
        assert newly, "progressive filling made no progress"
        for i, v in newly:
            frozen[i] = True
            value[i] = v
    return value


def reference_equity(
    requests: pd.DataFrame, stock: pd.DataFrame, critical_max: int | None = 0
) -> np.ndarray:
    """The equity policy as specified, one pool and one step at a time, using the LP above."""
    x = np.zeros(len(requests))
    keys = ["item", "point"] if "point" in stock.columns else ["item"]
    need = requests["need"].to_numpy(float)
    floor = requests["floor"].to_numpy(float)
    rate = need * requests["weight"].to_numpy(float)
    tier = requests["tier"].to_numpy()
    for key, rows in requests.groupby(keys, sort=False).indices.items():
        label = key if isinstance(key, tuple) else (key,)
        here = np.ones(len(stock), dtype=bool)
        for column, value in zip(keys, label, strict=True):
            here &= (stock[column] == value).to_numpy()
        available = float(stock["quantity"][here].sum())
        tiers = sorted(set(tier[rows].tolist()))
        critical = [t for t in tiers if critical_max is not None and t <= critical_max]
        other = [t for t in tiers if t not in critical]
        steps = [(t, phase) for t in critical for phase in ("floor", "rest")]
        steps += [(t, "floor") for t in other] + [(t, "rest") for t in other]
        for t, phase in steps:
            members = np.array([i for i in rows if tier[i] == t and need[i] > 0], dtype=int)
            if members.size == 0:
                continue
            lo = x[members]
            hi = (floor if phase == "floor" else need)[members]
            left = max(0.0, available - x[rows].sum())
            x[members] = lex_maxmin_lp(lo, hi, rate[members], left + lo.sum())
    return x


def random_instance(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = int(rng.integers(1, 9))
    need = rng.integers(0, 11, n)
    floor = np.minimum((rng.random(n) * (need + 1)).astype(int), need)
    requests = pd.DataFrame(
        {
            "request_id": rng.permutation(100)[:n],
            "household_id": np.arange(n),
            "item": rng.choice(["water", "food"], n),
            "need": need,
            "weight": np.round(1 + 3 * rng.random(n) * (rng.random(n) < 0.7), 2),
            "tier": rng.integers(0, 3, n),
            "floor": floor,
            "requested_at": rng.integers(0, 5, n),
        }
    )
    points = ["north", "south"] if rng.random() < 0.3 else [None]
    if points[0] is not None:
        requests["point"] = rng.choice(points, n)
    rows = []
    for item in ("water", "food"):
        for point in points:
            here = requests["item"] == item
            if point is not None:
                here &= requests["point"] == point
            total = int(requests.loc[here, "need"].sum())
            row = {"item": item, "quantity": int(rng.integers(0, int(total * 1.2) + 2))}
            rows.append(row if point is None else {**row, "point": point})
    return requests, pd.DataFrame(rows)


def continuous_equity(
    requests: pd.DataFrame, stock: pd.DataFrame, critical_max: int | None = 0
) -> np.ndarray:
    data = allocation._encode(requests, stock, life_critical_max_tier=critical_max)
    x, _ = allocation._solve(data, "equity", seed=None, integral=False)
    return x


@pytest.mark.parametrize("critical_max", [0, None])
def test_equity_equals_lexicographic_maxmin_by_linear_programming(
    critical_max: int | None,
) -> None:
    rng = np.random.default_rng(2024 if critical_max is None else 7)
    scarce_seen = 0
    for _ in range(60):
        requests, stock = random_instance(rng)
        expected = reference_equity(requests, stock, critical_max)
        water = continuous_equity(requests, stock, critical_max)
        np.testing.assert_allclose(water, expected, atol=1e-6, rtol=0)
        whole = allocate(requests, stock, life_critical_max_tier=critical_max)
        assert (np.abs(whole["allocated"].to_numpy() - expected) < 1 + 1e-9).all()
        scarce_seen += int((expected != np.floor(expected)).any())
    # the comparison is only meaningful if many instances needed fractional water levels
    assert scarce_seen >= 10


def test_reference_lp_on_a_hand_solved_step() -> None:
    # rates 1, 2, 4 fill together until the first caps at 1: level L with L + 2L + 4L = 7
    x = lex_maxmin_lp(np.zeros(3), np.array([1.0, 10.0, 10.0]), np.array([1.0, 2.0, 4.0]), 7.0)
    np.testing.assert_allclose(x, [1.0, 2.0, 4.0], atol=1e-7)
    # the first is capped at 0.5, the other two share the remaining 6.5 as 2:4
    x = lex_maxmin_lp(np.zeros(3), np.array([0.5, 10.0, 10.0]), np.array([1.0, 2.0, 4.0]), 7.0)
    np.testing.assert_allclose(x, [0.5, 6.5 / 3, 13 / 3], atol=1e-7)


# --------------------------------------------------------------------------- properties


@st.composite
def instances(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = draw(st.integers(1, 25))
    need = np.array(draw(st.lists(st.integers(0, 12), min_size=n, max_size=n)))
    share = np.array(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    items = np.array(
        draw(st.lists(st.sampled_from(["water", "food", "meds"]), min_size=n, max_size=n))
    )
    weights = draw(
        st.lists(st.sampled_from([1.0, 1.0, 1.3, 1.8, 2.0, 3.5]), min_size=n, max_size=n)
    )
    requests = pd.DataFrame(
        {
            "request_id": [f"r{i:03d}" for i in draw(st.permutations(range(n)))],
            "household_id": [f"h{i}" for i in range(n)],
            "item": items,
            "need": need,
            "weight": weights,
            "tier": draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)),
            "floor": np.floor(share * need).astype(int),
            "requested_at": pd.Timestamp("2024-03-01")
            + pd.to_timedelta(draw(st.lists(st.integers(0, 6), min_size=n, max_size=n)), unit="h"),
        }
    )
    with_points = draw(st.booleans())
    if with_points:
        requests["point"] = draw(st.lists(st.sampled_from(["p1", "p2"]), min_size=n, max_size=n))
    keys = ["item", "point"] if with_points else ["item"]
    totals = requests.groupby(keys).need.sum()
    rows = []
    for key, total in totals.items():
        quantity = draw(st.integers(0, int(total * 1.3) + 1))
        label = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(keys, label, strict=True)), "quantity": quantity})
    # a pool nobody asked for must not disturb anything
    rows.append({"item": "blankets", "quantity": 5, **({"point": "p1"} if with_points else {})})
    return requests, pd.DataFrame(rows)


def pools(requests: pd.DataFrame) -> Iterator[tuple[tuple[object, ...], np.ndarray]]:
    keys = ["item", "point"] if "point" in requests.columns else ["item"]
    for key, rows in requests.groupby(keys).indices.items():
        yield (key if isinstance(key, tuple) else (key,)), rows


def pool_stock(stock: pd.DataFrame, requests: pd.DataFrame, key: tuple[object, ...]) -> int:
    keys = ["item", "point"] if "point" in requests.columns else ["item"]
    here = np.ones(len(stock), dtype=bool)
    for column, value in zip(keys, key, strict=True):
        here &= (stock[column] == value).to_numpy()
    return int(stock.loc[here, "quantity"].sum())


PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(instances(), st.sampled_from(POLICIES))
def test_invariants_of_every_policy(
    instance: tuple[pd.DataFrame, pd.DataFrame], policy: str
) -> None:
    requests, stock = instance
    result = allocate(requests, stock, policy=policy, seed=3)
    got = result["allocated"].to_numpy()
    need = requests["need"].to_numpy()
    assert result["allocated"].dtype == np.int64
    assert list(result["request_id"]) == list(requests["request_id"])
    assert ((got >= 0) & (got <= need)).all()
    for key, rows in pools(requests):
        available = pool_stock(stock, requests, key)
        assert got[rows].sum() <= available
        if (got[rows] < need[rows]).any():
            # nothing is left in a pool while one of its requests is short
            assert got[rows].sum() == available

    # the same requests in another row order get the same allocations
    shuffled = requests.sample(frac=1.0, random_state=1)
    again = allocate(shuffled, stock, policy=policy, seed=3).set_index("request_id")
    assert again.loc[result["request_id"], "allocated"].tolist() == got.tolist()


@PROPERTY_SETTINGS
@given(instances())
def test_equity_serves_steps_in_order(instance: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    requests, stock = instance
    got = allocate(requests, stock)["allocated"].to_numpy()
    need = requests["need"].to_numpy()
    floor = requests["floor"].to_numpy()
    tier = requests["tier"].to_numpy()
    for _, rows in pools(requests):
        critical = rows[tier[rows] == 0]
        other = rows[tier[rows] > 0]
        if (got[critical] < need[critical]).any():
            assert (got[other] == 0).all()
        below = other[got[other] < floor[other]]
        if below.size:
            worst_tier = tier[below].min()
            assert (got[other] <= floor[other]).all()
            assert (got[other[tier[other] > worst_tier]] == 0).all()
        short = other[got[other] < need[other]]
        if short.size and not below.size:
            worst_tier = tier[short].min()
            later = other[tier[other] > worst_tier]
            assert (got[later] == floor[later]).all()
            earlier = other[tier[other] < worst_tier]
            assert (got[earlier] == need[earlier]).all()


@PROPERTY_SETTINGS
@given(instances())
def test_equity_gives_more_vulnerable_households_at_least_as_much(
    instance: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    requests, stock = instance
    frame = requests.assign(got=allocate(requests, stock)["allocated"].to_numpy())
    keys = ["item", "point"] if "point" in requests.columns else ["item"]
    for _, same in frame.groupby([*keys, "tier", "need", "floor"]):
        ordered = same.sort_values("weight")
        for lighter, heavier in pairwise(ordered.itertuples()):
            if heavier.weight > lighter.weight:
                assert heavier.got >= lighter.got


@PROPERTY_SETTINGS
@given(instances())
def test_baselines_follow_their_rule(instance: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    requests, stock = instance
    need = requests["need"].to_numpy()
    fcfs = allocate(requests, stock, policy="fcfs")["allocated"].to_numpy()
    proportional = allocate(requests, stock, policy="proportional")["allocated"].to_numpy()
    equal = allocate(requests, stock, policy="equal")["allocated"].to_numpy()
    for key, rows in pools(requests):
        available = pool_stock(stock, requests, key)
        order = rows[
            np.lexsort(
                (requests["request_id"].to_numpy()[rows], requests["requested_at"].to_numpy()[rows])
            )
        ]
        short = np.flatnonzero(fcfs[order] < need[order])
        if short.size:
            # after the first request that fcfs leaves short, nobody gets anything
            assert (fcfs[order][short[0] + 1 :] == 0).all()
        share = min(1.0, available / max(1, need[rows].sum()))
        assert (np.abs(proportional[rows] - share * need[rows]) < 1).all()
        # equal: a short request got at least as much as anyone else, up to one unit
        for i in rows[equal[rows] < need[rows]]:
            assert (equal[i] >= equal[rows] - 1).all()


@PROPERTY_SETTINGS
@given(instances(), st.integers(0, 2**31))
def test_lottery_is_reproducible_from_its_seed(
    instance: tuple[pd.DataFrame, pd.DataFrame], seed: int
) -> None:
    requests, stock = instance
    first = allocate(requests, stock, policy="lottery", seed=seed)
    second = allocate(requests, stock, policy="lottery", seed=seed)
    pd.testing.assert_frame_equal(first, second)


# --------------------------------------------------------------------------- examples


@PROPERTY_SETTINGS
@given(instances(), st.integers(0, 2**31), st.sampled_from([0, None]))
def test_every_policy_at_once_gives_what_each_alone_gives(
    instance: tuple[pd.DataFrame, pd.DataFrame], seed: int, critical_max: int | None
) -> None:
    requests, stock = instance
    explain = ("equity", "lottery")
    together = allocation.allocate_each(
        requests, stock, seed=seed, life_critical_max_tier=critical_max, explain=explain
    )
    assert list(together) == list(POLICIES)
    for policy, result in together.items():
        alone = allocate(
            requests,
            stock,
            policy=policy,
            seed=seed,
            life_critical_max_tier=critical_max,
            explain=policy in explain,
        )
        pd.testing.assert_frame_equal(result, alone)


def test_every_policy_at_once_refuses_what_allocate_refuses() -> None:
    requests, stock = base_requests(), water(10)
    with pytest.raises(ValueError, match="unknown policy"):
        allocation.allocate_each(requests, stock, policies=("equity", "best"))
    with pytest.raises(ValueError, match="needs a seed"):
        allocation.allocate_each(requests, stock)
    with pytest.raises(ValueError, match="must be unique"):
        allocation.allocate_each(pd.concat([requests, requests]), stock, seed=1)


def base_requests(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "request_id": list(range(1, n + 1)),
            "household_id": [f"h{i}" for i in range(1, n + 1)],
            "item": "water",
            "need": 1,
            "weight": 1.0,
            "tier": 1,
            "floor": 0,
            "requested_at": pd.Timestamp("2024-03-01 08:00"),
        }
    )


def water(quantity: int) -> pd.DataFrame:
    return pd.DataFrame({"item": ["water"], "quantity": [quantity]})


def test_hand_solved_equity_example() -> None:
    requests = base_requests().assign(
        need=[10, 10, 4], weight=[1.0, 2.0, 1.0], tier=[1, 1, 0], floor=[4, 4, 2]
    )
    result = allocate(requests, water(15))
    # request 3 is life-critical (4), floors 4 + 4, then 3 units: household 2 (weight 2)
    # rises from its floor at level 0.2, household 1 only at 0.4, so all 3 go to household 2
    assert result["allocated"].tolist() == [4, 7, 4]
    assert result["water_level"].iloc[0] == pytest.approx(0.35)
    assert result["stock_coverage"].iloc[0] == pytest.approx(15 / 24)


def test_leftover_units_go_by_weight_then_time_then_id() -> None:
    # proportional shares 1/3 to each: the one leftover unit is a pure tie-break
    requests = base_requests().assign(weight=[1.0, 2.0, 1.5])
    assert allocate(requests, water(1), policy="proportional")["allocated"].tolist() == [0, 1, 0]
    later = pd.Timestamp("2024-03-01 09:00")
    requests = base_requests().assign(requested_at=[later, later, pd.Timestamp("2024-03-01")])
    assert allocate(requests, water(1), policy="proportional")["allocated"].tolist() == [0, 0, 1]
    requests = base_requests().assign(request_id=[30, 10, 20])
    assert allocate(requests, water(1))["allocated"].tolist() == [0, 1, 0]


def test_household_draws_only_on_its_own_point() -> None:
    requests = base_requests(2).assign(need=5, point=["north", "south"])
    stock = pd.DataFrame({"item": ["water"], "point": ["north"], "quantity": [9]})
    result = allocate(requests, stock)
    assert result["allocated"].tolist() == [5, 0]
    assert "point" in result.columns


def test_explanation_columns_and_sentence() -> None:
    requests = base_requests().assign(
        need=[3, 3, 3],
        weight=[1.8, 1.0, 1.0],
        floor=[1, 1, 1],
        weight_reason=["two residents over 80, one living alone", "", None],
    )
    stock = pd.DataFrame({"item": ["water"], "quantity": [5], "unit": ["parcels"]})
    result = allocate(requests, stock)
    assert list(result.columns[:2]) == ["request_id", "allocated"]
    for column in ("tier", "floor", "weight", "water_level", "capped_by_need", "explanation"):
        assert column in result.columns
    sentence = result["explanation"].iloc[0]
    got = result["allocated"].iloc[0]
    assert sentence.startswith(f"You received {got} of 3 parcels of water")
    assert "stock covered 55% of all requests" in sentence  # 5 of 9, rounded down
    assert "your weight 1.8 came from two residents over 80, one living alone" in sentence
    assert "no added vulnerability" in result["explanation"].iloc[1]


@given(reasons=st.lists(st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N", "Zs"],
                                                       include_characters=",-"), min_size=0, max_size=60),
                         min_size=3, max_size=3),
       weights=st.lists(st.sampled_from([1.0, 1.04, 1.05, 1.8, 3.25]), min_size=3, max_size=3))
@example(reasons=["two residents over 80, one living alone", " a low-income household ", "x"],
         weights=[1.8, 3.25, 1.04])
@settings(max_examples=60, deadline=None)
def test_the_quoted_reason_is_read_back_from_every_policys_sentence(reasons: list[str], weights: list[float]
                                                                    ) -> None:
    """The property a translated sentence relies on: whatever reason a request carries, the engine's sentence
    gives it back through quoted_weight_reason exactly when it quotes it (a weight that shows above 1.0)."""
    requests = base_requests().assign(need=[3, 3, 3], weight=weights, weight_reason=reasons)
    stock = pd.DataFrame({"item": ["water"], "quantity": [4], "unit": ["parcels"]})
    for outcome in allocate_each(requests, stock, explain=POLICIES, seed=1).values():
        for reason, weight, sentence in zip(reasons, weights, outcome["explanation"], strict=True):
            quoted = reason.strip() if round(weight * 10) > 10 else ""
            assert quoted_weight_reason(sentence) == quoted, (sentence, reason, weight)


def test_sphere_floor_standard_values() -> None:
    # 15 L per person per day: 4 people x 2 days = 120 L = 24 bottles of 5 L
    assert sphere_floor([4], kind="water", unit_size=5, days=2).tolist() == [24]
    # 2,100 kcal per person per day: 3 people x 1 day = 6,300 kcal = 1 parcel of 10,000 (rounded up)
    assert sphere_floor([3], kind="food", unit_size=10_000).tolist() == [1]
    assert sphere_floor([5], kind="water", unit_size=1, need=[20]).tolist() == [20]
    with pytest.raises(ValueError, match="household_size"):
        sphere_floor([-1], kind="water", unit_size=5)
    with pytest.raises(ValueError, match="kind"):
        sphere_floor([1], kind="fuel", unit_size=5)


def test_segmented_cumsum_restarts_per_group() -> None:
    starts = np.array([True, False, True, False, False])
    got = _allocation.segmented_cumsum(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), starts)
    assert got.tolist() == [1.0, 3.0, 3.0, 7.0, 12.0]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.drop(columns="floor"), "missing column.*'floor'"),
        (lambda r: r.assign(need=[1, -2, 1]), "'need' must be >= 0"),
        (lambda r: r.assign(need=[1, 1.5, 1]), "'need' must hold whole numbers"),
        (lambda r: r.assign(floor=[0, 2, 0]), "'floor' must not exceed need"),
        (lambda r: r.assign(weight=[1.0, 0.5, 1.0]), "'weight' must be >= 1"),
        (lambda r: r.assign(weight=[1.0, None, 1.0]), "'weight' has missing"),
        (lambda r: r.assign(need=["1", "two", "1"]), "'need' must be numeric"),
        (lambda r: r.assign(tier=[0, -1, 0]), "'tier' must be >= 0"),
        (lambda r: r.assign(request_id=[1, 1, 2]), "'request_id' must be unique"),
        (lambda r: r.assign(requested_at=["2024-03-01", "soon", "2024-03-02"]), "not a date"),
        (lambda r: r.assign(item=["water", None, "water"]), "'item' has missing"),
    ],
)
def test_bad_requests_are_rejected_with_the_column_named(
    change: Callable[[pd.DataFrame], pd.DataFrame], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        allocate(change(base_requests()), water(3))


def test_bad_stock_and_options_are_rejected() -> None:
    requests = base_requests()
    with pytest.raises(ValueError, match="stock is missing column.*'quantity'"):
        allocate(requests, pd.DataFrame({"item": ["water"]}))
    with pytest.raises(ValueError, match="'quantity' must be >= 0"):
        allocate(requests, water(-1))
    with pytest.raises(ValueError, match="no stock row matches"):
        allocate(requests, pd.DataFrame({"item": [7], "quantity": [3]}))
    with pytest.raises(ValueError, match="requests do not"):
        allocate(requests, water(3).assign(point="north"))
    with pytest.raises(ValueError, match="unknown policy 'fastest'"):
        allocate(requests, water(3), policy="fastest")
    with pytest.raises(ValueError, match="needs a seed"):
        allocate(requests, water(3), policy="lottery")
    with pytest.raises(TypeError, match="DataFrame"):
        allocate(requests.to_dict(), water(3))


# --------------------------------------------------------------------------- CLI


def write_inputs(tmp_path: Path, requests: pd.DataFrame, stock: pd.DataFrame) -> tuple[Path, Path]:
    requests_file = tmp_path / "requests.csv"
    stock_file = tmp_path / "stock.csv"
    requests.to_csv(requests_file, index=False)
    stock.to_csv(stock_file, index=False)
    return requests_file, stock_file


def test_cli_writes_the_same_allocation_as_the_api(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(5)
    requests, stock = random_instance(rng)
    requests["requested_at"] = pd.Timestamp("2024-03-01") + pd.to_timedelta(
        requests["requested_at"], unit="min"
    )
    requests_file, stock_file = write_inputs(tmp_path, requests, stock)
    out = tmp_path / "out.csv"
    for policy in ("equity", "fcfs"):
        code = run_allocate_cli(
            [
                "--requests",
                str(requests_file),
                "--stock",
                str(stock_file),
                "--policy",
                policy,
                "--out",
                str(out),
            ]
        )
        assert code == 0
        written = pd.read_csv(out)
        expected = allocate(requests, stock, policy=policy)
        assert written["allocated"].tolist() == expected["allocated"].tolist()
        assert written["explanation"].tolist() == expected["explanation"].astype(str).tolist()
    assert "wrote" in capsys.readouterr().out


def test_cli_reports_bad_input_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    requests_file, stock_file = write_inputs(
        tmp_path, base_requests().drop(columns="weight"), water(2)
    )
    args = ["--requests", str(requests_file), "--stock", str(stock_file), "--out", "-"]
    assert run_allocate_cli(args) == 2
    assert "missing column(s) 'weight'" in capsys.readouterr().err

    assert run_allocate_cli([*args[:1], str(tmp_path / "nope.csv"), *args[2:]]) == 2
    assert "requests file not found" in capsys.readouterr().err

    assert run_allocate_cli([*args, "--policy", "fastest"]) == 2
    assert "invalid choice: 'fastest'" in capsys.readouterr().err

    requests_file, _ = write_inputs(tmp_path, base_requests().assign(need=[1, -1, 1]), water(2))
    assert run_allocate_cli(args) == 2
    assert "'need' must be >= 0" in capsys.readouterr().err

    assert run_allocate_cli(["--help"]) == 0
    assert "--requests" in capsys.readouterr().out
