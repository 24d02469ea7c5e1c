"""Benchmark: one before/after comparison of the "what changed" page's size.

Goal (issue 14): a comparison the page runs inline takes under a second (longer ones would need the job
queue). Prints the median wall time over ``--repeat`` runs of the interrupted time series (one community,
98 days, with its placebos in time and in place) and of the stacked difference-in-differences by grid
(3 communities x 12 grids x 98 days; its placebos are the series'), on synthetic Poisson counts.

    .venv/bin/python bench/bench_comparison.py --repeat 5
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from civicgrid.engine.comparison import difference_in_differences, interrupted_time_series

TARGET_SECONDS = 1.0


def panel(rng: np.random.Generator, *, units: int, days: int, treated: int, event: int) -> pd.DataFrame:
    dates = pd.date_range("2026-01-05", periods=days, freq="D")
    rows = [pd.DataFrame({"unit": f"u{u:02d}", "date": dates,
                          "value": rng.poisson(0.6 * np.where((u < treated) & (np.arange(days) >= event), 1.5, 1))})
            for u in range(units)]
    return pd.concat(rows, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    grids = panel(rng, units=36, days=98, treated=12, event=63)
    event = grids["date"].min() + pd.Timedelta(days=63)
    communities = grids.assign(unit=grids["unit"].str[1:].astype(int) // 12).groupby(["unit", "date"], as_index=False)[
        "value"].sum()
    its_times, did_times = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        interrupted_time_series(data=communities[communities["unit"] == 0], event=event,
                                placebo_units=communities[communities["unit"] != 0])
        its_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        difference_in_differences(data=grids, events={f"u{u:02d}": event for u in range(12)}, placebo=False,
                                  event_study=False)
        did_times.append(time.perf_counter() - started)
    its, did = statistics.median(its_times), statistics.median(did_times)
    print(f"interrupted time series with 5 placebos: {its:.3f} s (median of {args.repeat})")
    print(f"stacked DiD, 36 grids x 98 days:        {did:.3f} s (median of {args.repeat})")
    print(f"page total under {TARGET_SECONDS:.0f} s: {'yes' if its + did < TARGET_SECONDS else 'NO'}")


if __name__ == "__main__":
    main()
