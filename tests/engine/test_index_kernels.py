"""Index engine kernels against independent references: exact decimal arithmetic, SciPy, and
properties that must hold."""

from __future__ import annotations

from bisect import bisect_left
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from civicgrid.engine.index import Aggregation, Normalisation, round_values
from civicgrid.engine.index._aggregate import aggregate
from civicgrid.engine.index._missing import impute, to_numeric
from civicgrid.engine.index._normalise import goalposts, minmax, normalise, percent_rank, zscore
from civicgrid.engine.index._outliers import log_transform, winsorise
from civicgrid.engine.index._replicate import descending_ranks
from civicgrid.engine.index._weights import pca_weights

# ------------------------------------------------------------------------------------ rounding


def test_half_up_where_python_round_is_wrong() -> None:
    values = [0.00005, 0.00015, 0.00025, 0.12345, -0.00015]
    assert round_values(values, decimals=4).tolist() == [0.0001, 0.0002, 0.0003, 0.1235, -0.0002]
    assert round_values([2.675], decimals=2).tolist() == [2.68]
    assert str(round_values([-1e-12], decimals=1)[0]) == "0.0"  # no negative zero
    # Python's round gives a different answer on every one of these
    assert [round(v, 4) for v in values[:4]] != round_values(values[:4], decimals=4).tolist()
    assert round(2.675, 2) == 2.67


def test_rounding_keeps_nan_and_rejects_bad_arguments() -> None:
    assert np.isnan(round_values([np.nan], decimals=2)[0])
    with pytest.raises(ValueError, match="rounding mode"):
        round_values([1.0], decimals=2, mode="ceiling")
    with pytest.raises(ValueError, match="decimals"):
        round_values([1.0], decimals=-1)


@settings(max_examples=300, deadline=None)
@given(
    mantissa=st.integers(min_value=-(10**9), max_value=10**9),
    exponent=st.integers(min_value=0, max_value=9),
    decimals=st.integers(min_value=0, max_value=6),
    mode=st.sampled_from(["half_up", "half_even"]),
)
def test_rounding_matches_decimal_arithmetic(
    mantissa: int, exponent: int, decimals: int, mode: str
) -> None:
    value = mantissa / 10**exponent
    reference_mode = ROUND_HALF_UP if mode == "half_up" else ROUND_HALF_EVEN
    expected = float(
        Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=reference_mode)
    )
    assert round_values([value], decimals=decimals, mode=mode)[0] == expected


def test_exact_half_fractions_of_a_ranking_round_up() -> None:
    # (rank - 1) / (N - 1) = k + 0.5 ten-thousandths: 1/16 = 0.0625 -> 0.063 at three decimals
    assert round_values([1 / 16, 3 / 16], decimals=3).tolist() == [0.063, 0.188]
    assert round_values([1 / 16, 3 / 16], decimals=3, mode="half_even").tolist() == [0.062, 0.188]


# ---------------------------------------------------------------------------------- percentile


def _reference_percent_rank(values: list[float]) -> list[Fraction | None]:
    present = sorted(v for v in values if not np.isnan(v))
    return [
        None if np.isnan(v) else Fraction(bisect_left(present, v), len(present) - 1) for v in values
    ]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(st.integers(min_value=0, max_value=6).map(float), st.just(float("nan"))),
        min_size=2,
        max_size=40,
    ).filter(lambda xs: sum(not np.isnan(x) for x in xs) >= 2)
)
def test_percent_rank_matches_exact_reference(values: list[float]) -> None:
    result = percent_rank(np.array(values))
    for got, want in zip(result, _reference_percent_rank(values), strict=True):
        if want is None:
            assert np.isnan(got)
        else:
            assert got == pytest.approx(float(want), abs=1e-15)


def test_percent_rank_ties_take_lowest_rank_like_scipy_min() -> None:
    values = np.array([3.0, 1.0, 3.0, 2.0, 3.0, 5.0])
    expected = (stats.rankdata(values, method="min") - 1) / (len(values) - 1)
    np.testing.assert_allclose(percent_rank(values), expected)
    np.testing.assert_allclose(
        percent_rank(np.column_stack([values, -values]))[:, 1],
        (stats.rankdata(-values, method="min") - 1) / 5,
    )


def test_percent_rank_needs_two_values() -> None:
    with pytest.raises(ValueError, match="at least two"):
        percent_rank(np.array([1.0, np.nan]), name="poverty")


def test_descending_ranks_match_scipy() -> None:
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 5, size=(50, 4)).astype(float)
    scores[[2, 7], 1] = np.nan
    ranks = descending_ranks(scores)
    for column in range(4):
        present = ~np.isnan(scores[:, column])
        expected = stats.rankdata(-scores[present, column], method="min")
        np.testing.assert_array_equal(ranks[column, present], expected)
        assert np.isnan(ranks[column, ~present]).all()


# ----------------------------------------------------------------------------- normalisation


def test_minmax_zscore_goalposts() -> None:
    values = np.array([2.0, 4.0, np.nan, 10.0])
    np.testing.assert_allclose(minmax(values, target=(0, 100)), [0, 25, np.nan, 100])
    np.testing.assert_allclose(zscore(values), stats.zscore(values, ddof=1, nan_policy="omit"))
    np.testing.assert_allclose(
        goalposts(values, posts=(0, 8), target=(0, 10)), [2.5, 5, np.nan, 10]
    )
    np.testing.assert_allclose(
        goalposts(values, posts=(0, 8), clip=False), [0.25, 0.5, np.nan, 1.25]
    )
    with pytest.raises(ValueError, match="constant"):
        minmax(np.array([1.0, 1.0]), name="flat")
    with pytest.raises(ValueError, match="constant"):
        zscore(np.array([1.0, 1.0]), name="flat")


@pytest.mark.parametrize(
    "method",
    [
        Normalisation(method="percent_rank"),
        Normalisation(method="minmax", range=(1.0, 10.0)),
        Normalisation(method="goalposts", goalposts=(0.0, 20.0), range=(0.0, 10.0)),
        Normalisation(method="zscore", mean=10.0, sd=2.0),
        Normalisation(method="none"),
    ],
)
def test_reversed_direction_reverses_the_order(method: Normalisation) -> None:
    values = np.array([3.0, 9.0, 1.0, 7.0, 5.0])
    forward_values = normalise(values, method)
    backward_values = normalise(values, method, direction=-1)
    np.testing.assert_array_equal(np.argsort(forward_values), np.argsort(-backward_values))
    # mirrored within the scale: the pair sums to a constant
    sums = forward_values + backward_values
    np.testing.assert_allclose(sums, sums[0])


# ------------------------------------------------------------------------------- aggregation


def test_means_match_scipy() -> None:
    rng = np.random.default_rng(7)
    matrix = rng.uniform(0.5, 9.5, size=(30, 4))
    weights = np.array([1.0, 2.0, 0.5, 1.5])
    children = list(matrix.T)
    np.testing.assert_allclose(
        aggregate(children, weights, Aggregation(method="arithmetic")),
        np.average(matrix, axis=1, weights=weights),
    )
    np.testing.assert_allclose(
        aggregate(children, weights, Aggregation(method="geometric")),
        stats.gmean(matrix, axis=1, weights=weights),
    )
    np.testing.assert_allclose(
        aggregate(children, weights, Aggregation(method="generalised", p=-1.0)),
        stats.pmean(matrix, -1.0, axis=1, weights=weights),
    )
    np.testing.assert_allclose(
        aggregate(children, weights, Aggregation(method="sum")), matrix @ weights
    )
    reflected = aggregate(
        children, np.ones(4), Aggregation(method="reflected_geometric", ceiling=11.0)
    )
    np.testing.assert_allclose(reflected, 11 - stats.gmean(11 - matrix, axis=1))


def test_missing_children_renormalise_weights_or_propagate() -> None:
    a = np.array([8.0, 2.0, np.nan])
    b = np.array([4.0, np.nan, np.nan])
    weights = np.array([0.5, 0.25])
    available = aggregate([a, b], weights, Aggregation(method="arithmetic"))
    np.testing.assert_allclose(available, [(0.5 * 8 + 0.25 * 4) / 0.75, 2.0, np.nan])
    propagated = aggregate([a, b], weights, Aggregation(method="arithmetic", missing="propagate"))
    np.testing.assert_allclose(propagated, [(0.5 * 8 + 0.25 * 4) / 0.75, np.nan, np.nan])
    summed = aggregate([a, b], np.ones(2), Aggregation(method="sum"))
    np.testing.assert_allclose(summed, [12.0, 4.0, np.nan])  # scaled up by total/present weight


def test_max_uses_weights_as_coefficients() -> None:
    projected, current = np.array([7.6, 9.2, 1.0]), np.array([0.0, 10.0, np.nan])
    result = aggregate([projected, current], np.array([0.7, 1.0]), Aggregation(method="max"))
    np.testing.assert_allclose(result, [0.7 * 7.6, 10.0, 0.7])


def test_aggregation_domain_errors_name_the_group_and_child() -> None:
    with pytest.raises(ValueError, match=r"group 'g'.*'b' has min -0.5"):
        aggregate(
            [np.array([1.0]), np.array([-0.5])],
            np.ones(2),
            Aggregation(method="geometric"),
            group="g",
            child_names=["a", "b"],
        )
    with pytest.raises(ValueError, match="p=-1.0 needs positive values"):
        aggregate(
            [np.array([0.0])], np.ones(1), Aggregation(method="generalised", p=-1.0), group="g"
        )
    # a zero factor zeroes a geometric mean (INFORM: no hazard, no risk)
    zero = aggregate(
        [np.array([0.0, 4.0]), np.array([9.0, 9.0])], np.ones(2), Aggregation(method="geometric")
    )
    np.testing.assert_allclose(zero, [0.0, 6.0])
    with pytest.raises(ValueError, match="below 11"):
        aggregate(
            [np.array([11.0])],
            np.ones(1),
            Aggregation(method="reflected_geometric", ceiling=11.0),
            group="g",
        )


# ------------------------------------------------------------------------ missing and outliers


def test_missing_codes_and_bad_values() -> None:
    column = pd.Series(["1", " x ", "-999", "", None, "2.5"])
    np.testing.assert_array_equal(
        to_numeric(column, missing_codes=["x", -999], name="c"),
        [1.0, np.nan, np.nan, np.nan, np.nan, 2.5],
    )
    with pytest.raises(ValueError, match=r"column 'c'.*'n/a'"):
        to_numeric(pd.Series(["1", "n/a"]), missing_codes=["x"], name="c")


def test_imputation_strategies() -> None:
    values = np.array([1.0, np.nan, 3.0, 10.0, np.nan])
    groups = np.array(["a", "a", "b", "b", "c"], dtype=object)
    np.testing.assert_allclose(impute(values, strategy="mean"), [1, 14 / 3, 3, 10, 14 / 3])
    np.testing.assert_allclose(impute(values, strategy="median"), [1, 3, 3, 10, 3])
    np.testing.assert_allclose(
        impute(values, strategy="group_mean", groups=groups), [1, 1, 3, 10, np.nan]
    )
    np.testing.assert_array_equal(impute(values, strategy="exclude"), values)


def test_winsorise_and_log() -> None:
    rng = np.random.default_rng(5)
    values = rng.lognormal(size=200)
    clipped = winsorise(values, lower=0.05, upper=0.95)
    low, high = np.quantile(values, [0.05, 0.95])
    assert clipped.min() == pytest.approx(low) and clipped.max() == pytest.approx(high)
    inside = (values >= low) & (values <= high)
    np.testing.assert_array_equal(clipped[inside], values[inside])
    np.testing.assert_allclose(log_transform(values, kind="log"), np.log(values))
    with pytest.raises(ValueError, match="positive"):
        log_transform(np.array([0.0, 1.0]), kind="log", name="income")


# ------------------------------------------------------------------------------- PCA weights


def test_pca_weights_single_factor_follow_squared_loadings() -> None:
    rng = np.random.default_rng(11)
    factor = rng.normal(size=2000)
    noise = np.array([0.3, 0.6, 1.0])  # eigenvalue 1 criterion keeps one component
    data = np.column_stack([factor + rng.normal(scale=s, size=2000) for s in noise])
    correlation = np.corrcoef(data, rowvar=False)
    eigenvalues, eigenvectors = np.linalg.eigh(correlation)
    assert (eigenvalues > 1).sum() == 1
    leading = eigenvectors[:, -1] ** 2
    np.testing.assert_allclose(pca_weights(data), leading / leading.sum(), rtol=1e-9)


def test_pca_weights_two_blocks_balance_the_blocks() -> None:
    rng = np.random.default_rng(12)
    first, second = rng.normal(size=(2, 3000))
    data = np.column_stack(
        [first + rng.normal(scale=0.4, size=3000) for _ in range(2)]
        + [second + rng.normal(scale=0.4, size=3000) for _ in range(2)]
    )
    weights = pca_weights(data)
    assert weights.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(weights, 0.25, atol=0.02)


def test_pca_weights_reject_constant_indicator() -> None:
    data = np.column_stack([np.arange(10.0), np.ones(10), np.arange(10.0) ** 2])
    with pytest.raises(ValueError, match="constant"):
        pca_weights(data, names=("a", "b", "c"), group="g")
