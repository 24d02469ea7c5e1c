"""CDC/ATSDR SVI preset: the published 2022 county table must be reproduced with no mismatch;
other layouts and -999 handling are checked against an exact reference written here."""

from __future__ import annotations

from bisect import bisect_left
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from civicgrid.engine.index import svi, svi_layout

DATA = Path(__file__).resolve().parent.parent / "data" / "SVI_2022_US_county.csv"
FAMILIES = ("EPL_", "SPL_", "RPL_", "F_")

THEMES_2020 = {
    1: ["POV150", "UNEMP", "HBURD", "NOHSDP", "UNINSUR"],
    2: ["AGE65", "AGE17", "DISABL", "SNGPNT", "LIMENG"],
    3: ["MINRTY"],
    4: ["MUNIT", "MOBILE", "CROWD", "NOVEH", "GROUPQ"],
}
THEMES_2018 = {
    1: ["POV", "UNEMP", "PCI", "NOHSDP"],
    2: ["AGE65", "AGE17", "DISABL", "SNGPNT"],
    3: ["MINRTY", "LIMENG"],
    4: ["MUNIT", "MOBILE", "CROWD", "NOVEH", "GROUPQ"],
}


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    return pd.read_csv(DATA, encoding="utf-8-sig", dtype={"FIPS": str, "STCNTY": str})


def _mismatches(ours: pd.DataFrame, theirs: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Per column family, the number of values that differ in each column."""
    ours = ours.set_index("FIPS")
    theirs = theirs.assign(FIPS=theirs["FIPS"].str.zfill(5)).set_index("FIPS").loc[ours.index]
    found: dict[str, dict[str, int]] = {family: {} for family in FAMILIES}
    for column in ours.columns:
        family = next(f for f in FAMILIES if column.startswith(f))
        mine = ours[column].astype(float).to_numpy()
        reference = theirs[column].astype(float).to_numpy()
        found[family][column] = int((mine != reference).sum())
    return found


def test_svi_2022_county_matches_published_exactly(published: pd.DataFrame) -> None:
    inputs = published[["FIPS", *[f"EP_{v}" for vs in THEMES_2020.values() for v in vs]]]
    ours = svi(inputs)
    expected_columns = [c for c in published.columns if c.startswith(FAMILIES)]
    assert sorted(ours.columns[1:]) == sorted(expected_columns)
    assert list(ours.columns[1:]) == expected_columns  # the published order
    assert len(ours) == len(published) == 3144
    mismatches = _mismatches(ours, published)
    summary = {family: (len(cols), sum(cols.values())) for family, cols in mismatches.items()}
    print(f"\nSVI 2022 county, columns and mismatches per family: {summary}")
    assert all(total == 0 for _, total in summary.values()), mismatches
    assert summary == {"EPL_": (16, 0), "SPL_": (5, 0), "RPL_": (5, 0), "F_": (21, 0)}


def test_published_result_columns_are_ignored(published: pd.DataFrame) -> None:
    scrambled = published.copy()
    for column in scrambled.columns:
        if column.startswith(FAMILIES):
            scrambled[column] = -1
    pd.testing.assert_frame_equal(svi(scrambled), svi(published))


def test_output_types_and_missing_code(published: pd.DataFrame) -> None:
    inputs = published.head(200).copy()
    inputs.loc[3, "EP_CROWD"] = -999
    coded = svi(inputs)
    assert coded["EPL_CROWD"].dtype == np.float64 and coded["F_CROWD"].dtype == np.int64
    assert coded.loc[3, "EPL_CROWD"] == -999 and coded.loc[3, "F_TOTAL"] == -999
    plain = svi(inputs, missing=None)
    assert np.isnan(plain.loc[3, "RPL_THEME4"]) and plain["F_TOTAL"].isna().sum() == 1


def test_fips_are_zero_filled_text(published: pd.DataFrame) -> None:
    out = svi(published.assign(FIPS=published["FIPS"].astype(int)))
    assert out["FIPS"].iloc[0] == "01001" and out["FIPS"].str.len().eq(5).all()
    tracts = published.head(30).assign(FIPS=[1001020100 + i for i in range(30)])
    assert svi(tracts)["FIPS"].iloc[0] == "01001020100"


# ---------------------------------------------------------------- exact reference implementation


def _half_up(value: Fraction) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _percentile(values: list[Decimal | None]) -> list[Fraction | None]:
    present = sorted(v for v in values if v is not None)
    return [
        None if v is None else Fraction(bisect_left(present, v), len(present) - 1) for v in values
    ]


def _total(parts: list[Decimal | None]) -> Decimal | None:
    """A sum that is missing when any part is missing."""
    present = [p for p in parts if p is not None]
    return sum(present, Decimal(0)) if len(present) == len(parts) else None


def _count(flags: list[int | None]) -> int | None:
    present = [f for f in flags if f is not None]
    return sum(present) if len(present) == len(flags) else None


def _reference_svi(
    table: pd.DataFrame, themes: dict[int, list[str]], reversed_: set[str]
) -> pd.DataFrame:
    """CDC's documented procedure in exact decimal arithmetic, one plain loop per step."""
    out: dict[str, list[Decimal | None]] = {}
    theme_sums: dict[int, list[Decimal | None]] = {}
    flags: dict[str, list[int | None]] = {}
    for theme, names in themes.items():
        for name in names:
            raw = [None if v == -999 else Decimal(repr(float(v))) for v in table[f"EP_{name}"]]
            ranks = _percentile(raw)
            out[f"EPL_{name}"] = [
                None if r is None else _half_up(1 - r if name in reversed_ else r) for r in ranks
            ]
            flags[f"F_{name}"] = [
                None if e is None else int(e >= Decimal("0.9")) for e in out[f"EPL_{name}"]
            ]
        sums: list[Decimal | None] = []
        theme_flags: list[int | None] = []
        for row in range(len(table)):
            parts = [out[f"EPL_{n}"][row] for n in names]
            sums.append(_total(parts))
            counts = [flags[f"F_{n}"][row] for n in names]
            theme_flags.append(_count(counts))
        theme_sums[theme] = sums
        out[f"SPL_THEME{theme}"] = sums
        out[f"RPL_THEME{theme}"] = [None if r is None else _half_up(r) for r in _percentile(sums)]
        flags[f"F_THEME{theme}"] = theme_flags
    overall: list[Decimal | None] = []
    total_flags: list[int | None] = []
    for row in range(len(table)):
        parts = [theme_sums[t][row] for t in themes]
        overall.append(_total(parts))
        counts = [flags[f"F_THEME{t}"][row] for t in themes]
        total_flags.append(_count(counts))
    out["SPL_THEMES"] = overall
    out["RPL_THEMES"] = [None if r is None else _half_up(r) for r in _percentile(overall)]
    flags["F_TOTAL"] = total_flags
    frame = pd.DataFrame(
        {k: [-999.0 if v is None else float(v) for v in vs] for k, vs in {**out, **flags}.items()}
    )
    frame.insert(0, "FIPS", table["FIPS"].astype(str).str.zfill(5).to_numpy())
    return frame


def _compare(ours: pd.DataFrame, reference: pd.DataFrame) -> dict[str, int]:
    reference = reference[ours.columns]
    return {c: int((ours[c].astype(float) != reference[c]).sum()) for c in ours.columns[1:]}


def test_missing_values_are_left_out_and_propagate_as_minus_999(published: pd.DataFrame) -> None:
    rng = np.random.default_rng(2022)
    inputs = published[["FIPS", *[f"EP_{v}" for vs in THEMES_2020.values() for v in vs]]].copy()
    for column in ("EP_POV150", "EP_MINRTY", "EP_NOVEH"):
        inputs.loc[rng.choice(len(inputs), size=40, replace=False), column] = -999
    ours = svi(inputs)
    reference = _reference_svi(inputs, THEMES_2020, reversed_=set())
    mismatches = _compare(ours, reference)
    print(f"\nSVI 2022 with injected -999: total mismatches {sum(mismatches.values())}")
    assert sum(mismatches.values()) == 0, {k: v for k, v in mismatches.items() if v}
    missing_rows = inputs["EP_POV150"] == -999
    assert (
        (
            ours.loc[
                missing_rows, ["EPL_POV150", "SPL_THEME1", "RPL_THEME1", "RPL_THEMES", "F_TOTAL"]
            ]
            == -999
        )
        .all()
        .all()
    )
    # the other variables of those rows are still ranked, among fewer units for POV150
    assert (ours.loc[missing_rows, "EPL_UNEMP"] != -999).all()
    assert ours.loc[~missing_rows, "EPL_POV150"].max() == 1.0


def _synthetic_2018(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({"FIPS": [f"{1000 + 2 * i:05d}" for i in range(rows)]})
    for names in THEMES_2018.values():
        for name in names:
            if name == "PCI":
                table["EP_PCI"] = rng.integers(12_000, 60_000, size=rows) // 500 * 500  # ties
            else:
                table[f"EP_{name}"] = rng.integers(0, 400, size=rows) / 10
    table.loc[[5, 17], "EP_PCI"] = -999
    table["EP_UNINSUR"] = rng.integers(0, 300, size=rows) / 10  # an adjunct in 2018, not ranked
    return table


def test_2018_layout_detected_and_per_capita_income_reversed() -> None:
    table = _synthetic_2018(rows=257, seed=18)
    assert svi_layout(table.columns) == "svi_2018"
    ours = svi(table)
    assert "EPL_PCI" in ours.columns and "EPL_UNINSUR" not in ours.columns
    assert [c for c in ours.columns if c.startswith("EPL_")] == [
        f"EPL_{n}" for ns in THEMES_2018.values() for n in ns
    ]
    reference = _reference_svi(table, THEMES_2018, reversed_={"PCI"})
    mismatches = _compare(ours, reference)
    print(
        "\nSVI 2018 layout (synthetic, exact reference): total mismatches "
        f"{sum(mismatches.values())}"
    )
    assert sum(mismatches.values()) == 0, {k: v for k, v in mismatches.items() if v}
    ranked = ours.loc[table["EP_PCI"] != -999, "EPL_PCI"]
    incomes = table.loc[table["EP_PCI"] != -999, "EP_PCI"]
    order = np.argsort(incomes.to_numpy(), kind="stable")
    assert np.all(np.diff(ranked.to_numpy()[order]) <= 0)  # richer, less vulnerable
    assert ours.loc[incomes.idxmin(), "EPL_PCI"] == 1.0


def test_2020_release_and_layout_errors(published: pd.DataFrame) -> None:
    assert svi_layout(published.columns) == "svi_2020"
    assert (
        svi_layout([], release=2020) == "svi_2020" and svi_layout([], release="2016") == "svi_2018"
    )
    with pytest.raises(ValueError, match="lacks columns \\['EP_UNINSUR'\\]"):
        svi(published.drop(columns="EP_UNINSUR"))
    with pytest.raises(ValueError, match="no SVI layout for release 2010"):
        svi(published, release=2010)
    with pytest.raises(ValueError, match="FIPS"):
        svi(published.drop(columns="FIPS"))
    extra = pd.DataFrame({"EP_POV": 1.0, "EP_PCI": 2.0}, index=published.index)
    both = pd.concat([published, extra], axis=1)
    with pytest.raises(ValueError, match="both"):
        svi(both)
    assert svi(both, release=2022).shape == svi(published).shape
