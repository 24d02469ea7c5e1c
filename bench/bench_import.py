"""Benchmark: the registry import against the database's own bulk load of the same files.

Generates ``--households`` households with the synthetic generator (written in chunks, as ``civicgrid
synth`` does), then, on a fresh database in a child process:

* the database's own load of the same CSV files into equivalent staging tables (same columns, typed
  as the registry's: text, dates, small integers; no checks, no keys): PostgreSQL ``COPY ... FROM
  STDIN (FORMAT csv)`` fed the raw bytes; SQLite ``executemany`` of the raw rows as ``csv`` parses them
  (what ``sqlite3 .import`` does, without its shell);
* the platform's import of the folder (``civicgrid import``: every row validated, ID numbers and phones
  encrypted and digested, pinyin initials, vulnerability scores, one audit event, all or nothing);

and prints both times, their ratio (goal: at most 10), the import's CPU time (the Python process and,
on PostgreSQL, the server), and the child's peak resident memory (goal: at most 2 GB).

Figures on the shared 2-core machine (PostgreSQL 15 with the throwaway cluster's defaults, shared_buffers
128 MB; wall times depend on the other work running, CPU times less so):

    100,000 households (377,810 rows), before: PostgreSQL 160.9 s (Python 40.7 s + server 10.6 s CPU), 1,206 MB;
                                               SQLite 323.9 s (66.6 s CPU), 1,212 MB
                                        after: PostgreSQL 27.5 s (12.0 s + 10.4 s CPU), 492 MB; plain COPY 0.40 s
                                               SQLite 30.3 s (20.1 s CPU), 495 MB; plain executemany 9.4 s (2.5 s)
    1,000,000 households (3,789,879 rows), after: PostgreSQL 492.5 s (134.8 s + 164.5 s CPU), 1,322 MB;
                                               plain COPY 6.4 s (3.2 s CPU): 77x in wall time (goal 10x: not met)

A first load into an empty registry then built its indexes after the rows (core.loadindexes; PostgreSQL).
Same files, PostgreSQL, Python CPU + server CPU (the machine was shared: load averages in brackets; CPU
times are the comparable figures, wall times much less so):

    100,000 households (379,108 rows), before: 34.6 s (11.7 s + 12.8 s CPU), 579 MB; COPY 0.49 s (0.35 s CPU):
                                               71x wall, 70x CPU  [load 0.3-2.5]
                                        after: 28.8 s (10.8 s +  5.5 s CPU), 596 MB; COPY 0.78 s (0.39 s CPU):
                                               37x wall, 42x CPU  [load 5]
    1,000,000 households (3,789,879 rows), before: the figures above (134.8 s + 164.5 s CPU): 92x CPU
                                        after: 669.8 s (122.6 s + 64.5 s CPU), 1,427 MB; COPY 6.9 s (3.2 s CPU):
                                               97x wall, 58x CPU  [load 5.5-10: other work had most of the
                                               machine; the server's CPU fell by 61 %, Python's is now most of it]
    1M again, timed by phase [load 5]: 377 s wall (125.3 s + 59.5 s CPU); the households' place checks at
    the end 8.4 s (5.5 s server CPU), then the indexes and the residents' foreign key built 62.9 s (27.3 s).
    Python: residents 100 s (encryption 12.4 s, pinyin 8.2 s, the COPY thread 7.3 s), households 15 s.

Rows cleared column by column (registry.fastcheck; the rest through the per-row checks, same report), no query
in a first load's check loop (keys counted from the sequences, codes and ID numbers already written found in
memory), HMAC-SHA256 with its key set up once (3x per digest and Fernet token), the cyclic collector paused.
Same files, PostgreSQL; "before" is main 89ca21d run back to back with "after" (``--src``) [load 2.7-3.4]:

    100,000 households, before: 16.2-24.5 s (11.2-11.6 s + 5.2-5.5 s CPU), 597-599 MB; COPY 0.35-0.52 s: 42x CPU
                         after: 11.0-11.8 s ( 5.7-5.8 s + 4.1 s CPU),     617-619 MB; COPY 0.37-0.45 s: 26-27x CPU
    1,000,000 households, before: 213.6 s (118.7 s + 54.2 s CPU), 1,434 MB; COPY 3.22 s (3.2 s CPU): 66x wall, 54x CPU
                           after: 127.2 s ( 64.2 s + 42.4 s CPU), 1,602 MB; COPY 3.25 s (3.2 s CPU): 39x wall, 33.5x CPU
                           again, with one str per income status kept (not one per cell): 137.7 s (66.8 s + 42.0 s
                           CPU), 1,538 MB; COPY 6.36 s wall this time (3.3 s CPU): 21.7x wall, 32.9x CPU [load 3.1-3.7]
                           the first "after" with the cyclic collector left on: 197.1 s (81.3 s + 41.0 s CPU), 1,583 MB
      after, by phase (--phases; Python CPU includes the COPY thread): households checked 10.9 s (8.0 s CPU),
      residents checked and sent 62.0 s (45.3 s), scores 3.5 s (3.8 s), households sent 6.4 s (3.3 s), the
      indexes and the residents' foreign key built 37.3 s (the server's), the small tables 2.9 s (1.3 s).
    SQLite, 100,000 households: before 34.5-44.4 s (34.0-34.2 s CPU), after 37.4-39.0 s (29.2-29.6 s CPU); plain
      executemany 2.4-3.0 s: 12-12.5x CPU (SQLite's own work runs in the process: most of what is left).

Still 33x COPY in CPU at 1M, against 10x. During the load both cores are busy (the Python process and the
server's COPY), so what is left needs fewer CPU seconds, not more processes. Per resident row Python spends about
17 us: reading the CSV ~2, encrypting and digesting the ID number and phone ~3.5 (an AES-CBC pass and an HMAC per
value, kept as strong as they are), the driver's COPY formatting ~1, the checks, initials and bookkeeping the
rest. The server's share is fixed by the schema: 42 s CPU, of which 37 s wall rebuilding 17 indexes (three of
them trigram GIN) after a first load; 10x of this COPY (32 s) is below that alone.

A second baseline (PostgreSQL): the same files COPYed into staging tables indexed as the registry's tables are
(``_AFTER``: one index of the same kind per registry index, on the CSV's column; the primary key and unique code
kept during the COPY, the rest and the residents' foreign key built after it, as the import builds them). That
is the database's own bulk load of these files into a schema that answers the registry's searches; the bare COPY
above answers none of them. It is not the registry's index work exactly: its integer keys (a household's building
and grid, a resident's household) are text codes here and the initials' indexes are on the whole name (dearer),
while its digests (64 hex digits) are the shorter raw values here (cheaper). On balance it is likely the dearer,
so the ratio against it flatters the import somewhat; the bare COPY's ratio is the one that cannot. Same run, load 2.9-3.7 (other engineers' work):

    100,000 households: bare COPY 0.41 s (0.4 s CPU), indexed COPY 3.12 s (3.2 s CPU), import 9.7 s (5.8 + 3.7 s
                        CPU), 597 MB: 23.7x / 22.0x the bare COPY, 3.1x / 3.0x the indexed one (wall / CPU)
    1,000,000:          bare COPY 4.01 s (3.2 s CPU), indexed COPY 44.9 s (29.8 s CPU), import 146.7 s (62.8 +
                        41.2 s CPU), 1,541 MB: 36.5x / 32.2x the bare COPY, 3.3x / 3.5x the indexed one

PostgreSQL runs in a throwaway cluster (scripts/with-postgres.sh). ``--src DIR`` runs another checkout's
``src`` (the code before a change) against the same files.

    .venv/bin/python bench/bench_import.py [--households 100000] [--seed 2026] [--skip-sqlite]
                                          [--skip-postgres] [--src OTHER/src] [--folder CSV_DIR]
                                          [--phases] [--profile FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 10.0
TARGET_PEAK_MB = 2048.0

# The staging tables of the plain load: the CSV's columns, typed as the registry stores them.
_TYPES = {"birth_date": "date", "disability_grade": "smallint", "is_key": "smallint",
          **{c: "smallint" for c in ("lives_alone", "chronic_illness", "pregnant", "limited_mobility",
                                    "language_barrier", "mental_health_needs")}}


def generate(households: int, seed: int, out: Path) -> None:
    from civicgrid.engine import synth

    t0 = time.perf_counter()
    if hasattr(synth, "write_city"):
        counts = synth.write_city(out, households=households, seed=seed)
    else:
        community = synth.generate_community(households=households, seed=seed)
        community.write_csv(out)
        counts = {name: len(frame) for name, frame in community.tables().items()}
    print(f"generated {counts['households']:,} households, {counts['residents']:,} residents "
          f"({sum(counts.values()):,} rows) in {time.perf_counter() - t0:.1f} s into {out}", flush=True)


def _server_cpu() -> float:
    """CPU seconds of the PostgreSQL server's processes (postmaster and its children), from /proc."""
    url = os.environ.get("CIVICGRID_DATABASE_URL", "")
    if not url.startswith("postgres"):
        return 0.0
    host = parse_qs(urlparse(url).query)["host"][0]
    root = int((Path(host) / "data" / "postmaster.pid").read_text().split()[0])
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == root or int(fields[1]) == root:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


# The "indexed" plain load (PostgreSQL): the household and resident staging tables get, on the CSV's own columns,
# an index for each index the registry keeps on those tables, of the same kind, as the import has them: the
# primary key and the unique code during the COPY, every other index and the residents' foreign key built after it
# (the import's way, core.loadindexes, with the same maintenance_work_mem). The registry indexes a digest where the
# CSV has the value, and a household's building, grid and place path where the CSV has the building's code: those
# are indexed here on the CSV's column. Names in the comments are the registry's indexes (pg_indexes, main ab1f70d).
_KEYED = {"households": "id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",  # ..._pkey
          "residents": "id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"}
_UNIQUE_CODE = ("households", "residents")  # registry_household_code_key, registry_resident_code_key
_AFTER = (
    ("households", "gin (address gin_trgm_ops)"),           # registry_household_address_trgm
    ("households", "btree (building_code)"),                # registry_household_building_id
    ("households", "btree (code text_pattern_ops)"),        # registry_household_code_like
    ("households", "gin (code gin_trgm_ops)"),              # registry_household_code_trgm
    ("households", "btree (building_code)"),                # registry_household_grid_id
    ("households", "btree (contact_phone)"),                # registry_household_phone_dg
    ("households", "btree (building_code)"),                # registry_household_place_path
    ("households", "btree (building_code text_pattern_ops)"),  # registry_household_place_path_like
    ("residents", "btree (code text_pattern_ops)"),         # registry_resident_code_like
    ("residents", "btree (household_code)"),                # registry_resident_household_id
    ("residents", "btree (id_number)"),                     # registry_resident_id_dg
    ("residents", "btree (name)"),                          # registry_resident_name
    ("residents", "btree (name text_pattern_ops)"),         # registry_resident_name_like
    ("residents", "btree (name)"),                          # registry_resident_name_initials
    ("residents", "btree (name text_pattern_ops)"),         # registry_resident_name_initials_like
    ("residents", "gin (name gin_trgm_ops)"),               # registry_resident_name_trgm
    ("residents", "btree (phone)"),                         # registry_resident_phone_dg
)


def plain_load(folder: Path, *, indexed: bool = False) -> tuple[float, int]:
    """Load every CSV of ``folder`` into a staging table of its own, the database's own way; returns
    (seconds, rows). ``indexed`` (PostgreSQL): the household and resident tables indexed as the registry's are
    (``_AFTER``), the indexes built after the COPY, in the same transaction and timed with it. The tables are
    dropped afterwards."""
    import csv

    from django.db import connection, transaction

    from civicgrid.core.loadindexes import BUILD_MEMORY
    from civicgrid.engine.registry_format import TABLES

    indexed = indexed and connection.vendor == "postgresql"
    cascade = " CASCADE" if connection.vendor == "postgresql" else ""  # SQLite's DROP TABLE has no CASCADE
    rows = 0
    with connection.cursor() as cursor:
        for name, columns in TABLES.items():
            cols = ", ".join(f"{c} {_TYPES.get(c, 'text')}" + (" UNIQUE" if indexed and c == "code" and
                                                               name in _UNIQUE_CODE else "") for c in columns)
            if indexed and name in _KEYED:
                cols = f"{_KEYED[name]}, {cols}"
            cursor.execute(f"DROP TABLE IF EXISTS bench_{name}{cascade}")
            cursor.execute(f"CREATE TABLE bench_{name} ({cols})")
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:  # one transaction, as the import's
        for name, columns in TABLES.items():
            path = folder / f"{name}.csv"
            if connection.vendor == "postgresql":
                with path.open("rb") as source, cursor.cursor.copy(
                        f"COPY bench_{name} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
                    while chunk := source.read(1 << 20):
                        copy.write(chunk)
            else:
                marks = ", ".join("?" * len(columns))
                with path.open(encoding="utf-8", newline="") as source:
                    reader = csv.reader(source)
                    next(reader)
                    # The rows are streamed, not listed (as sqlite3 .import reads them). Django takes any
                    # iterable here (SQLiteCursorWrapper.executemany peeks a generator with tee; the debug
                    # wrapper allows an iterator); django-stubs declare a Sequence.
                    cursor.executemany(f"INSERT INTO bench_{name} VALUES ({marks})",  # noqa: S608
                                       ([None if v == "" else v for v in r]  # type: ignore[arg-type]
                                        for r in reader))
            cursor.execute(f"SELECT COUNT(*) FROM bench_{name}")  # noqa: S608
            rows += int(cursor.fetchone()[0])
        if indexed:
            cursor.execute(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
            for n, (name, how) in enumerate(_AFTER):
                cursor.execute(f"CREATE INDEX bench_after_{n} ON bench_{name} USING {how}")
            cursor.execute("ALTER TABLE bench_residents ADD FOREIGN KEY (household_code) REFERENCES bench_households (code)")
    seconds = time.perf_counter() - start
    with connection.cursor() as cursor:
        for name in TABLES:
            cursor.execute(f"DROP TABLE bench_{name}{cascade}")
    return seconds, rows


def platform_import(folder: Path) -> dict[str, Any]:
    """``civicgrid import FOLDER``, as the command runs it (the console's limits)."""
    from civicgrid.core import importing
    from civicgrid.core.scoping import PLATFORM
    from civicgrid.engine.registry_format import TABLES
    from civicgrid.registry.services import registry_import

    if hasattr(importing, "stream_tables"):
        tables: Any = importing.stream_tables(folder, expected=TABLES, limits=importing.console_limits())
    else:  # the code before streaming: raise its row cap, or a 100,000-household file is refused
        from django.conf import settings

        settings.CIVICGRID_IMPORT_LIMITS = {"rows": 10**9, "upload_bytes": 10**12, "uncompressed_bytes": 10**12}
        tables = importing.read_tables(folder, expected=TABLES)
    return registry_import(user=None, scope=PLATFORM, tables=tables)


def time_phases() -> None:
    """Print each phase's wall and CPU time (this process's) as it ends (``--phases``)."""
    import functools

    from civicgrid.core import loadindexes
    from civicgrid.registry import bulkimport

    def timed(module: Any, name: str) -> None:
        inner = getattr(module, name)

        @functools.wraps(inner)
        def phase(*args: Any, **kwargs: Any) -> Any:
            start, cpu = time.perf_counter(), time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                print(f"    {name}: {time.perf_counter() - start:.2f} s wall, {time.process_time() - cpu:.2f} s CPU "
                      f"(Python, all threads)", flush=True)

        setattr(module, name, phase)

    try:
        from civicgrid.registry import bulkhouseholds, bulkresidents
    except ImportError:  # the code before the import was split in modules (``--src``)
        for name in ("_households", "_residents", "_scores", "_write_households", "_write_others"):
            timed(bulkimport, name)
    else:
        for module, name in ((bulkhouseholds, "check_households"), (bulkresidents, "check_and_write_residents"),
                             (bulkresidents, "household_scores"), (bulkhouseholds, "write_households"),
                             (bulkimport, "_write_others")):
            timed(module, name)
    timed(loadindexes, "_restore")


def inner(args: argparse.Namespace) -> dict[str, Any]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    folder = Path(args.folder)
    cpu0, server0 = _cpu(), _server_cpu()
    plain, plain_rows = plain_load(folder)
    plain_cpu = _cpu() - cpu0 + _server_cpu() - server0
    print(f"  {connection.vendor}: plain load of {plain_rows:,} rows in {plain:.2f} s (CPU {plain_cpu:.1f} s, "
          f"client and server)", flush=True)
    indexed = indexed_cpu = float("nan")
    if connection.vendor == "postgresql":
        cpu0, server0 = _cpu(), _server_cpu()
        indexed, _rows = plain_load(folder, indexed=True)
        indexed_cpu = _cpu() - cpu0 + _server_cpu() - server0
        print(f"  {connection.vendor}: plain load into tables indexed as the registry's (COPY, then the indexes) "
              f"in {indexed:.2f} s (CPU {indexed_cpu:.1f} s, client and server)", flush=True)
    if args.phases:
        time_phases()
    cpu0, server0, start = _cpu(), _server_cpu(), time.perf_counter()
    if args.profile:  # where the Python side's time goes (cProfile: the run itself is ~2x slower)
        import cProfile

        profiler = cProfile.Profile()
        counts = profiler.runcall(platform_import, folder)
        profiler.dump_stats(args.profile)
    else:
        counts = platform_import(folder)
    seconds = time.perf_counter() - start
    cpu, server = _cpu() - cpu0, _server_cpu() - server0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from civicgrid.core.models import AuditLog
    from civicgrid.registry.models import Household, Resident

    stored = (Household.objects.count(), Resident.objects.count(), AuditLog.objects.count())
    print(f"  {connection.vendor}: import {seconds:.1f} s (Python CPU {cpu:.1f} s, database server CPU "
          f"{server:.1f} s), peak RSS {peak:,.0f} MB; counts {counts}; stored {stored[0]:,} households, "
          f"{stored[1]:,} residents, {stored[2]} audit rows", flush=True)
    ratio = seconds / plain
    cpu_ratio = (cpu + server) / plain_cpu if plain_cpu else float("nan")
    print(f"  {connection.vendor}: ratio import / plain load = {ratio:.1f} in wall time (goal <= {TARGET_RATIO:.0f}), "
          f"{cpu_ratio:.1f} in CPU time (client and server; less sensitive to the machine's other load); "
          f"peak {peak:,.0f} MB (goal <= {TARGET_PEAK_MB:,.0f})", flush=True)
    if connection.vendor == "postgresql":
        print(f"  {connection.vendor}: ratio import / indexed plain load = {seconds / indexed:.1f} in wall time, "
              f"{(cpu + server) / indexed_cpu:.1f} in CPU time", flush=True)
    return {"vendor": connection.vendor, "plain": plain, "rows": plain_rows, "import": seconds, "cpu": cpu,
            "server_cpu": server, "peak_mb": peak, "ratio": ratio,
            "plain_cpu": plain_cpu, "cpu_ratio": cpu_ratio, "indexed": indexed, "indexed_cpu": indexed_cpu}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--src", help="run the import from this src folder (e.g. the code before a change)")
    parser.add_argument("--folder", help="use these CSV files instead of generating them")
    parser.add_argument("--profile", help="write the import's cProfile statistics to this file")
    parser.add_argument("--phases", action="store_true", help="print each phase's wall and CPU time")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        print("RESULT " + json.dumps(inner(args)), flush=True)
        return 0
    sys.path.insert(0, str(ROOT / "src"))
    print(f"load before: {os.getloadavg()}", flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="civicgrid-bench-import-"))
    try:
        folder = Path(args.folder) if args.folder else scratch / "csv"
        if not args.folder:
            generate(args.households, args.seed, folder)
        env = {**os.environ, "PYTHONPATH": str(Path(args.src).resolve() if args.src else ROOT / "src"),
               "DJANGO_SETTINGS_MODULE": "civicgrid.config.settings", "CIVICGRID_VAR_DIR": str(scratch / "var")}
        child = [sys.executable, __file__, "--inner", "--folder", str(folder)]
        if args.profile:
            child += ["--profile", str(Path(args.profile).resolve())]
        if args.phases:
            child.append("--phases")
        failed = 0
        if not args.skip_postgres:
            failed |= subprocess.call([str(ROOT / "scripts" / "with-postgres.sh"), *child], env=env)
        if not args.skip_sqlite:
            shutil.rmtree(scratch / "var", ignore_errors=True)
            sqlite_env = {**env, "CIVICGRID_DATABASE_URL": f"sqlite:///{scratch}/bench.sqlite3"}
            failed |= subprocess.call(child, env=sqlite_env)
        print(f"load after: {os.getloadavg()}", flush=True)
        return 1 if failed else 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
