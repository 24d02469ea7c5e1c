"""``civicgrid index`` command-line functions, run on the reference files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from civicgrid.engine.index.cli import run_index_cli

DATA = Path(__file__).resolve().parent.parent / "data"


def test_svi_command_writes_published_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "svi.csv"
    assert (
        run_index_cli(
            ["index", "svi", "--input", str(DATA / "SVI_2022_US_county.csv"), "--out", str(out)]
        )
        == 0
    )
    assert "3144 rows" in capsys.readouterr().out
    written = pd.read_csv(out, dtype={"FIPS": str})
    published = pd.read_csv(DATA / "SVI_2022_US_county.csv", encoding="utf-8-sig")
    assert written["FIPS"].iloc[0] == "01001" and written.columns[0] == "FIPS"
    result_columns = [c for c in published.columns if c.startswith(("EPL_", "SPL_", "RPL_", "F_"))]
    assert list(written.columns[1:]) == result_columns
    mismatches = int(
        (written[result_columns].to_numpy() != published[result_columns].to_numpy()).sum()
    )
    print(f"\nCLI svi: {mismatches} mismatching values in {len(result_columns)} columns")
    assert mismatches == 0


def test_inform_command_keys_by_iso3(tmp_path: Path) -> None:
    out = tmp_path / "inform.csv"
    assert (
        run_index_cli(
            ["inform", "--input", str(DATA / "inform_gri_2020_v040.csv"), "--out", str(out)]
        )
        == 0
    )
    written = pd.read_csv(out).set_index("ISO3")
    published = pd.read_csv(DATA / "inform_gri_2020_v040.csv", encoding="latin-1").set_index("ISO3")
    assert "INFORM RISK" in written.columns and "LACK OF COPING CAPACITY" in written.columns
    deviation = (written["INFORM RISK"] - published.loc[written.index, "INFORM RISK"]).abs()
    assert deviation.mean() <= 0.05 and deviation.max() <= 0.15


def test_spec_command_and_input_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = {
        "name": "cli demo",
        "id_column": "grid",
        "defaults": {"normalise": "percent_rank"},
        "indicators": [{"name": "drills"}, {"name": "unmet_need", "direction": -1}],
        "groups": [{"name": "readiness", "children": ["drills", "unmet_need"]}],
    }
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    units = tmp_path / "units.csv"
    pd.DataFrame(
        {"grid": ["007", "012", "031"], "drills": [1, 4, 2], "unmet_need": [0.5, 0.1, 0.3]}
    ).to_csv(units, index=False)
    out = tmp_path / "scores.csv"
    assert run_index_cli(["--spec", str(spec_path), "--input", str(units), "--out", str(out)]) == 0
    written = pd.read_csv(out, dtype={"grid": str})
    assert written["grid"].tolist() == ["007", "012", "031"]  # ids kept as text
    assert written["readiness:rank"].tolist() == [3, 1, 2]
    assert written["readiness"].tolist() == [0.0, 1.0, 0.5]

    pd.DataFrame({"grid": ["a", "b"], "drills": [1, 2]}).to_csv(units, index=False)
    assert run_index_cli(["--spec", str(spec_path), "--input", str(units), "--out", str(out)]) == 2
    assert "unmet_need" in capsys.readouterr().err
    assert run_index_cli(["svi", "--input", str(tmp_path / "absent.csv"), "--out", str(out)]) == 2
    assert "not found" in capsys.readouterr().err
    assert run_index_cli(["svi", "--out", str(out)]) == 2  # --input is required: a usage error, no exit
    assert "--input" in capsys.readouterr().err
