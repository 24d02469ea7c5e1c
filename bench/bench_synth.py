"""Benchmark: the synthetic community generator at scale.

Target (issue 2): 1,000,000 households generated in at most 60 s and 2 GB of memory on a 2-core machine.
Prints wall time of generation, of writing the CSV files, and the process's peak resident memory.

    .venv/bin/python bench/bench_synth.py --households 1000000
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time

from civicgrid.engine import generate_community


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="time generation only")
    args = parser.parse_args()

    start = time.perf_counter()
    community = generate_community(households=args.households, seed=args.seed)
    generated = time.perf_counter() - start
    print(f"households={args.households:,} residents={len(community.residents):,} "
          f"places={len(community.places):,} actors={len(community.actors):,} "
          f"people={len(community.people):,}")
    print(f"generate_seconds={generated:.2f}")
    if not args.no_write:
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            community.write_csv(out)
            written = time.perf_counter() - start
        print(f"write_csv_seconds={written:.2f}")
        print(f"total_seconds={generated + written:.2f}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak_rss_mb={peak_mb:.0f}")


if __name__ == "__main__":
    main()
