"""The declarative specification and ``compute_index``: validation, every level, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from civicgrid.engine.index import IndexSpec, compute_index


def _spec(**overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "test index",
        "id_column": "unit",
        "missing_codes": [-999, "x"],
        "defaults": {"normalise": {"method": "minmax", "range": [1, 10]}},
        "indicators": [
            {"name": "flood", "column": "flood_share"},
            {"name": "income", "direction": -1},
            {"name": "elderly"},
        ],
        "groups": [
            {"name": "hazard", "children": ["flood"]},
            {
                "name": "social",
                "children": ["income", "elderly"],
                "aggregate": {"method": "arithmetic"},
            },
            {
                "name": "index",
                "children": ["hazard", "social"],
                "aggregate": {"method": "geometric"},
            },
        ],
    }
    spec.update(overrides)
    return spec


@pytest.fixture
def units() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit": ["a", "b", "c", "d", "e"],
            "flood_share": [0.1, 0.5, 0.3, 0.9, 0.2],
            "income": [40.0, 10.0, 30.0, 20.0, 50.0],
            "elderly": [5.0, 25.0, 15.0, -999, 10.0],
            "published_score": [9, 9, 9, 9, 9],  # ignored
        }
    )


def test_every_level_is_returned_and_follows_the_formulas(units: pd.DataFrame) -> None:
    result = compute_index(units, spec=_spec())
    flood = 1 + 9 * (units["flood_share"] - 0.1) / 0.8
    income = 1 + 9 * (50 - units["income"]) / 40  # reversed
    elderly = 1 + 9 * (units["elderly"].where(units["elderly"] != -999) - 5) / 20
    np.testing.assert_allclose(result.normalised["flood"], flood)
    np.testing.assert_allclose(result.normalised["income"], income)
    np.testing.assert_allclose(result.normalised["elderly"], elderly)
    social = pd.concat([income, elderly], axis=1).mean(axis=1)  # mean over what is present
    np.testing.assert_allclose(result.aggregates["social"], social)
    np.testing.assert_allclose(result.score, stats.gmean(np.column_stack([flood, social]), axis=1))
    assert list(result.rank.index) == ["a", "b", "c", "d", "e"]
    np.testing.assert_array_equal(
        result.rank, stats.rankdata(-result.score.to_numpy(), method="min")
    )
    assert result.weights["social"].to_dict() == {"income": 0.5, "elderly": 0.5}
    assert np.isnan(result.raw.loc["d", "elderly"])


def test_breakdown_explains_a_unit(units: pd.DataFrame) -> None:
    result = compute_index(units, spec=_spec())
    table = result.breakdown("b")
    assert list(table.index) == ["index", "hazard", "flood", "social", "income", "elderly"]
    assert table.loc["index", "rank"] == result.rank["b"]
    assert table.loc["income", "raw"] == 10.0
    assert table.loc["social", "weight"] == 0.5 and table.loc["income", "parent"] == "social"
    with pytest.raises(KeyError):
        result.breakdown("zzz")


def test_rank_of_sum_percent_rank_rounding_and_flags() -> None:
    data = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [4.0, 1.0, 2.0, 3.0]})
    spec = {
        "name": "ranked",
        "flags": {"threshold": 0.6},
        "defaults": {"normalise": "percent_rank", "round": 2},
        "indicators": [{"name": "a", "outputs": {"value": "EPL_A", "flag": "F_A"}}, {"name": "b"}],
        "groups": [
            {
                "name": "total",
                "children": ["a", "b"],
                "aggregate": "rank_of_sum",
                "outputs": {"aggregate": "SPL", "score": "RPL", "flag": "F_TOTAL"},
            }
        ],
    }
    result = compute_index(data, spec=spec)
    np.testing.assert_allclose(
        result.normalised["a"], [0, 0.33, 0.67, 1]
    )  # 1/3 -> 0.33, 2/3 -> 0.67
    np.testing.assert_allclose(result.aggregates["total"], [1.0, 0.33, 1.0, 1.67])
    np.testing.assert_allclose(
        result.score, [1 / 3, 0, 1 / 3, 1], atol=0.005
    )  # ties at the lowest rank
    assert result.flags is not None
    assert result.flags["a"].tolist() == [0, 0, 1, 1] and result.flags["total"].tolist() == [
        1,
        0,
        1,
        2,
    ]
    published = result.table(published=True)
    assert list(published.columns) == ["EPL_A", "SPL", "RPL", "F_A", "F_TOTAL"]
    full = result.table()
    assert {"a", "b", "total", "total:aggregate", "a:flag", "total:flag"} <= set(full.columns)


def test_imputation_outliers_and_pca_weights() -> None:
    rng = np.random.default_rng(0)
    data = pd.DataFrame(rng.lognormal(size=(60, 3)), columns=["x", "y", "z"])
    data.loc[[3, 8], "y"] = np.nan
    data["region"] = np.repeat(["n", "s", "e"], 20)
    spec = {
        "name": "treated",
        "group_column": "region",
        "defaults": {"normalise": "zscore"},
        "indicators": [
            {"name": "x", "outliers": {"winsorise": [0.05, 0.95]}},
            {"name": "y", "missing": "group_mean", "outliers": {"transform": "log"}},
            {"name": "z", "missing": "median"},
        ],
        "groups": [{"name": "index", "children": ["x", "y", "z"], "aggregate": {"weights": "pca"}}],
    }
    result = compute_index(data, spec=spec)
    region_mean = data.loc[data["region"] == "n", "y"].mean()
    assert result.treated.loc[3, "y"] == pytest.approx(np.log(region_mean))
    assert result.treated["x"].max() == pytest.approx(np.quantile(data["x"], 0.95))
    assert result.weights["index"].sum() == pytest.approx(1.0)
    assert result.score.notna().all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"groups": [{"name": "index", "children": ["flood", "nowhere"]}]}, "unknown children"),
        (
            {
                "groups": [
                    {"name": "a", "children": ["flood", "income", "elderly", "b"]},
                    {"name": "b", "children": ["a"]},
                ]
            },
            "cycle|exactly one top group",
        ),
        ({"indicators": [{"name": "flood"}, {"name": "flood"}]}, "unique"),
        ({"defaults": {"normalise": "rescale"}}, "normalisation method"),
        (
            {
                "groups": [
                    {
                        "name": "index",
                        "children": ["flood", "income", "elderly"],
                        "aggregate": {"method": "generalised"},
                    }
                ]
            },
            "needs an exponent p",
        ),
        (
            {
                "groups": [
                    {
                        "name": "index",
                        "children": ["flood", "income", "elderly"],
                        "aggregate": {"weights": {"flood": 1}},
                    }
                ]
            },
            "without weight",
        ),
        ({"colour": "red"}, "unknown key"),
        (
            {
                "indicators": [
                    {"name": "flood", "direction": 2},
                    {"name": "income"},
                    {"name": "elderly"},
                ]
            },
            "direction",
        ),
    ],
)
def test_invalid_specifications_are_rejected_clearly(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        IndexSpec.from_dict(_spec(**change))


def test_geometric_mean_of_negative_values_is_an_error_not_garbage(units: pd.DataFrame) -> None:
    with pytest.raises(
        ValueError, match=r"group 'index': geometric aggregation needs non-negative"
    ):
        compute_index(units, spec=_spec(defaults={"normalise": "zscore"}))


def test_input_errors_name_the_column(units: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['flood_share'\]"):
        compute_index(units.drop(columns="flood_share"), spec=_spec())
    bad = units.astype({"income": object})
    bad.loc[2, "income"] = "thirty"
    with pytest.raises(ValueError, match="column 'income': value 'thirty'"):
        compute_index(bad, spec=_spec())
    with pytest.raises(ValueError, match="repeated values"):
        compute_index(units.assign(unit=["a", "a", "b", "c", "d"]), spec=_spec())
    with pytest.raises(TypeError):
        compute_index(units.to_dict(), spec=_spec())


def test_optional_indicator_may_be_absent(units: pd.DataFrame) -> None:
    spec = _spec()
    spec["indicators"][2]["optional"] = True
    result = compute_index(units.drop(columns="elderly"), spec=spec)
    assert result.dropped == ("elderly",)
    assert list(result.spec.group("social").children) == ["income"]
    np.testing.assert_allclose(result.aggregates["social"], result.normalised["income"])


def test_yaml_file_and_dict_agree(units: pd.DataFrame, tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(_spec()), encoding="utf-8")
    from_file = compute_index(units, spec=path)
    from_dict = compute_index(units, spec=_spec())
    pd.testing.assert_frame_equal(from_file.scores, from_dict.scores)
