"""Benchmark: the periodic job that flags missed home-isolation check-ins, in a district-wide lockdown (issue 15).

``emergency_flag_missed`` runs every minute on the job queue (every periodic job does). In a lockdown a district
has tens of thousands of households isolated at once, each checking in daily; the job must find the few days
nobody checked in without holding up the check-ins themselves (on SQLite it holds the database's one write lock
while it runs).

Set-up (not timed), on a copy of a loaded var directory (``--var``: SQLite, e.g. kept by ``bench_escalation.py
--keep``) or, with ``--postgres``, a throwaway PostgreSQL loaded with ``--households`` households: ``--isolations``
isolations of one resident each (one per household), 14 days from ``--days-in`` days ago, with a check-in on every
day before today except a ``--miss`` share of them.

Timed, each run of ``isolation_flag_missed`` as the job runs it (wall and CPU time, queries, days flagged):

* the first run of the day, which flags the days missed;
* the next runs (``--runs``), once a minute in the job, which find nothing new: the job's steady cost.

``--src DIR`` measures another code tree's ``src`` folder (the code before a change) on the same data.

Figures, 100,000 households, 100,000 isolations from 10 days ago, 980,051 check-ins, 19,949 days missed (quiet
2-core machine, load 0.9-1.0; "before" is main 31c5853, measured in the same run on the same data):

    SQLite                          before                                  after
    the first run (flags 19,949)    62.7 s, 192,982 queries                 17.1 s, 55,897 queries
    each run after (nothing new)    45.8-59.5 s, 4 queries, write lock      0.71-0.75 s, 2 queries, no lock
                                    held throughout
    PostgreSQL 15
    the first run (flags 19,949)    269.9 s (80.6 s CPU), 172,948 queries    23.3 s (19.4 s CPU), 55,447 queries
    each run after (nothing new)    49.4-70.6 s, 3 queries                  0.83-0.86 s (0.14 s CPU), 2 queries

Before, every run read each isolation with its check-ins (a million rows made into objects), all inside one
write transaction: on SQLite a resident's check-in waited out the run and failed after the 20 s busy timeout.

    .venv/bin/python bench/bench_isolation_missed.py --var DIR [--isolations 100000] [--days-in 10] [--miss 0.02]
                                                     [--runs 3] [--src DIR] [--postgres --households N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


def _setup(isolations: int, days_in: int, miss: float) -> None:
    from django.utils import timezone

    from civicgrid.emergency.models import CheckIn, Isolation
    from civicgrid.registry.models import Resident

    if Isolation.objects.exists():
        return
    started, rng = time.perf_counter(), random.Random(15)
    today = timezone.localdate()
    start = today - timedelta(days=days_in)
    residents = list(Resident.objects.order_by("household_id", "id").values_list("id", "household_id",
                                                                                  "household__place_path"))
    chosen, seen = [], set()
    for rid, hid, path in residents:  # one resident of each household, in household order
        if hid not in seen:
            seen.add(hid)
            chosen.append((rid, hid, path))
        if len(chosen) == isolations:
            break
    now = timezone.now()
    Isolation.objects.bulk_create([Isolation(resident_id=rid, household_id=hid, place_path=path, start_date=start,
                                             end_date=start + timedelta(days=13), reason="bench")
                                   for rid, hid, path in chosen], batch_size=5000)
    ids = list(Isolation.objects.order_by("id").values_list("id", flat=True))
    checkins = []
    for iid in ids:
        for d in range(days_in):
            if rng.random() >= miss:
                checkins.append(CheckIn(isolation_id=iid, day=start + timedelta(days=d), temperature="36.6", at=now))
        if len(checkins) >= 50_000:
            CheckIn.objects.bulk_create(checkins, batch_size=5000)
            checkins = []
    CheckIn.objects.bulk_create(checkins, batch_size=5000)
    print(f"  {len(ids):,} isolations from {start}, {CheckIn.objects.count():,} check-ins, "
          f"set up in {time.perf_counter() - started:.1f} s", flush=True)


def measure(runs: int) -> dict[str, object]:
    from django.db import connection
    from django.utils import timezone

    from civicgrid.emergency.services import isolation_flag_missed

    sent = [0]

    def counted(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        sent[0] += 1  # counted here: Django's own query log keeps only the last 9,000
        return execute(sql, params, many, context)

    out = []
    for i in range(1 + runs):
        sent[0] = 0
        with connection.execute_wrapper(counted):
            w0, c0 = time.perf_counter(), time.process_time()
            flagged = isolation_flag_missed(today=timezone.localdate())
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        out.append({"wall": wall, "cpu": cpu, "queries": sent[0], "flagged": len(flagged)})
        print(f"  run {i + 1} ({'the first' if i == 0 else 'nothing new'}): {len(flagged):,} days flagged in "
              f"{wall:.2f} s wall, {cpu:.2f} s CPU, {sent[0]:,} queries", flush=True)
    steady = [r["wall"] for r in out[1:]]
    return {"first": out[0], "steady_median_wall": statistics.median(steady) if steady else None, "runs": out}


def _inner(args: argparse.Namespace) -> int:
    from bench_analytics_pages import _django

    _django(args.var)
    import logging

    logging.getLogger("civicgrid.jobs").setLevel(logging.ERROR)
    _setup(args.isolations, args.days_in, args.miss)
    print("RESULT " + json.dumps(measure(args.runs)))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--var", default="", help="a SQLite var directory holding a loaded registry (copied)")
    parser.add_argument("--postgres", action="store_true", help="on a throwaway PostgreSQL, loaded afresh")
    parser.add_argument("--households", type=int, default=100_000, help="with --postgres: households loaded")
    parser.add_argument("--isolations", type=int, default=100_000)
    parser.add_argument("--days-in", type=int, default=10)
    parser.add_argument("--miss", type=float, default=0.02)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--src", default="", help="measure this src folder's code (e.g. the code before a change)")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        return _inner(args)
    if args.postgres and "CIVICGRID_DATABASE_URL" not in os.environ:
        return subprocess.call([str(ROOT / "scripts" / "with-postgres.sh"), sys.executable, *sys.argv])
    if not args.postgres:
        os.environ.pop("CIVICGRID_DATABASE_URL", None)
        if not args.var:
            raise SystemExit("SQLite: give --var, a var directory holding a loaded registry")
    print(f"load: {os.getloadavg()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="civicgrid-bench-isolation-"))
    try:
        var = str(work / "var")
        if args.postgres:
            from bench_pages_scale import load

            load(var, args.households, work, until="import")
        else:
            shutil.copytree(args.var, var)
        results = {}
        # the same data for both codes: set up once (by the first), each measured in its own process
        for label, src in ([("before", args.src)] if args.src else []) + [("after", str(ROOT / "src"))]:
            print(f"{label} ({src}):", flush=True)
            env = {**os.environ, "PYTHONPATH": src, "CIVICGRID_VAR_DIR": var}
            done = subprocess.run([sys.executable, __file__, "--inner", "--var", var, "--isolations",
                                   str(args.isolations), "--days-in", str(args.days_in), "--miss", str(args.miss),
                                   "--runs", str(args.runs)], env=env, capture_output=True, text=True)
            for line in done.stdout.splitlines():
                if line.startswith("RESULT "):
                    results[label] = json.loads(line.removeprefix("RESULT "))
                else:
                    print(line, flush=True)
            if done.returncode:
                print(done.stderr[-4000:])
                raise SystemExit(f"{label} failed")
            if args.src and label == "before":  # the second code meets the days already flagged: start again
                _unflag(env)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load: {os.getloadavg()}")
    print("RESULT " + json.dumps(results))
    return 0


def _unflag(env: dict[str, str]) -> None:
    """Delete the flagged days and their notices, so the next code's first run flags them again."""
    script = ("from civicgrid.emergency.models import MissedCheckIn\n"
              "from civicgrid.alerts.models import Notice\n"
              "MissedCheckIn.objects.all().delete()\n"
              "Notice.objects.filter(source__startswith='missed:').delete()\n")
    subprocess.run([sys.executable, "-m", "civicgrid.cli", "manage", "shell", "-c", script], env=env, check=True,
                   capture_output=True)


if __name__ == "__main__":
    sys.exit(main())
