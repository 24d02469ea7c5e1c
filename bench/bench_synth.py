"""Benchmark: the synthetic community generator at scale.

Target (issue 2): 1,000,000 households generated and written as CSV in at most 60 s and 2 GB of
memory on a 2-core machine. Prints wall time of generation and of writing the CSV files, the peak
resident memory of the process after generation and at the end (``resource.getrusage``), and whether
the run met the target.

    .venv/bin/python bench/bench_synth.py --households 1000000
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from civicgrid.engine import generate_community

TARGET_SECONDS = 60.0
TARGET_PEAK_MB = 2048.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="time generation only")
    args = parser.parse_args()

    start = time.perf_counter()
    community = generate_community(households=args.households, seed=args.seed)
    generated = time.perf_counter() - start
    print(
        f"households={args.households:,} residents={len(community.residents):,} "
        f"places={len(community.places):,} actors={len(community.actors):,} "
        f"people={len(community.people):,} posts={len(community.posts):,}"
    )
    print(f"generate_seconds={generated:.2f}")
    print(f"peak_rss_after_generate_mb={peak_rss_mb():.0f}")
    total = generated
    if not args.no_write:
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            paths = community.write_csv(out)
            written = time.perf_counter() - start
            size_mb = sum(Path(p).stat().st_size for p in paths) / 2**20
        total += written
        print(f"write_csv_seconds={written:.2f} csv_mb={size_mb:.0f}")
        print(f"total_seconds={total:.2f}")
    peak = peak_rss_mb()
    print(f"peak_rss_mb={peak:.0f}")
    met = total <= TARGET_SECONDS and peak <= TARGET_PEAK_MB
    verdict = "met" if met else "NOT met"
    print(f"target (<= {TARGET_SECONDS:.0f} s, <= {TARGET_PEAK_MB:.0f} MB): {verdict}")


if __name__ == "__main__":
    main()
