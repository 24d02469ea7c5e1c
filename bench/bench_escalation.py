"""Benchmark: the grid cases list and the escalation of overdue cases, at district scale (issue 15).

The issue measured the first cases list of each minute at 9.7 s (SQLite) and 12.1 s (PostgreSQL) for 787 overdue
cases at 100,000 households: the list escalated every overdue case inside the GET, one transaction each. The
list now only reads; escalation is the periodic job ``cases_escalate`` (every minute on the job queue,
``civicgrid.cases.services.cases_escalate_overdue``).

Loading (not timed), in a temporary var directory (SQLite) or, with ``--postgres``, a throwaway PostgreSQL
(``scripts/with-postgres.sh``): the registry of ``--households`` households (``civicgrid synth`` and ``civicgrid
import``) and the demo's records (``civicgrid demo --no-serve``), as bench/bench_pages_scale.py loads them; then
two years of grid cases, one per two households, as bench/bench_analytics_pages.py grows them (random grids,
states and time limits: about a fifth are open and past their limit).

Timed, through Django's test client in Chinese, as the district official, the community director and a grid
member:

* the cases list page and the API's cases list, ``--repeats`` warm requests each, before the escalation run
  (the minute in which the old list escalated) and after it: median and worst wall time, the process's CPU time
  and the number of queries (which must not grow with the data);
* one run of the escalation job over every overdue case: wall and CPU time, cases escalated, time per case and
  queries per case.

Figures, 100,000 households, 52,097 cases of which 8,366 overdue (quiet 2-core machine, load 0.8-1.0; PostgreSQL 15
from scripts/with-postgres.sh); median of 5 warm requests, ms wall / ms CPU of the process, queries:

    the list (was 9.7 s on SQLite, 12.1 s on PostgreSQL, escalating 787 cases in its GET; the issue's table)
                         SQLite                 PostgreSQL
    district list        19.8 / 19.8, 5 q       16.0 / 11.3, 5 q
    district API         14.0 / 14.0, 3 q       16.9 / 14.9, 3 q
    director list        15.9 / 15.9, 5 q       14.0 / 11.1, 5 q
    grid member list     10.9 / 10.9, 6 q       15.3 / 12.2, 6 q
    grid member API      13.8 / 13.8, 4 q       35.7 / 16.7, 4 q

    the escalation job, 8,366 cases     SQLite                          PostgreSQL
    one transaction a case (before)     32.0 s, 3.8 ms and 17.7 q/case  49.8 s, 6.0 ms and 15.7 q/case
    200 cases a transaction (after)     10.0 s, 1.2 ms and 4.8 q/case   14.3 s, 1.7 ms and 4.8 q/case

Before, PostgreSQL escalated this backlog in 50 s of a run that starts every minute; a district ten times the
size would have run each escalation for eight minutes, the next runs queued behind it.

    .venv/bin/python bench/bench_escalation.py [--households 100000] [--repeats 5] [--postgres] [--var DIR]
                                              [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

PAGES = [("cases list", "/cases/"), ("cases API", "/api/cases/cases")]
ROLES = ("district", "director", "grid")


def _pages(repeats: int) -> dict[str, dict[str, float]]:
    from bench_analytics_pages import time_pages

    out = time_pages(ROLES, PAGES, repeats)
    for key, got in out.items():
        if got["status"] != 200:
            raise SystemExit(f"{key}: {got['status']}")
        print(f"    {key:22} {got['median']:7.1f} ms wall (worst {got['worst']:.1f}), {got['cpu']:6.1f} ms CPU, "
              f"{got['queries']} queries", flush=True)
    return out


def measure(var: str, repeats: int) -> dict[str, object]:
    from bench_analytics_pages import _cases, _django

    _django(var)
    import logging

    from django.conf import settings

    for name in ("civicgrid.request", "django.request"):  # a line per request would bury the figures
        logging.getLogger(name).setLevel(logging.ERROR)

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    from django.db import connection
    from django.utils import timezone

    from civicgrid.cases import transitions as tx
    from civicgrid.cases.models import LEVELS, Case
    from civicgrid.cases.services import cases_escalate_overdue

    _cases()
    now = timezone.now()
    overdue = Case.objects.filter(state__in=tx.OPEN_STATES, level_due_at__lt=now).exclude(level=LEVELS[-1])
    waiting = overdue.count()
    print(f"  {Case.objects.count():,} cases, {waiting:,} open and past their level's time limit", flush=True)
    print("  before the escalation run:", flush=True)
    before = _pages(repeats)
    sent = [0]

    def counted(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        sent[0] += 1  # counted here: Django's own query log keeps only the last 9,000
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counted):
        w0, c0 = time.perf_counter(), time.process_time()
        escalated = cases_escalate_overdue(now=now)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    n, queries = len(escalated), sent[0]
    print(f"  escalation job: {n:,} cases escalated in {wall:.1f} s wall, {cpu:.1f} s CPU: "
          f"{wall / max(n, 1) * 1000:.1f} ms and {queries / max(n, 1):.1f} queries a case", flush=True)
    print("  after it:", flush=True)
    after = _pages(repeats)
    return {"cases": Case.objects.count(), "overdue": waiting, "escalated": n, "escalation_wall": wall,
            "escalation_cpu": cpu, "escalation_queries": queries, "before": before, "after": after}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--postgres", action="store_true",
                        help="on a throwaway PostgreSQL (scripts/with-postgres.sh) instead of SQLite")
    parser.add_argument("--var", default="", help="a SQLite var directory holding a loaded demo (copied, not changed)")
    parser.add_argument("--keep", default="", help="SQLite: keep the loaded var directory (before the cases) in DIR")
    args = parser.parse_args()
    if args.postgres and "CIVICGRID_DATABASE_URL" not in os.environ:
        return subprocess.call([str(ROOT / "scripts" / "with-postgres.sh"), sys.executable, *sys.argv])
    if not args.postgres:
        os.environ.pop("CIVICGRID_DATABASE_URL", None)
    from bench_pages_scale import load

    print(f"load: {os.getloadavg()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="civicgrid-bench-escalation-"))
    try:
        var = str(work / "var")
        if args.var:
            shutil.copytree(args.var, var)
        else:
            load(var, args.households, work)
            if args.keep and not args.postgres:
                shutil.copytree(var, args.keep)
        result = measure(var, args.repeats)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load: {os.getloadavg()}")
    print("RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
