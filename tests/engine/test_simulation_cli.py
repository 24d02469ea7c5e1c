"""``civicgrid simulate`` on a registry folder written by ``civicgrid synth``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from civicgrid.cli import main
from civicgrid.engine.synth import generate_community


def test_simulate_a_synth_registry_writes_tidy_results(tmp_path: Path, capsys) -> None:
    registry = tmp_path / "registry"
    generate_community(households=500, seed=4).write_csv(registry)
    out = tmp_path / "out"
    code = main(["simulate", "--registry", str(registry), "--scenario", "earthquake",
                 "--days", "6", "--runs", "2", "--policy", "equity", "--policy", "fcfs",
                 "--serial", "--seed", "5", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    daily = pd.read_parquet(out / "daily.parquet")
    assert set(daily["policy"]) == {"equity", "fcfs"}
    assert sorted(daily["run"].unique()) == [0, 1]
    assert daily["day"].max() == 5
    pd.testing.assert_frame_equal(
        pd.read_csv(out / "runs.csv"), pd.read_parquet(out / "runs.parquet"), check_dtype=False)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["inputs"] == {"scenario": "earthquake", "policies": ["equity", "fcfs"],
                                 "runs": 2, "seed": 5, "days": 6, "households": 500,
                                 "vulnerable_households": summary["inputs"]["vulnerable_households"]}
    assert "vulnerable household" in summary["sentence"]


def test_bad_calls_return_2(tmp_path: Path, capsys) -> None:
    assert main(["simulate", "--scenario", "lockdown", "--out", str(tmp_path)]) == 2
    assert main(["simulate", "--registry", str(tmp_path), "--scenario", "lockdown",
                 "--out", str(tmp_path)]) == 2
    assert "synth" in capsys.readouterr().err
    assert main(["simulate", "--registry", str(tmp_path), "--scenario", "nowhere.yaml",
                 "--out", str(tmp_path)]) == 2
    assert main(["simulate", "--registry", str(tmp_path), "--scenario", "lockdown",
                 "--policy", "fastest", "--out", str(tmp_path)]) == 2
