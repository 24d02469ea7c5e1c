"""INFORM Risk Index preset: recompute every group, dimension and INFORM RISK of the published
2020 table from its leaf components only."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from civicgrid.engine.index import inform

DATA = Path(__file__).resolve().parent.parent / "data" / "inform_gri_2020_v040.csv"
LEAVES = [
    "Earthquake", "Flood", "Tsunami", "Tropical Cyclone", "Drought", "Epidemic",
    "Projected Conflict Risk", "Current Highly Violent Conflict Intensity",
    "Development & Deprivation", "Inequality", "Aid Dependency", "Uprooted people",
    "Health Conditions", "Children U5", "Recent Shocks", "Food Security", "DRR", "Governance",
    "Communication", "Physical infrastructure", "Access to health care",
]  # fmt: skip
COMPUTED = [
    "Natural", "Human", "HAZARD & EXPOSURE", "Socio-Economic Vulnerability",
    "Other Vulnerable Groups", "Vulnerable Groups", "VULNERABILITY", "Institutional",
    "Infrastructure", "LACK OF COPING CAPACITY", "INFORM RISK",
]  # fmt: skip
# Built from one-decimal leaves by linear rules and rounded like INFORM: must agree exactly.
LINEAR = ["Human", "Socio-Economic Vulnerability", "Institutional", "Infrastructure"]


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return pd.read_csv(DATA, encoding="latin-1", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def published(raw: pd.DataFrame) -> pd.DataFrame:
    numbers = raw[["ISO3", *LEAVES, *COMPUTED]].replace("x", np.nan)
    return numbers.set_index("ISO3").astype(float)


def test_every_level_within_tolerance_of_published(
    raw: pd.DataFrame, published: pd.DataFrame
) -> None:
    ours = inform(raw[["COUNTRY", "ISO3", *LEAVES]]).set_index("ISO3")
    assert list(ours.columns) == COMPUTED
    assert list(ours.index) == list(published.index) and len(ours) == 191
    lines = []
    for column in COMPUTED:
        deviation = (ours[column] - published[column]).abs()
        assert deviation.notna().all(), column
        mean, within = deviation.mean(), (deviation <= 0.15 + 1e-9).mean()
        exact = int((deviation < 1e-9).sum())
        lines.append(
            f"{column:30s} mean {mean:.4f}  max {deviation.max():.2f}  "
            f"<=0.15 {within:6.1%}  exact {exact}/191"
        )
        assert mean <= 0.05, f"{column}: mean deviation {mean:.4f}"
        assert within >= 0.95, f"{column}: only {within:.1%} within 0.15"
    print("\nINFORM 2020 v0.4.0 recomputed from leaves:\n" + "\n".join(lines))
    for column in LINEAR:
        assert (ours[column] == published[column]).all(), column


def test_published_groups_in_the_input_are_ignored(raw: pd.DataFrame) -> None:
    scrambled = raw.copy()
    for column in COMPUTED:
        scrambled[column] = "0"
    pd.testing.assert_frame_equal(inform(scrambled), inform(raw))


def _half_up(value: float) -> float:
    return float(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def test_release_without_epidemic_column(raw: pd.DataFrame, published: pd.DataFrame) -> None:
    ours = inform(raw.drop(columns="Epidemic")).set_index("ISO3")
    hazards = published[["Earthquake", "Flood", "Tsunami", "Tropical Cyclone", "Drought"]]
    for iso3, row in hazards.iterrows():
        product = float(np.prod([11.0 - v for v in row]))
        assert ours.loc[iso3, "Natural"] == _half_up(11.0 - product ** (1 / 5)), iso3
    deviation = (ours["INFORM RISK"] - published["INFORM RISK"]).abs()
    print(
        "\nINFORM without Epidemic: mean deviation of INFORM RISK from the 2020 values "
        f"{deviation.mean():.3f}"
    )
    assert deviation.notna().all()


def test_missing_inputs_renormalise_weights(raw: pd.DataFrame) -> None:
    row = raw[raw["ISO3"] == "ATG"].copy()  # Inequality is 'x' in the published table
    assert row["Inequality"].item() == "x"
    ours = inform(row).iloc[0]
    dd, aid = float(row["Development & Deprivation"].item()), float(row["Aid Dependency"].item())
    assert ours["Socio-Economic Vulnerability"] == _half_up((0.5 * dd + 0.25 * aid) / 0.75)


def test_headers_are_matched_loosely_and_bad_values_rejected(raw: pd.DataFrame) -> None:
    renamed = raw.rename(
        columns={
            "Physical infrastructure": "Physical Infrastructure",
            "Access to health care": "ACCESS TO HEALTH CARE",
            "Development & Deprivation": "Development and Deprivation",
        }
    )
    pd.testing.assert_frame_equal(inform(renamed), inform(raw))
    broken = raw.copy()
    broken.loc[3, "Flood"] = "n.a."
    with pytest.raises(ValueError, match="column 'Flood': value 'n.a.'"):
        inform(broken)
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['Drought'\]"):
        inform(raw.drop(columns="Drought"))
    with pytest.raises(ValueError, match="ISO3"):
        inform(raw.drop(columns="ISO3"))
