"""Benchmark: the analytics pages (issue 15) before and after they count in the database and from tallies.

On SQLite (the embedded default) or, with ``--postgres``, a throwaway PostgreSQL: loads the demo with ``--households`` households (``civicgrid demo
--no-serve``; or reuses a var directory given with ``--var``, copied first), grows it the way the issue
measured (one district-wide relief round of every open food need, confirmed; one district-wide alert;
300 acknowledgements; two years of grid cases, one per two households), then opens the pages below
as the district official and the community director through Django's test client, in Chinese, ``--repeats`` warm times each, twice: with the code of
``--before`` (a git revision, extracted with ``git archive``) and with the working tree's code. Prints for
each page the median and worst server time, the median CPU time of the process (the test client's server
and the SQLite engine run in it) and the number of queries.

    crei grid        /analytics/crei/                 (the district's 100+ grids; the director's own)
    crei community   /analytics/crei/?level=community
    governance       /analytics/governance/
    case figures     /cases/figures/  and  /api/cases/figures?by=grid

The tallies' full recount (``civicgrid manage analytics_tallies --all``, the periodic job) is timed too.

Figures (2-core machine shared with other engineers; wall times are inflated by their load, the process's
CPU time is the steadier figure; "before" is aba08a4, "after" this branch; median ms wall / CPU):

    SQLite, 100,000 households (360 grids, 176k allocations, 50k cases; load average 5.7), 3 warm requests
      district crei grid        8342 / 3017  ->  596 / 299      director crei grid       4416 / 1815 -> 581 / 256
      district crei community   5841 / 1951  ->  503 / 240      director crei community  4490 / 1845 -> 595 / 253
      district governance        668 /  221  ->  386 / 184      director governance       376 /  229 -> 380 / 190
      district case figures     1268 /  507  ->  463 / 230      director case figures     170 /   84 -> 246 / 119
      district case figures API 1268 /  501  ->  458 / 213      director case figures API 212 /   83 -> 232 / 115
      whole recount of every tally: 2.3 s
    SQLite, 10,000 households (load average 8.2), 5 warm requests: crei grid 2127 / 431 -> 592 / 113,
      case figures 408 / 72 -> 152 / 35 (district)
    PostgreSQL 15, 10,000 households (load average 8.8; CPU of the Django process only): crei grid
      2263 / 319 -> 764 / 98, case figures 505 / 97 -> 112 / 12, governance unchanged (~900 / 150)

Then (branch pages: five more indicators from job-counted tallies, path scoping through the index, case
medians without needless sorts), SQLite 100,000 households, 5 warm requests, a quieter machine (load 3.1;
"before" 21199cf), median ms wall / CPU:
      district crei grid         317 / 297 -> 138 / 138      director crei grid         222 / 219 ->  75 /  75
      district crei community    228 / 227 ->  76 /  75      director crei community    209 / 198 ->  66 /  56
      district governance        180 / 176 -> 168 / 166      director governance        171 / 169 -> 188 / 172
      district case figures      217 / 216 -> 211 / 193      director case figures       96 /  95 ->  47 /  47
      district case figures API  200 / 200 -> 189 / 180      director case figures API   98 /  90 ->  44 /  44
    queries: crei 52 -> 38 (a counted tally is read in one query), the others unchanged.

Queries per page: crei 42 -> 53 (one grouped query per indicator plus a tally's "counted yet?" look-up;
pinned, and unchanged by more records, in tests/platform/test_analytics_tallies.py), case figures 4 -> 5.

    .venv/bin/python bench/bench_analytics_pages.py [--households 10000] [--repeats 5] [--before aba08a4]
                                                    [--var DIR] [--skip-before] [--postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the models are imported once Django is set up
    from civicgrid.alerts.models import Alert

ROOT = Path(__file__).resolve().parent.parent
PAGES = [("crei grid", "/analytics/crei/"), ("crei community", "/analytics/crei/?level=community"),
         ("governance", "/analytics/governance/"), ("case figures", "/cases/figures/"),
         ("case figures API", "/api/cases/figures?by=grid")]
ROLES = ("district", "director")


def _django(var: str) -> None:
    os.environ["CIVICGRID_VAR_DIR"] = var
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings")
    import django

    django.setup()


def grow(var: str) -> None:
    """One district round of every open food need, one district-wide alert, 300 acknowledgements."""
    _django(var)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from civicgrid.alerts import services as alerts
    from civicgrid.alerts.models import Alert
    from civicgrid.core.scoping import PLATFORM
    from civicgrid.registry.models import Place
    from civicgrid.relief import services as relief
    from civicgrid.relief.models import AllocationRound

    district = Place.objects.get(level="district", parent__isnull=True)
    if not AllocationRound.objects.exists():
        started = time.perf_counter()
        communities = list(Place.objects.filter(level="community").values_list("pk", flat=True))
        relief.round_confirm(user=None, scope=PLATFORM, place_ids=communities, item_codes=["food-ration"],
                             days=3, policy="equity", seed=1)
        print(f"  grow: district round confirmed in {time.perf_counter() - started:.1f} s")
    if not Alert.objects.filter(area=district).exists():
        started = time.perf_counter()
        alert = alerts.alert_publish(user=None, scope=PLATFORM, area=district, headline_zh="暴雨预警",
                                     headline_en="Rainstorm warning", channels=["sms"])
        print(f"  grow: district alert published in {time.perf_counter() - started:.1f} s")
        _acknowledge(alert, 300)
    _cases()
    from civicgrid.core import tallies

    started = time.perf_counter()
    done = tallies.rebuild_stale(force=True)
    print(f"  grow: every tally recounted in {time.perf_counter() - started:.1f} s ({'; '.join(done)})")


def _cases() -> None:
    """Two years of grid cases, one for every two households (random grids, states, times and ratings)."""
    import random
    from datetime import timedelta

    from django.utils import timezone

    from civicgrid.cases.models import Case, CaseCategory
    from civicgrid.registry.models import Actor, Household, Place

    wanted = Household.objects.count() // 2
    if Case.objects.filter(code__startswith="B").count() >= wanted:
        return
    started, rng, now = time.perf_counter(), random.Random(15), timezone.now()
    grids, categories = list(Place.objects.filter(level="grid")), list(CaseCategory.objects.all())
    actors = list(Actor.objects.all()[:40])
    states = ["reported", "registered", "dispatched", "handled", "verified", "closed", "dismissed"]
    cases = []
    for i in range(wanted):
        grid = rng.choice(grids)
        reported = now - timedelta(hours=rng.uniform(1, 2 * 365 * 24))
        due = reported + timedelta(hours=rng.uniform(1, 96))
        state = rng.choices(states, weights=[1, 1, 1, 1, 1, 12, 1])[0]
        handled = reported + timedelta(hours=rng.uniform(0.5, 150)) if state in ("handled", "verified", "closed") \
            else None
        closed = (handled or reported) + timedelta(hours=rng.uniform(0, 48)) if state == "closed" else None
        cases.append(Case(code=f"B{i:08d}", category=rng.choice(categories), place=grid, place_path=grid.path,
                          grid=grid, description="bench", state=state, reported_at=reported, due_at=due,
                          level_due_at=due, handled_at=handled, closed_at=closed,
                          handler=rng.choice(actors) if state != "reported" else None,
                          rating=rng.choice([None, 3, 4, 5]) if state == "closed" else None))
        if len(cases) == 20_000:  # written a slice at a time: 500,000 model objects at once need gigabytes
            Case.objects.bulk_create(cases, batch_size=2000)
            cases = []
    Case.objects.bulk_create(cases, batch_size=2000)
    print(f"  grow: {wanted:,} cases of two years in {time.perf_counter() - started:.1f} s")


def _acknowledge(alert: Alert, n: int) -> None:
    """Residents of the first ``n`` targeted households acknowledge, through the service (their logins are
    made directly, without hashing a password each)."""
    from django.contrib.auth import get_user_model

    from civicgrid.accounts.models import Role
    from civicgrid.accounts.roles import scope_for
    from civicgrid.alerts import services as alerts
    from civicgrid.alerts.models import Delivery
    from civicgrid.registry.models import Household

    started = time.perf_counter()
    ids = list(Delivery.objects.filter(alert=alert, household__isnull=False).order_by("id")
               .values_list("household_id", flat=True)[:n])
    for i, household in enumerate(Household.objects.filter(pk__in=ids)):
        user = get_user_model().objects.create(username=f"bench-resident-{i}")
        Role.objects.create(user=user, role="resident", household=household, identity_clearance=True)
        alerts.alert_acknowledge(user=user, scope=scope_for(user), alert=alert)
    print(f"  grow: {len(ids)} acknowledgements in {time.perf_counter() - started:.1f} s")


def time_pages(roles: tuple[str, ...] | list[str], pages: list[tuple[str, str]], repeats: int,
               language: str = "zh-hans") -> dict[str, dict[str, float]]:
    """Each page as each role (Django's test client, in ``language``): one warm request, then ``repeats`` timed;
    per "role label": the median and worst wall time and the median CPU time of this process (ms), the number
    of queries and the status."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    out = {}
    for username in roles:
        client = Client(headers={"accept-language": language})
        client.force_login(get_user_model().objects.get(username=username))
        for label, url in pages:
            client.get(url)  # warm
            walls, cpus, queries, status = [], [], 0, 0
            for _ in range(repeats):
                with CaptureQueriesContext(connection) as captured:
                    w0, c0 = time.perf_counter(), time.process_time()
                    response = client.get(url)
                    walls.append((time.perf_counter() - w0) * 1000)
                    cpus.append((time.process_time() - c0) * 1000)
                queries, status = len(captured.captured_queries), response.status_code
            out[f"{username} {label}"] = {"median": statistics.median(walls), "worst": max(walls),
                                          "cpu": statistics.median(cpus), "queries": queries, "status": status}
    return out


def measure(var: str, repeats: int) -> None:
    _django(var)
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    print("RESULT " + json.dumps(time_pages(ROLES, PAGES, repeats)))


def _run(step: str, var: str, src: Path, *extra: str) -> dict[str, dict[str, float]]:
    env = {**os.environ, "PYTHONPATH": str(src), "CIVICGRID_VAR_DIR": var}
    done = subprocess.run([sys.executable, __file__, "--step", step, "--var", var, *extra], env=env,
                          capture_output=True, text=True)
    if done.returncode:
        print(done.stdout, done.stderr[-5000:], sep="\n")
        raise SystemExit(f"step {step} failed")
    result: dict[str, dict[str, float]] = {}
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line.removeprefix("RESULT "))
        else:
            print(line)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--before", default="aba08a4", help="git revision measured as 'before'")
    parser.add_argument("--var", default="", help="a var directory holding a loaded demo (copied, not changed)")
    parser.add_argument("--skip-before", action="store_true")
    parser.add_argument("--postgres", action="store_true",
                        help="on a throwaway PostgreSQL (scripts/with-postgres.sh) instead of SQLite")
    parser.add_argument("--step", choices=["grow", "measure"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step == "grow":
        grow(args.var)
        return 0
    if args.step == "measure":
        measure(args.var, args.repeats)
        return 0
    if args.postgres and "CIVICGRID_DATABASE_URL" not in os.environ:
        return subprocess.call([str(ROOT / "scripts" / "with-postgres.sh"), sys.executable, *sys.argv])
    if not args.postgres:
        os.environ.pop("CIVICGRID_DATABASE_URL", None)
    elif args.var:
        raise SystemExit("--var holds a SQLite database; with --postgres the demo is loaded afresh")
    database = "PostgreSQL" if args.postgres else "SQLite"
    work = Path(tempfile.mkdtemp(prefix="civicgrid-bench-analytics-"))
    try:
        var = str(work / "var")
        if args.var:
            shutil.copytree(args.var, var)
        else:
            env = {**os.environ, "CIVICGRID_VAR_DIR": var, "PYTHONPATH": str(ROOT / "src")}
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "civicgrid.cli", "demo", "--households", str(args.households),
                            "--no-serve"], env=env, check=True, capture_output=True)
            print(f"demo with {args.households:,} households loaded in {time.perf_counter() - started:.1f} s")
        _run("grow", var, ROOT / "src")
        results = {}
        if not args.skip_before:
            before = work / "before"
            before.mkdir()
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.before, "src"], check=True,
                                     capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(before)], input=archive, check=True)
            results["before"] = _run("measure", var, before / "src", "--repeats", str(args.repeats))
        results["after"] = _run("measure", var, ROOT / "src", "--repeats", str(args.repeats))
        print(f"\n{database}, {args.households:,} households, median of {args.repeats} warm requests "
              f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        for key in results["after"]:
            cells = []
            for when, result in results.items():
                r = result.get(key)
                if r:
                    cells.append(f"{when}: {r['median']:7.0f} ms (worst {r['worst']:6.0f}, cpu {r['cpu']:6.0f}) "
                                 f"{r['queries']:3.0f} q {r['status']:.0f}")
            print(f"  {key:<28} " + " | ".join(cells))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
