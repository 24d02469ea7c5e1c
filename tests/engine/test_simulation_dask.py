"""Replications on Dask give exactly the serial numbers (same seeds, two worker processes)."""

from __future__ import annotations

import pandas as pd
import pytest

from civicgrid.engine._simulation_cli import run_simulate_cli
from civicgrid.engine.simulation import scenario_from_dict, simulate, synthetic_population
from civicgrid.engine.synth import generate_community


@pytest.mark.slow
def test_two_dask_workers_reproduce_the_serial_run_exactly(tmp_path) -> None:
    from dask.distributed import Client, LocalCluster

    population = synthetic_population(households=2000, seed=8)
    scenario = scenario_from_dict({
        "name": "mixed", "days": 15, "supply": {"ratio": 1.0, "every": 2, "cv": 0.3},
        "events": [{"type": "supply", "from": 3, "to": 9, "ratio": 0.4},
                   {"type": "volunteers_sick", "from": 2, "to": 10, "share": 0.3},
                   {"type": "cut_off", "from": 1, "to": 4, "share": 0.2},
                   {"type": "phones_down", "from": 0, "to": 2, "report_rate": 0.5}]})
    kwargs = {"policies": ("equity", "fcfs", "lottery"), "runs": 4, "seed": 21}
    serial = simulate(population, scenario, **kwargs)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        seen: list[tuple[int, int]] = []
        parallel = simulate(population, scenario, client=client,
                            progress=lambda done, total: seen.append((done, total)), **kwargs)
        # the command line on a running scheduler, by its address, against the same call in-process
        generate_community(households=300, seed=2).write_csv(tmp_path / "registry")
        common = ["--registry", str(tmp_path / "registry"), "--scenario", "earthquake", "--days", "6",
                  "--runs", "3", "--seed", "4"]
        assert run_simulate_cli([*common, "--scheduler", cluster.scheduler_address,
                                 "--out", str(tmp_path / "cluster")]) == 0
        assert run_simulate_cli([*common, "--serial", "--out", str(tmp_path / "serial")]) == 0
    for name in ("daily", "runs"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "cluster" / f"{name}.parquet"),
                                      pd.read_parquet(tmp_path / "serial" / f"{name}.parquet"))
    assert seen[-1] == (4, 4)
    pd.testing.assert_frame_equal(serial.daily, parallel.daily, check_exact=True)
    pd.testing.assert_frame_equal(serial.runs, parallel.runs, check_exact=True)
