"""Tests of civicgrid.engine.equity.

The inequality indices are checked against the published test values of PySAL's
``inequality`` package on its Mexico state income data (tests/data/pysal_mexico.csv, source
in its header), and against naive textbook formulas on random data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from civicgrid.engine.allocation import allocate
from civicgrid.engine.equity import (
    atkinson,
    concentration_index,
    equity_summary,
    gini,
    group_report,
    theil,
)

MEXICO = Path(__file__).resolve().parents[1] / "data" / "pysal_mexico.csv"
DECADES = [f"pcgdp{year}" for year in range(1940, 2010, 10)]

# pysal/inequality: inequality/tests/test_theil.py (Theil, TheilD.bg) and the TheilD
# docstring in inequality/theil.py (TheilD.wg); regimes are the 'hanson98' column.
PYSAL_THEIL = [0.20894344, 0.15222451, 0.10472941, 0.10194725, 0.09560113, 0.10511256, 0.10660832]
PYSAL_THEIL_BETWEEN = [
    0.0345889,
    0.02816853,
    0.05260921,
    0.05931219,
    0.03205257,
    0.02963731,
    0.03635872,
]
PYSAL_THEIL_WITHIN = [
    0.17435454,
    0.12405598,
    0.0521202,
    0.04263506,
    0.06354856,
    0.07547525,
    0.0702496,
]


@pytest.fixture(scope="module")
def mexico() -> pd.DataFrame:
    return pd.read_csv(MEXICO, comment="#")


def test_mexico_data_is_complete(mexico: pd.DataFrame) -> None:
    assert len(mexico) == 32
    assert mexico[DECADES].notna().all().all()


def test_gini_matches_pysal_mexico_1940(mexico: pd.DataFrame) -> None:
    # pysal/inequality inequality/tests/test_gini.py
    assert gini(mexico["pcgdp1940"]) == pytest.approx(0.35372371173452849, abs=1e-12)


@pytest.mark.parametrize(("decade", "expected"), list(zip(DECADES, PYSAL_THEIL, strict=True)))
def test_theil_matches_pysal_by_decade(mexico: pd.DataFrame, decade: str, expected: float) -> None:
    assert theil(mexico[decade]) == pytest.approx(expected, abs=5e-9)


@pytest.mark.parametrize("k", range(len(DECADES)))
def test_theil_decomposition_matches_pysal(mexico: pd.DataFrame, k: int) -> None:
    parts = theil(mexico[DECADES[k]], groups=mexico["hanson98"])
    assert parts.between == pytest.approx(PYSAL_THEIL_BETWEEN[k], abs=5e-9)
    assert parts.within == pytest.approx(PYSAL_THEIL_WITHIN[k], abs=5e-9)
    assert parts.between + parts.within == pytest.approx(parts.total, abs=1e-12)
    assert parts.by_group["count"].sum() == 32


def test_atkinson_matches_pysal_published_values() -> None:
    # pysal/inequality inequality/tests/test_atkinson.py
    incomes = [10, 20, 30, 40, 50]
    assert atkinson(incomes, epsilon=0.5) == pytest.approx(0.06315, abs=1e-5)
    assert atkinson(incomes, epsilon=1) == pytest.approx(0.1316096, abs=1e-5)
    assert atkinson(incomes, epsilon=0) == pytest.approx(0.0, abs=1e-12)


positive_samples = st.lists(st.floats(0.01, 1000), min_size=2, max_size=40)
samples = st.lists(st.integers(0, 50), min_size=2, max_size=40).filter(lambda v: sum(v) > 0)


@settings(max_examples=60, deadline=None)
@given(samples)
def test_gini_equals_the_mean_absolute_difference(values: list[int]) -> None:
    x = np.array(values, dtype=float)
    naive = np.abs(x[:, None] - x[None, :]).sum() / (2 * x.size**2 * x.mean())
    assert gini(x) == pytest.approx(naive, abs=1e-12)
    assert gini(np.random.default_rng(0).permutation(x)) == pytest.approx(gini(x), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(samples, st.lists(st.sampled_from("abc"), min_size=40, max_size=40))
def test_theil_definition_and_decomposition(values: list[int], labels: list[str]) -> None:
    x = np.array(values, dtype=float)
    groups = np.array(labels[: x.size])
    mu = x.mean()
    terms = np.where(x > 0, (x / mu) * np.log(np.where(x > 0, x, 1) / mu), 0.0)
    assert theil(x) == pytest.approx(terms.mean(), abs=1e-12)
    parts = theil(x, groups=groups)
    assert parts.between + parts.within == pytest.approx(parts.total, abs=1e-10)
    assert parts.between >= -1e-12
    # between-group inequality is the Theil index of everyone replaced by their group mean
    means = pd.Series(x).groupby(groups).transform("mean").to_numpy()
    assert parts.between == pytest.approx(theil(means), abs=1e-10)


@settings(max_examples=60, deadline=None)
@given(positive_samples)
def test_atkinson_against_geometric_and_harmonic_means(values: list[float]) -> None:
    x = np.array(values)
    assert atkinson(x, epsilon=1) == pytest.approx(1 - stats.gmean(x) / x.mean(), abs=1e-9)
    assert atkinson(x, epsilon=2) == pytest.approx(1 - stats.hmean(x) / x.mean(), abs=1e-9)
    assert 0 <= atkinson(x, epsilon=0.5) <= atkinson(x, epsilon=3) + 1e-12


@settings(max_examples=60, deadline=None)
@given(samples)
def test_concentration_index_against_itself_is_the_gini(values: list[int]) -> None:
    x = np.array(values, dtype=float)
    assert concentration_index(x, rank_by=x) == pytest.approx(gini(x), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(samples)
def test_concentration_index_equals_one_minus_twice_the_curve_area(values: list[int]) -> None:
    x = np.array(values, dtype=float)
    rank_by = np.random.default_rng(len(values)).permutation(x.size).astype(float)
    # concentration curve: cumulative share of x against cumulative share of people
    cumulative = np.concatenate([[0.0], np.cumsum(x[np.argsort(rank_by)]) / x.sum()])
    area = np.sum((cumulative[1:] + cumulative[:-1]) / 2) / x.size
    assert concentration_index(x, rank_by=rank_by) == pytest.approx(1 - 2 * area, abs=1e-12)
    assert concentration_index(x, rank_by=-rank_by) == pytest.approx(
        -concentration_index(x, rank_by=rank_by), abs=1e-12
    )


def test_degenerate_and_bad_inputs() -> None:
    assert np.isnan(gini([0, 0, 0]))
    assert np.isnan(theil([0, 0]))
    assert atkinson([0, 1, 2], epsilon=1) == 1.0
    for bad in ([], [1, -1], [1, np.nan]):
        with pytest.raises(ValueError, match="values"):
            gini(bad)
    with pytest.raises(ValueError, match="epsilon"):
        atkinson([1, 2], epsilon=-1)
    with pytest.raises(ValueError, match="same length"):
        theil([1, 2], groups=["a"])
    with pytest.raises(ValueError, match="same length"):
        concentration_index([1, 2], rank_by=[1])


def small_result() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "allocated": [4, 2, 0, 3, 0],
            "need": [4, 4, 2, 6, 0],
            "floor": [2, 2, 1, 2, 0],
            "weight": [2.0, 2.0, 1.0, 1.0, 1.0],
            "tier": [1, 1, 2, 2, 2],
        }
    )


def test_group_report_by_hand() -> None:
    report = group_report(small_result(), by="tier")
    # tier 1: need 8, got 6, both reached floor; tier 2: need 8, got 3, 2 of 3 reached floor
    assert report.loc[1, ["requests", "need", "allocated", "unmet_need"]].tolist() == [2, 8, 6, 2]
    assert report.loc[2, ["requests", "need", "allocated", "unmet_need"]].tolist() == [3, 8, 3, 5]
    assert report.loc[1, "coverage"] == 1.0
    assert report.loc[2, "coverage"] == pytest.approx(2 / 3)
    assert report.loc[2, "unmet_share"] == pytest.approx(5 / 8)
    assert report.loc[1, "mean_satisfaction"] == pytest.approx(0.75)  # (1 + 0.5) / 2
    # (0 + 0.5) / 2: the request with need 0 has no satisfaction ratio
    assert report.loc[2, "mean_satisfaction"] == pytest.approx(0.25)
    # against everyone: coverage 4/5, unmet share 7/16
    assert report.loc[2, "coverage_ratio"] == pytest.approx((2 / 3) / (4 / 5))
    assert report.loc[2, "unmet_ratio"] == pytest.approx((5 / 8) / (7 / 16))
    against_tier_1 = group_report(small_result(), by="tier", reference=1)
    assert against_tier_1.loc[2, "satisfaction_ratio"] == pytest.approx(0.25 / 0.75)
    assert against_tier_1.loc[1, "coverage_ratio"] == 1.0


def test_group_report_bad_input() -> None:
    with pytest.raises(ValueError, match="missing column"):
        group_report(small_result().drop(columns="floor"), by="tier")
    with pytest.raises(ValueError, match="reference group 9"):
        group_report(small_result(), by="tier", reference=9)
    with pytest.raises(ValueError, match="one label per row"):
        group_report(small_result(), by=[1, 2])
    with pytest.raises(ValueError, match="no column 'grid'"):
        group_report(small_result(), by="grid")


def test_equity_serves_the_vulnerable_better_than_first_come_first_served() -> None:
    rng = np.random.default_rng(11)
    n = 2000
    need = rng.integers(1, 10, n)
    requests = pd.DataFrame(
        {
            "request_id": np.arange(n),
            "household_id": np.arange(n),
            "item": "food",
            "need": need,
            "weight": rng.choice([1.0, 1.0, 1.5, 2.5], n),
            "tier": 1,
            "floor": need // 2,
            "requested_at": rng.permutation(n),
        }
    )
    stock = pd.DataFrame({"item": ["food"], "quantity": [int(0.6 * need.sum())]})
    fair = equity_summary(allocate(requests, stock))
    first_come = equity_summary(allocate(requests, stock, policy="fcfs"))
    assert fair.allocated == first_come.allocated == stock["quantity"].iloc[0]
    assert fair.coverage > first_come.coverage
    assert fair.concentration_by_weight > 0.05 > abs(first_come.concentration_by_weight)
    assert fair.gini < first_come.gini
