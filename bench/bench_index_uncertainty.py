"""Benchmark: Monte Carlo rank intervals for 85,000 units x 20 indicators x 1,000 replications.

Target (issue 4): at most 60 s on the project machine.  Prints wall time and peak memory
(Python-level allocations traced by tracemalloc, which includes NumPy buffers, and the
process's peak resident set size from getrusage).

Run:  .venv/bin/python bench/bench_index_uncertainty.py [--units N] [--replications R]
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np
import pandas as pd

from civicgrid.engine.index.uncertainty import rank_intervals

TARGET_SECONDS = 60.0


def synthetic_inputs(
    units: int, indicators: int, seed: int
) -> tuple[pd.DataFrame, dict[str, object]]:
    """Skewed, correlated indicators in four groups of equal size, a third reversed."""
    rng = np.random.default_rng(seed)
    common = rng.normal(size=(units, 1))
    values = np.exp(0.6 * common + rng.normal(size=(units, indicators)))
    names = [f"ind{j:02d}" for j in range(indicators)]
    data = pd.DataFrame(values, columns=names)
    data.insert(0, "unit", np.arange(units))
    per_group = indicators // 4
    groups = [
        {"name": f"pillar{k}", "children": names[k * per_group : (k + 1) * per_group]}
        for k in range(4)
    ]
    groups[-1]["children"] = names[3 * per_group :]
    groups.append({"name": "index", "children": [f"pillar{k}" for k in range(4)]})
    spec: dict[str, object] = {
        "name": "benchmark index",
        "id_column": "unit",
        "defaults": {"normalise": "minmax"},
        "indicators": [
            {"name": n, "direction": -1 if j % 3 == 0 else 1} for j, n in enumerate(names)
        ],
        "groups": groups,
    }
    return data, spec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=85_000)
    parser.add_argument("--indicators", type=int, default=20)
    parser.add_argument("--replications", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()

    data, spec = synthetic_inputs(args.units, args.indicators, args.seed)
    tracemalloc.start()
    started = time.perf_counter()
    result = rank_intervals(data, spec=spec, n_replications=args.replications, seed=args.seed)
    elapsed = time.perf_counter() - started
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    widths = result.intervals["interval_width"]
    print(
        f"rank_intervals: {args.units:,} units x {args.indicators} indicators x "
        f"{args.replications:,} replications"
    )
    print(
        f"  wall time          {elapsed:8.2f} s   (target <= {TARGET_SECONDS:.0f} s: "
        f"{'met' if elapsed <= TARGET_SECONDS else 'MISSED'})"
    )
    print(f"  throughput         {args.replications / elapsed:8.1f} replications/s")
    print(f"  peak traced memory {traced_peak / 2**20:8.1f} MiB (tracemalloc)")
    print(f"  peak RSS           {peak_rss_kib / 2**10:8.1f} MiB (getrusage, whole process)")
    print(
        f"  median 90% rank-interval width {widths.median():,.0f} ranks; "
        f"mean |rank shift| {result.replications['mean_abs_rank_shift'].mean():,.0f}"
    )


if __name__ == "__main__":
    main()
