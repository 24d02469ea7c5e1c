"""Benchmark: the household search (registry.selectors.household_list) before and after the text index.

Loads a generated district (civicgrid.engine.synth + the registry import, the path a real roster takes)
into a throwaway database: SQLite in a temporary folder, and PostgreSQL started by
``scripts/with-postgres.sh``. With ``--copies K`` (PostgreSQL only) the loaded households and residents
are then copied K times inside the database (INSERT ... SELECT: new codes, the same buildings, names,
addresses and phones, ID numbers left empty as they must stay unique), to reach a million households
without an hour-long import; names and addresses then repeat K+1 times, as common ones do in a city.

For each search it times what the household page does (the first 50 rows in code order, then the count),
as the district's login (every household in scope): median of ``--repeats`` warm runs, wall time and this
process's CPU time (on SQLite that is all the work; on PostgreSQL the server's work is apart). Searches:
a three-character name, a part of an address, a part of a code, a full phone number, a two-character
name (too short for trigrams: over the district it matches names and codes that start with it).

"after" is the code as it stands (civicgrid.core.textsearch: pg_trgm GIN indexes, FTS5 trigram tables).
"before" drops those indexes and runs the query the selector built before them (``icontains`` on code and
address ORed with a subquery on residents' names), on the same data.

Figures on the shared 2-core machine (load average 5-9 from other work throughout; medians of 5 warm
searches, ms wall (CPU of this process); district scope, first 50 rows + count):

    SQLite, 100,000 households (import with the FTS5 triggers: 341 s wall, 67 s CPU)
      name '陈勇芳' (3 found)         before 615 (151)   after   2.0 (2.0)
      address part '1栋1单元1' (900)  before 271 (119)   after  32   (8.5)
      code part '50001' (1)           before 428 (140)   after   1.9 (1.6)
      full phone (1)                  before   1.7       after   1.5        (digest lookups, unchanged)
      name '杨建', 2 characters (117) before 405 (136)   after  21   (6.8)  (names/codes starting with it)
    PostgreSQL 15, 100,000 households (import 144 s wall; trigram indexes 24 MB)
      name 581 -> 15.5; address part 428 -> 71; code part 602 -> 31; full phone 11.5 -> 11.2;
      2-character name 502 -> 29
    PostgreSQL 15, 1,000,000 households (100,000 imported, copied 9 times in SQL: 261 s; trigram
    indexes built in 21 s, 81 MB)
      name '王芳琳' (110 found) 3085 -> 9.3; address part '1栋1单元1' (9,000 found) 1970 -> 260;
      code part '001-5' (100) 2928 -> 16.6; full phone (10) 2.6 -> 12.0 (same digest path both times:
      noise); 2-character name '王春' (6,520 found) 3002 -> 228
    What the index costs an import (--overhead, 20,000 households, same database, tables emptied and
    vacuumed between): SQLite 27.8 s (10.1 s CPU) without, 28.9 s (11.4 s CPU) with the triggers;
    PostgreSQL 20.3 s without, 21.5 s with the GIN indexes. Built at once over 20,000 households: 0.4-0.6 s.
    The plans: SQLite reads registry_household_text / registry_resident_text (FTS5) and then the
    households by primary key; PostgreSQL a BitmapOr of the code and address trigram indexes and a bitmap
    scan of the names' trigram index, then the households by primary key (no sequential scan).

    .venv/bin/python bench/bench_search.py [--households 100000] [--repeats 5] [--copies 0]
                                           [--skip-sqlite] [--skip-postgres] [--overhead]

``--overhead`` instead imports the households twice into one database, without then with the index,
and prints both times and the time to build the index at once.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _setup(var: str) -> None:
    os.environ["CIVICGRID_VAR_DIR"] = var
    os.environ.setdefault("CIVICGRID_SECRET_KEY", "bench-secret-key-not-for-production-0123456789")
    os.environ.setdefault("CIVICGRID_FIELD_KEY", "Jm9Wl8mB2v1k6bq1mU3hE0p6yQkz1x8yF3d5c2a7b4E=")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _load(households: int) -> None:
    from civicgrid.accounts.services import demo_users_create
    from civicgrid.cli import community_rows
    from civicgrid.core.scoping import PLATFORM
    from civicgrid.engine.synth import generate_community
    from civicgrid.registry.services import registry_import

    started, cpu = time.perf_counter(), time.process_time()
    rows = community_rows(generate_community(households=households, seed=7))
    print(f"  generated {households:,} households in {time.perf_counter() - started:.1f} s")
    started, cpu = time.perf_counter(), time.process_time()
    counts = registry_import(user=None, scope=PLATFORM, tables=rows)
    print(f"  registry import ({sum(counts.values()):,} rows, text index kept by triggers/GIN): "
          f"{time.perf_counter() - started:.1f} s wall, {time.process_time() - cpu:.1f} s CPU")
    demo_users_create()


def _copy(copies: int) -> None:
    """PostgreSQL: K more copies of every household and its residents, by SQL, indexes rebuilt after."""
    from django.db import connection

    from civicgrid.core import textsearch
    from civicgrid.registry.models import HOUSEHOLD_TEXT, RESIDENT_TEXT

    for index in (HOUSEHOLD_TEXT, RESIDENT_TEXT):
        textsearch.uninstall(connection, index)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM registry_household")
        (top,) = cursor.fetchone()
        cursor.execute("SELECT max(id) FROM registry_resident")
        (rtop,) = cursor.fetchone()
        columns = ("building_id, grid_id, place_path, address, housing_type, income_status, contact_phone, "
                   "contact_phone_digest, size, vulnerability_score, vulnerability_weight, vulnerability_rule, "
                   "vulnerability_summary")
        rcolumns = ("name, name_initials, sex, birth_date, relation, phone, phone_digest, lives_alone, "
                    "disability_kind, disability_grade, chronic_illness, pregnant, limited_mobility, "
                    "language_barrier, mental_health_needs")
        for k in range(1, copies + 1):
            cursor.execute(f"INSERT INTO registry_household (id, code, {columns}) SELECT id + {k * top}, "
                           f"code || '-{k}', {columns} FROM registry_household WHERE id <= {top}")
            cursor.execute(f"INSERT INTO registry_resident (id, code, household_id, id_number, id_number_digest, "
                           f"{rcolumns}) SELECT id + {k * rtop}, code || '-{k}', household_id + {k * top}, '', '', "
                           f"{rcolumns} FROM registry_resident WHERE id <= {rtop}")
        cursor.execute("SELECT setval(pg_get_serial_sequence('registry_household', 'id'), "
                       "(SELECT max(id) FROM registry_household))")
        cursor.execute("SELECT setval(pg_get_serial_sequence('registry_resident', 'id'), "
                       "(SELECT max(id) FROM registry_resident))")
    print(f"  copied {copies} times in SQL: {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    for index in (HOUSEHOLD_TEXT, RESIDENT_TEXT):
        textsearch.install(connection, index)
    print(f"  trigram indexes built in {time.perf_counter() - started:.1f} s")


def _before(scope: Any, query: str) -> Any:
    """The selector's text branch as it was before the index (main at aba08a4), for the "before" run."""
    import re

    from django.db.models import Q

    from civicgrid.registry import selectors
    from civicgrid.registry.models import Resident
    from civicgrid.registry.pinyin import name_initials

    if selectors.EXACT_NUMBER.match(re.sub(r"[\s-]", "", query)):
        return selectors.household_list(scope=scope, query=query)  # unchanged: digest lookups
    households = selectors.household_list(scope=scope)
    residents = Q(name__icontains=query)
    initials = name_initials(query) if query.isascii() and query.replace(" ", "").isalpha() else ""
    if len(initials) >= 2:
        residents |= Q(name_initials__startswith=initials)
    return households.filter(Q(code__icontains=query) | Q(address__icontains=query)
                             | Q(pk__in=Resident.objects.filter(residents).values("household_id")))


def _time(run: Callable[[], int], repeats: int) -> tuple[float, float, int]:
    found = run()  # warm
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000, found


def _queries() -> dict[str, str]:
    from civicgrid.registry.models import Household, Resident

    n = Household.objects.count()
    middle = Household.objects.order_by("id")[n // 2]
    names = Resident.objects.filter(household_id__gte=middle.id).order_by("id")
    three = next(r for r in names[:200] if len(r.name) == 3)
    two = next(r for r in names[:200] if len(r.name) == 2)
    phone = next(r for r in names[:200] if r.phone)
    return {"name (3 characters)": three.name, "address part": middle.address[4:10],
            "code part": middle.code[-5:], "full phone": phone.phone, "name (2 characters)": two.name}


def _plans(scope: Any, query: str) -> None:
    from django.db import connection

    from civicgrid.registry import selectors

    sql, params = selectors.household_list(scope=scope, query=query).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(("EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ") + sql, params)
        lines = [str(row[-1]) for row in cursor.fetchall()]
    print(f"  plan of the search for {query!r}:")
    for line in lines:
        print(f"    {line}")


def run_overhead(args: argparse.Namespace) -> None:
    """What keeping the index costs an import: the same households imported without the index (then the
    index built at once) and with it (triggers on SQLite, GIN maintenance on PostgreSQL), same database."""
    from django.db import connection

    from civicgrid.cli import community_rows
    from civicgrid.core import textsearch
    from civicgrid.core.scoping import PLATFORM
    from civicgrid.engine.synth import generate_community
    from civicgrid.registry.models import (
        HOUSEHOLD_TEXT,
        RESIDENT_TEXT,
        Actor,
        Household,
        Person,
        Place,
        Post,
        Resident,
    )
    from civicgrid.registry.services import registry_import

    rows = community_rows(generate_community(households=args.households, seed=7))
    indexes = (HOUSEHOLD_TEXT, RESIDENT_TEXT)
    for index in indexes:
        textsearch.uninstall(connection, index)
    times = {}
    for label in ("without index", "with index"):
        if label == "with index":
            for model in (Post, Person, Actor, Resident, Household):
                model.objects.all().delete()
            for level in ("building", "grid", "community", "subdistrict", "district"):
                Place.objects.filter(level=level).delete()
            with connection.cursor() as cursor:
                cursor.execute("VACUUM")  # the second import starts from clean tables too
            started = time.perf_counter()
            for index in indexes:
                textsearch.install(connection, index)
            print(f"  index built over an empty registry in {time.perf_counter() - started:.2f} s")
        started, cpu = time.perf_counter(), time.process_time()
        registry_import(user=None, scope=PLATFORM, tables={k: [dict(r) for r in v] for k, v in rows.items()})
        times[label] = (time.perf_counter() - started, time.process_time() - cpu)
        print(f"  import of {args.households:,} households {label}: {times[label][0]:.1f} s wall, "
              f"{times[label][1]:.1f} s CPU (this process)")
    for index in indexes:
        textsearch.uninstall(connection, index)
    started = time.perf_counter()
    for index in indexes:
        textsearch.install(connection, index)
    print(f"  index built over the loaded registry at once: {time.perf_counter() - started:.1f} s")


def run_inner(args: argparse.Namespace) -> None:
    from_var = tempfile.mkdtemp(prefix="civicgrid-bench-search-")
    _setup(from_var)
    if args.overhead:
        from django.db import connection

        print(f"{connection.vendor}: import cost of the text index")
        run_overhead(args)
        return
    from django.contrib.auth import get_user_model
    from django.db import connection

    from civicgrid.accounts.roles import scope_for
    from civicgrid.core import textsearch
    from civicgrid.registry import selectors
    from civicgrid.registry.models import HOUSEHOLD_TEXT, RESIDENT_TEXT, Household

    print(f"{connection.vendor}: {args.households:,} households" + (f" x {args.copies + 1}" if args.copies else ""))
    _load(args.households)
    if args.copies and connection.vendor == "postgresql":
        _copy(args.copies)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("SELECT sum(pg_relation_size(indexrelid)) FROM pg_index JOIN pg_class c "
                           "ON c.oid = indexrelid WHERE c.relname LIKE '%%_trgm'")
            print(f"  trigram indexes: {cursor.fetchone()[0] / 2**20:.0f} MB")
    print(f"  households in the database: {Household.objects.count():,}")
    scope = scope_for(get_user_model().objects.get(username="district"))
    queries = _queries()

    def page(search: Callable[[Any, str], Any], query: str) -> Callable[[], int]:
        def run() -> int:
            found = search(scope, query)
            list(found[:50])
            return int(found.count())
        return run

    def current(scope: Any, query: str) -> Any:
        return selectors.household_list(scope=scope, query=query)

    after = {label: _time(page(current, q), args.repeats) for label, q in queries.items()}
    _plans(scope, queries["name (3 characters)"])
    for index in (HOUSEHOLD_TEXT, RESIDENT_TEXT):
        textsearch.uninstall(connection, index)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    before = {label: _time(page(_before, q), args.repeats) for label, q in queries.items()}
    print(f"  median of {args.repeats} warm searches (first 50 rows + count), district scope:")
    print(f"    {'search':22} {'query':24} {'before ms (CPU)':>18} {'after ms (CPU)':>18} {'found b/a':>13}")
    for label, q in queries.items():
        b, a = before[label], after[label]
        print(f"    {label:22} {q!r:24} {b[0]:9.1f} ({b[1]:6.1f}) {a[0]:9.1f} ({a[1]:6.1f}) {b[2]:>6}/{a[2]:<6}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--copies", type=int, default=0, help="PostgreSQL: copy the households K more times")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--overhead", action="store_true", help="measure what the index costs an import instead")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        run_inner(args)
        return 0
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    passthrough = ["--households", str(args.households), "--repeats", str(args.repeats), "--inner",
                   *(["--overhead"] if args.overhead else [])]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    failed = 0
    if not args.skip_sqlite:
        sqlite_env = {k: v for k, v in env.items() if k != "CIVICGRID_DATABASE_URL"}
        failed |= subprocess.call([sys.executable, __file__, *passthrough], env=sqlite_env)
    if not args.skip_postgres:
        failed |= subprocess.call([str(ROOT / "scripts" / "with-postgres.sh"), sys.executable, __file__,
                                   *passthrough, "--copies", str(args.copies)], env=env)
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
