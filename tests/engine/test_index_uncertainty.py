"""Uncertainty analysis: every replication must equal ``compute_index`` run with the choices it
drew; Sobol indices must single out the choice that moves the ranking."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest

from civicgrid.engine.index import compute_index
from civicgrid.engine.index.uncertainty import (
    plot_rank_intervals,
    rank_intervals,
    sobol_sensitivity,
)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(42)
    common = rng.normal(size=(120, 1))
    values = np.exp(0.5 * common + rng.normal(size=(120, 6)))
    frame = pd.DataFrame(values, columns=[f"x{j}" for j in range(6)])
    frame.insert(0, "unit", [f"u{i:03d}" for i in range(120)])
    frame.loc[[4, 9], "x2"] = np.nan
    return frame


def _spec() -> dict[str, Any]:
    return {
        "name": "two pillars",
        "id_column": "unit",
        "defaults": {"normalise": {"method": "minmax", "range": [1, 10]}},
        "indicators": [{"name": f"x{j}", "direction": -1 if j == 5 else 1} for j in range(6)],
        "groups": [
            {"name": "left", "children": ["x0", "x1", "x2"]},
            {
                "name": "right",
                "children": ["x3", "x4", "x5"],
                "aggregate": {"weights": {"x3": 2, "x4": 1, "x5": 1}},
            },
            {"name": "index", "children": ["left", "right"]},
        ],
    }


def _rerun(data: pd.DataFrame, replication: pd.Series, normalise: Any, method: str) -> np.ndarray:
    """``compute_index`` with the normalisation, aggregation and weights one replication drew."""
    spec = copy.deepcopy(_spec())
    spec["defaults"]["normalise"] = normalise
    for group in spec["groups"]:
        group["aggregate"] = {
            "method": method,
            "weights": {
                child: float(replication[f"weight:{group['name']}/{child}"])
                for child in group["children"]
            },
        }
    return compute_index(data, spec=spec).rank.to_numpy(dtype=float)


def test_nominal_replications_reproduce_the_nominal_ranking(data: pd.DataFrame) -> None:
    spec = _spec()
    spec["groups"][2].update(aggregate="rank_of_sum", inputs="aggregate")  # group normalisation
    result = rank_intervals(
        data,
        spec=spec,
        n_replications=5,
        weight_noise=0.0,
        normalisations=None,
        aggregations=None,
        seed=1,
        keep_ranks=True,
    )
    nominal = compute_index(data, spec=spec).rank.to_numpy(dtype=float)
    assert result.ranks is not None
    np.testing.assert_array_equal(result.ranks, np.tile(nominal, (5, 1)))
    intervals = result.intervals
    assert (intervals["lower_rank"] == intervals["nominal_rank"]).all()
    assert (intervals["upper_rank"] == intervals["nominal_rank"]).all()
    assert (result.replications["mean_abs_rank_shift"] == 0).all()


def test_every_replication_equals_compute_index_with_its_draws(data: pd.DataFrame) -> None:
    normalisations = [
        {"method": "minmax", "range": [1, 10]},
        {"method": "percent_rank", "range": [1, 100]},
    ]
    result = rank_intervals(
        data,
        spec=_spec(),
        n_replications=12,
        weight_noise=0.4,
        normalisations=normalisations,
        aggregations=["arithmetic", "geometric"],
        seed=7,
        keep_ranks=True,
        batch_size=4,
    )
    assert result.ranks is not None
    labels = {"minmax": normalisations[0], "percent_rank": normalisations[1]}
    seen = set()
    for row, replication in result.replications.iterrows():
        expected = _rerun(
            data, replication, labels[replication["normalisation"]], replication["aggregation"]
        )
        np.testing.assert_array_equal(result.ranks[row], expected, err_msg=f"replication {row}")
        seen.add((replication["normalisation"], replication["aggregation"]))
    assert len(seen) == 4  # every combination was exercised
    weights = result.replications.filter(like="weight:right/x3")
    assert weights.to_numpy().min() >= 2 * 0.6 and weights.to_numpy().max() <= 2 * 1.4


def test_intervals_are_ordered_and_reproducible(data: pd.DataFrame) -> None:
    first = rank_intervals(data, spec=_spec(), n_replications=60, seed=3)
    second = rank_intervals(data, spec=_spec(), n_replications=60, seed=3)
    pd.testing.assert_frame_equal(first.intervals, second.intervals)
    table = first.intervals
    assert (table["lower_rank"] <= table["median_rank"]).all()
    assert (table["median_rank"] <= table["upper_rank"]).all()
    assert table["interval_width"].max() > 0
    assert set(first.replications["normalisation"]) == {"percent_rank", "minmax", "zscore"}
    ranks = rank_intervals(data, spec=_spec(), n_replications=60, seed=3, keep_ranks=True).ranks
    assert ranks is not None
    np.testing.assert_allclose(table["median_rank"], np.median(ranks, axis=0))
    np.testing.assert_allclose(table["upper_rank"], np.quantile(ranks, 0.95, axis=0))


def test_sobol_ignores_a_choice_that_cannot_change_the_ranking(data: pd.DataFrame) -> None:
    # min-max to [1, 10] or to [1, 100] orders every arithmetic mean identically
    table = sobol_sensitivity(
        data,
        spec=_spec(),
        n_base=64,
        weight_noise=0.5,
        normalisations=[
            {"method": "minmax", "range": [1, 10]},
            {"method": "minmax", "range": [1, 100]},
        ],
        aggregations=["arithmetic"],
        seed=5,
    )
    print(f"\nSobol indices (normalisation inert):\n{table}")
    assert list(table.index) == ["weights", "normalisation"]
    assert table.attrs["n_runs"] == 64 * (2 + 2)
    assert abs(table.loc["normalisation", "ST"]) < 0.02
    assert table.loc["weights", "ST"] > 0.9


def test_sobol_singles_out_normalisation_when_it_dominates(data: pd.DataFrame) -> None:
    table = sobol_sensitivity(
        data,
        spec=_spec(),
        n_base=64,
        weight_noise=0.02,
        normalisations=["percent_rank", {"method": "minmax", "range": [1, 10]}],
        aggregations=["arithmetic", "geometric"],
        seed=6,
    )
    print(f"\nSobol indices (normalisation dominant):\n{table}")
    assert table["ST"].idxmax() == "normalisation"
    assert table.loc["normalisation", "ST"] > table.loc["weights", "ST"]


def test_plot_shows_the_top_units(data: pd.DataFrame) -> None:
    result = rank_intervals(data, spec=_spec(), n_replications=40, seed=2)
    figure = plot_rank_intervals(result, top=5)
    top = result.intervals.sort_values("nominal_rank").head(5)
    median, nominal = figure.data
    assert list(median.x) == list(top.index) and list(nominal.y) == list(top["nominal_rank"])
    np.testing.assert_allclose(median.error_y.array, top["upper_rank"] - top["median_rank"])
    np.testing.assert_allclose(median.error_y.arrayminus, top["median_rank"] - top["lower_rank"])
    assert figure.layout.yaxis.autorange == "reversed"
    chosen = plot_rank_intervals(result.intervals, units=["u003", "u001"])
    assert list(chosen.data[0].x) == ["u003", "u001"]
    with pytest.raises(ValueError, match="unknown units"):
        plot_rank_intervals(result, units=["nobody"])


def test_argument_errors(data: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="quantiles"):
        rank_intervals(data, spec=_spec(), n_replications=5, quantiles=(0.9, 0.1))
    with pytest.raises(ValueError, match="power of two"):
        sobol_sensitivity(data, spec=_spec(), n_base=100)
    with pytest.raises(ValueError, match="nothing varies"):
        sobol_sensitivity(
            data, spec=_spec(), n_base=8, weight_noise=0.0, normalisations=None, aggregations=None
        )
    with pytest.raises(ValueError, match="normalisation method"):
        rank_intervals(data, spec=_spec(), n_replications=5, normalisations=["rescale"])
