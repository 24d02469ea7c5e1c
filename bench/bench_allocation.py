"""Benchmark of civicgrid.engine.allocation.allocate; prints its figures.

Targets (issue 3): 1,000,000 requests over 5 items in at most 1 s and 500 MB on a 2-core
machine, and the ratio against a linear-programming solution with HiGHS at 100,000 requests.

1. A synthetic lockdown round: 1,000,000 requests over 5 items and 20 distribution points,
   4 tiers (2 % life-critical), floors around half the need, weights 1.0-3.0 with reasons,
   stock covering 60 % of the need of every pool. ``allocate`` is timed with
   ``time.perf_counter`` (wall) and ``time.process_time`` (CPU) for the first call and as the
   median of 3 more, the other policies once each; its memory as the peak RSS of the process
   during the first call (Linux ``VmHWM`` after resetting it through ``/proc/self/clear_refs``;
   includes the interpreter, the libraries and the input frame) and with ``tracemalloc``
   (allocations made during the call only).
2. At 100,000 requests (5 items, one tier, no floors, so ``equity`` is exactly the weighted
   max-min allocation of each item), the same allocation is solved as a linear program with
   HiGHS interior point (``scipy.optimize.linprog(method="highs-ipm")``): per item ``p``,
   minimise the water level ``L_p`` subject to ``x_i <= L_p * weight_i * need_i``,
   ``0 <= x_i <= need_i`` and ``sum_i x_i >= stock_p``. Its unique optimum is the weighted
   max-min fair allocation; the script checks it against the engine's continuous levels and
   prints both times and their ratio.

Run: ``.venv/bin/python bench/bench_allocation.py [--requests N] [--lp-requests N]``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
import tracemalloc
from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd
import scipy
from scipy import sparse
from scipy.optimize import linprog

from civicgrid.engine import allocation
from civicgrid.engine.allocation import allocate

ITEMS = ["drinking water", "food parcels", "medicine", "hygiene kits", "baby care"]
REASONS = [
    "",
    "a resident over 80",
    "a resident with a disability",
    "a child under 5",
    "a resident living alone with a chronic illness",
]


def lockdown_round(
    n: int, *, seed: int, points: int = 20, tiers: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Synthetic requests and stock; stock covers 60 % of the need of every pool."""
    rng = np.random.default_rng(seed)
    need = rng.integers(1, 21, n)
    extra = rng.choice(np.arange(21), n, p=np.r_[0.5, np.full(20, 0.5 / 20)])
    weight = 1.0 + 0.1 * extra
    reason = np.where(extra > 0, rng.integers(1, len(REASONS), n), 0)
    requests = pd.DataFrame(
        {
            "request_id": rng.permutation(n),
            "household_id": rng.integers(0, max(1, n // 4), n),
            "item": pd.Categorical.from_codes(rng.integers(0, len(ITEMS), n), ITEMS),
            "need": need,
            "weight": weight,
            "tier": rng.choice([0, 1, 2, 3], n, p=[0.02, 0.30, 0.40, 0.28]) if tiers else 1,
            "floor": rng.binomial(need, 0.5) if tiers else 0,
            "requested_at": pd.Timestamp("2024-03-01")
            + pd.to_timedelta(rng.integers(0, 3 * 86_400, n), unit="s"),
            "point": rng.integers(0, points, n),
            "weight_reason": pd.Categorical.from_codes(reason, REASONS),
        }
    )
    totals = requests.groupby(["item", "point"], observed=True)["need"].sum().reset_index()
    stock = pd.DataFrame(
        {
            "item": totals["item"].astype(str),
            "point": totals["point"],
            "quantity": (totals["need"] * 0.6).astype(np.int64),
        }
    )
    return requests, stock


def timed(call: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            match = re.search(rf"{field}:\s+(\d+) kB", status.read())
    except OSError:
        return None
    return int(match.group(1)) if match else None


def peak_rss_mb(call: Callable[[], object]) -> tuple[float, float] | None:
    """RSS before ``call`` and peak RSS during it (Linux only; None elsewhere)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # resets VmHWM, the peak resident set size, to the current RSS
    except OSError:
        return None
    before = _status_kb("VmRSS")
    call()
    peak = _status_kb("VmHWM")
    if before is None or peak is None:
        return None
    return before / 1024, peak / 1024


def peak_traced_mb(call: Callable[[], object]) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    result = call()
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    del result
    return peak / 2**20


def bench_large(n: int) -> None:
    start = time.perf_counter()
    requests, stock = lockdown_round(n, seed=0)
    print(
        f"instance: {n:,} requests, {len(ITEMS)} items, {len(stock)} (item, point) pools, "
        f"built in {time.perf_counter() - start:.2f} s (not counted)"
    )
    print(f"input frame: {requests.memory_usage(deep=True).sum() / 2**20:.0f} MB")

    timing: list[tuple[float, float]] = []
    rss = peak_rss_mb(lambda: timing.append(timed(lambda: allocate(requests, stock))))
    wall, cpu = timing[0]
    print(f"equity, first call:       wall {wall:.3f} s   cpu {cpu:.3f} s")
    if rss is not None:
        print(
            f"equity, first call: process RSS {rss[0]:.0f} MB before, peak {rss[1]:.0f} MB "
            f"during the call (+{rss[1] - rss[0]:.0f} MB)"
        )
    runs = [timed(lambda: allocate(requests, stock)) for _ in range(3)]
    print(
        f"equity, median of 3:      wall {statistics.median(r[0] for r in runs):.3f} s   "
        f"cpu {statistics.median(r[1] for r in runs):.3f} s"
    )
    for policy in ("proportional", "equal", "fcfs", "lottery"):
        wall, cpu = timed(partial(allocate, requests, stock, policy=policy, seed=1))
        print(f"{policy + ',':<13} one call:   wall {wall:.3f} s   cpu {cpu:.3f} s")

    peak = peak_traced_mb(lambda: allocate(requests, stock))
    print(f"equity peak memory of the call (tracemalloc): {peak:.0f} MB")
    result = allocate(requests, stock)
    print(f"distinct explanation sentences: {len(result['explanation'].cat.categories):,}")


def weighted_maxmin_lp(requests: pd.DataFrame, stock: pd.DataFrame) -> tuple[np.ndarray, float]:
    """Solve the weighted max-min allocation of every item as one LP with HiGHS IPM."""
    item_code, items = pd.factorize(requests["item"].astype(str))
    supply = stock.groupby(stock["item"].astype(str))["quantity"].sum().reindex(items).to_numpy()
    n, k = len(requests), len(items)
    need = requests["need"].to_numpy(np.float64)
    rate = need * requests["weight"].to_numpy(np.float64)
    rows = np.arange(n)
    # x_i - L_p * rate_i <= 0 ; -sum_{i in p} x_i <= -stock_p ; variables [x (n), L (k)]
    cap = sparse.csr_matrix(
        (np.concatenate([np.ones(n), -rate]), (np.r_[rows, rows], np.r_[rows, n + item_code])),
        shape=(n, n + k),
    )
    cover = sparse.csr_matrix((-np.ones(n), (item_code, rows)), shape=(k, n + k))
    a_ub = sparse.vstack([cap, cover]).tocsr()
    b_ub = np.r_[np.zeros(n), -supply.astype(np.float64)]
    cost = np.r_[np.zeros(n), np.ones(k)]
    bounds = np.c_[np.zeros(n + k), np.r_[need, np.full(k, np.inf)]]
    start = time.perf_counter()
    solution = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs-ipm")
    seconds = time.perf_counter() - start
    if solution.status != 0:
        raise RuntimeError(f"HiGHS failed: {solution.message}")
    return solution.x[:n], seconds


def bench_lp(n: int) -> None:
    requests, stock = lockdown_round(n, seed=1, points=1, tiers=False)
    stock = stock.drop(columns="point")
    requests = requests.drop(columns="point")
    engine_runs = [timed(lambda: allocate(requests, stock))[0] for _ in range(3)]
    engine = statistics.median(engine_runs)
    data = allocation._encode(requests, stock, life_critical_max_tier=0)
    levels, _ = allocation._solve(data, "equity", seed=None, integral=False)
    whole = allocate(requests, stock)["allocated"].to_numpy()
    x_lp, lp_seconds = weighted_maxmin_lp(requests, stock)
    gap = np.abs(x_lp - levels).max()
    print(
        f"LP instance: {n:,} requests, {len(ITEMS)} items, one tier, no floors "
        f"(scipy {scipy.__version__}, HiGHS interior point)"
    )
    print(f"engine (allocate, median of 3): {engine:.3f} s")
    print(f"HiGHS IPM linprog:              {lp_seconds:.3f} s")
    print(f"ratio LP / engine:              {lp_seconds / engine:.0f}x")
    print(
        f"max |LP - engine water level| = {gap:.2e} units; "
        f"max |LP - engine whole units| = {np.abs(x_lp - whole).max():.3f} (< 1 expected)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--lp-requests", type=int, default=100_000)
    parser.add_argument("--skip-lp", action="store_true")
    args = parser.parse_args()
    bench_large(args.requests)
    if not args.skip_lp:
        print()
        bench_lp(args.lp_requests)


if __name__ == "__main__":
    main()
