"""The ``civicgrid`` command line.

    civicgrid demo                     set up var/, load a generated community, print logins, serve
    civicgrid serve [--port 8000] [--workers N] [--with-worker] [--dev]
                                       serve the web app (gunicorn; --dev: Django's development server)
    civicgrid worker                   run the job queue: periodic jobs, queued long jobs, retries
    civicgrid synth --households N --seed S --out DIR [--chunk-households C]
                                       (with C: a city of any size, 10 M households, written in chunks)
    civicgrid import PATH              a folder of CSVs, a .zip, a .csv or an .xlsx; all or nothing
    civicgrid export --out DIR|FILE.xlsx|FILE.zip [--as USER]
    civicgrid allocate --requests FILE --stock FILE --policy NAME --out FILE
    civicgrid index --spec FILE --input FILE --out FILE | index svi|inform --input FILE --out FILE
    civicgrid governance --community CODE [--format text|json]
    civicgrid crei [--level grid|community] [--format csv|json]
                                       every unit's CREI indicator values, missing ones flagged and why
    civicgrid simulate --registry DIR|--community CODE --scenario FILE [--days N] [--runs R]
                       [--policy NAME ...] [--scheduler ADDRESS] --out DIR
    civicgrid compare --community CODE --event DATE|emergency:ID [--outcome KEY] [--compare CODE ...] --out FILE
    civicgrid compare --panel FILE --event DATE --treated UNIT ... --out FILE   (a researcher's panel, no database)
    civicgrid tick [--loop SECONDS]    periodic jobs once, without the queue (for cron)
    civicgrid backup --out FILE        the database and its keys in one file (keep it safe)
    civicgrid restore FILE [--force]   replace the database and var/secrets.json with a backup's
    civicgrid rotate-keys              re-encrypt with the first key of CIVICGRID_FIELD_KEY
    civicgrid audit verify             walk the audit log's hash chain: "N rows, chain intact" or the first bad row
    civicgrid manage ARGS...           Django's manage.py (migrate, createsuperuser, ...)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from civicgrid.engine._cli import CliExit, CliParser, CliUsageError, usage_error


def _django(*, check_key: bool = True) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings")
    import django

    django.setup()
    if check_key:  # refuse to run with a key that cannot read the stored data (a lost var/secrets.json)
        from civicgrid.core.crypto import FieldKeyError, check_field_key

        try:
            check_field_key()
        except FieldKeyError as exc:
            print(f"civicgrid: {exc}", file=sys.stderr)
            raise SystemExit(2) from None


def _migrate() -> None:
    """Bring the database up to date: only the commands that set the platform up (demo, serve, worker)."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _require_migrated() -> None:
    """Every other command works on a database as it is, and says so when it is not migrated."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        print("civicgrid: the database is not up to date: run 'civicgrid manage migrate' (or 'civicgrid serve')",
              file=sys.stderr)
        raise SystemExit(2)


def cmd_synth(args: argparse.Namespace) -> int:
    from civicgrid.engine.synth import generate_community, write_city

    if args.chunk_households:  # a city of any size, written a chunk at a time in bounded memory
        counts = write_city(args.out, households=args.households, seed=args.seed,
                            chunk_households=args.chunk_households)
        print(f"{counts['households']} households, {counts['residents']} residents (in chunks of "
              f"{args.chunk_households}) in {args.out}")
        return 0
    community = generate_community(households=args.households, seed=args.seed)
    for path in community.write_csv(args.out):
        print(path)
    print(f"{len(community.households)} households, {len(community.residents)} residents")
    return 0


def community_rows(community) -> dict[str, list[dict[str, str]]]:  # type: ignore[no-untyped-def]
    """A generated community as the importer's rows (strings, empty for missing)."""
    from civicgrid.engine.registry_format import TABLES

    rows = {}
    for name, frame in community.tables().items():
        table = frame.loc[:, list(TABLES[name])].astype(object).where(frame.loc[:, list(TABLES[name])].notna(), "")
        rows[name] = [{k: str(v) for k, v in r.items()} for r in table.to_dict("records")]
    return rows


def _print_errors(errors, total: int | None = None) -> None:  # type: ignore[no-untyped-def]
    total = len(errors) if total is None else total
    print(f"import rejected: {total} error(s); nothing was written", file=sys.stderr)
    for error in errors:
        print(f"  {error}", file=sys.stderr)
    if total > len(errors):
        print(f"  ... and {total - len(errors)} more, not listed", file=sys.stderr)


def cmd_import(args: argparse.Namespace) -> int:
    _django()
    _migrate()  # a first import sets the database up, as demo does
    from civicgrid.core.importing import ImportRejected, console_limits, stream_tables
    from civicgrid.core.scoping import PLATFORM
    from civicgrid.engine.registry_format import TABLES
    from civicgrid.registry.services import registry_import

    if not Path(args.path).exists():
        print(f"no such file or folder: {args.path}", file=sys.stderr)
        return 2
    try:  # streamed: the files are read row by row, never held (a district of a million households)
        tables = stream_tables(args.path, expected=TABLES, limits=console_limits())
        counts = registry_import(user=None, scope=PLATFORM, tables=tables)
    except ImportRejected as rejected:
        _print_errors(rejected.errors, rejected.total)
        return 1
    from civicgrid.core.bulk import refresh_statistics

    refresh_statistics()  # the planner's picture of the tables just loaded
    print("imported " + ", ".join(f"{n} {t}" for t, n in counts.items()))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    _django()
    _require_migrated()
    from django.contrib.auth import get_user_model

    from civicgrid.accounts.roles import scope_for
    from civicgrid.core.exporting import stream_csv_zip, write_csv_dir, write_xlsx_file
    from civicgrid.core.scoping import Scope
    from civicgrid.registry.selectors import registry_tables
    from civicgrid.registry.services import registry_export_recorded

    user = None
    if args.as_user:
        user = get_user_model().objects.filter(username=args.as_user).first()
        if user is None:
            print(f"no such user: {args.as_user}", file=sys.stderr)
            return 2
        scope = scope_for(user)
    else:  # the operator at the server's console: everything, identities in full
        scope = Scope(role="district_official", unrestricted=True, identity_clearance=True)
    tables = registry_tables(scope=scope)
    counts = {k: len(v[1]) for k, v in tables.items()}
    out = Path(args.out)
    if out.suffix == ".xlsx":
        write_xlsx_file(tables, out)
    elif out.suffix == ".zip":
        with out.open("wb") as archive:
            for chunk in stream_csv_zip(tables):
                archive.write(chunk)
    else:
        write_csv_dir(out, tables)
    registry_export_recorded(user=user, scope=scope, counts=counts, masked=not scope.identity_clearance)
    print(f"exported to {out}: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    _django()
    _migrate()
    from civicgrid.accounts.services import demo_users_create
    from civicgrid.core.scoping import PLATFORM
    from civicgrid.engine.synth import generate_community
    from civicgrid.registry.models import Household
    from civicgrid.registry.services import registry_import

    if not Household.objects.exists():
        print(f"generating a demo community of {args.households} households (seed {args.seed}) ...")
        community = generate_community(households=args.households, seed=args.seed)
        counts = registry_import(user=None, scope=PLATFORM, tables=community_rows(community))
        print("loaded " + ", ".join(f"{n} {t}" for t, n in counts.items()))
    else:
        print("the database already holds a registry; keeping it (delete var/ to start afresh)")
    from civicgrid.core.plugins import demo_loaders

    for demo_load in demo_loaders():
        for line in demo_load(households=args.households, seed=args.seed):
            print(line)
    from civicgrid.core.bulk import refresh_statistics
    from civicgrid.core.tallies import rebuild_stale

    refresh_statistics()  # the loaders wrote in bulk
    for line in rebuild_stale(force=True):  # the demo's records were written in bulk: count them once
        print(f"tally {line}")
    print("\nDemo logins (one per role):")
    for username, password, sees in demo_users_create():
        print(f"  {username:<10} {password:<16} {sees}")
    if args.no_serve:
        return 0
    args.with_worker, args.dev, args.bind, args.workers = True, False, "", 0
    return cmd_serve(args)


def run_periodic_jobs() -> tuple[list[str], int]:
    """Run every app's periodic command once, here and now (``civicgrid tick``, for cron; the worker runs
    them on the queue with retries). Each run is logged; a failure does not stop the others. Returns the
    lines to print and how many failed."""
    from django.db import connections

    from civicgrid.core.logs import log_context, new_request_id
    from civicgrid.core.plugins import periodic_commands
    from civicgrid.ops.jobs import run_periodic

    lines, failed = [], 0
    for name in periodic_commands():
        with log_context(job=name, job_id=new_request_id()):
            try:
                lines.append(f"{name}: {run_periodic(name)}")
            except Exception as exc:  # noqa: BLE001 - logged with its traceback by run_periodic
                lines.append(f"{name}: FAILED {exc}")
                failed += 1
    connections.close_all()
    return lines, failed


def cmd_tick(args: argparse.Namespace) -> int:
    _django()
    _require_migrated()
    import time

    while True:
        lines, failed = run_periodic_jobs()
        for line in lines:
            print(line)
        if args.loop <= 0:
            return 1 if failed else 0
        time.sleep(args.loop)


def cmd_worker(args: argparse.Namespace) -> int:
    """The job queue's worker (django-q2's cluster: a scheduler, a pusher, N workers, a monitor)."""
    if args.workers:
        os.environ["CIVICGRID_JOB_WORKERS"] = str(args.workers)
    _django()
    _migrate()
    from django.core.management import call_command

    from civicgrid.ops.jobs import sync_schedules

    sync_schedules()
    call_command("qcluster")
    return 0


def _prepare_static() -> None:
    """Collect the static files into var/static (WhiteNoise serves them from there)."""
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


def _worker_count() -> int:
    # one process per core (each runs CIVICGRID_WEB_THREADS threads): more processes than cores only split
    # the writes that arrive together into smaller groups (core.groupcommit) and cost memory
    return int(os.environ.get("CIVICGRID_WEB_WORKERS", "") or max(2, min(os.cpu_count() or 1, 8)))


def gunicorn_argv(*, bind: str, workers: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "-c", "python:civicgrid.config.gunicorn", "--bind", bind,
            "--workers", str(workers), "--name", "civicgrid", "civicgrid.config.wsgi:application"]


def cmd_serve(args: argparse.Namespace) -> int:
    """The production server (gunicorn, several worker processes), after migrating and collecting the
    static files. With ``--with-worker`` (the demo) the job worker runs beside it and both stop together;
    otherwise run ``civicgrid worker`` as its own service. ``--dev``: Django's development server."""
    _django()
    _migrate()
    bind = args.bind or f"127.0.0.1:{args.port}"
    if args.dev:
        from django.core.management import call_command

        print(f"\nserving (development server) on http://{bind}/  (Ctrl-C to stop)")
        call_command("runserver", bind, "--insecure", "--noreload")
        return 0
    _prepare_static()
    from django.db import connections

    connections.close_all()
    argv = gunicorn_argv(bind=bind, workers=args.workers or _worker_count())
    print(f"\nserving on http://{bind}/  (Ctrl-C to stop)", flush=True)
    if not args.with_worker:
        os.execv(sys.executable, argv)  # the server replaces this process: signals reach it directly
    return _run_together(argv, [sys.executable, "-m", "civicgrid.cli", "worker"])


def _run_together(*commands: list[str]) -> int:
    """Run the commands side by side; when one ends or this process is told to stop, stop them all."""
    import signal
    import subprocess
    import time

    children = [subprocess.Popen(command) for command in commands]

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
    return max((child.returncode or 0) for child in children)


def cmd_governance(args: argparse.Namespace) -> int:
    _django()
    _require_migrated()
    from civicgrid.analytics.governance_data import governance_report_for
    from civicgrid.engine.governance import report_to_json, report_to_text
    from civicgrid.registry.models import Place

    community = Place.objects.filter(code=args.community, level="community").first()
    if community is None:
        known = ", ".join(Place.objects.filter(level="community").values_list("code", flat=True)[:20])
        print(f"no community with code {args.community!r}; known: {known or 'none'}", file=sys.stderr)
        return 2
    report = governance_report_for(community=community)
    print(report_to_json(report) if args.format == "json" else report_to_text(report))
    return 0


def cmd_crei(args: argparse.Namespace) -> int:
    """For researchers: every unit's raw indicator values (not the index), one row per unit and
    indicator in CSV (``value`` empty and ``missing`` saying why when there is none), or JSON."""
    _django()
    _require_migrated()
    import csv
    import json
    import math

    from civicgrid.analytics.crei import catalogue, indicator_values, units_for
    from civicgrid.registry.models import Place

    units, names = units_for(list(Place.objects.filter(level=args.level).order_by("path")), args.level)
    values, reasons = indicator_values(units)
    rows = []
    for entry in catalogue()["indicators"]:
        name = entry["name"]
        for unit in units:
            found = values.get(name, {}).get(unit)
            value = None if found is None or math.isnan(found) else float(found)
            missing = "" if value is not None else reasons.get(name, "no data for this unit")
            rows.append({"unit": unit, "unit_name": names[unit], "indicator": name,
                         "mechanism": entry["mechanism"], "value": value,
                         "in_index": name not in reasons, "missing": missing})
    if args.format == "json":
        json.dump({"level": args.level, "units": len(units), "rows": rows,
                   "missing_indicators": reasons}, sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["unit"], lineterminator="\n")
        writer.writeheader()
        writer.writerows({**r, "value": "" if r["value"] is None else repr(r["value"])} for r in rows)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Before/after comparison on the live records (``--panel``: see civicgrid.engine._comparison_cli)."""
    _django()
    _require_migrated()
    from civicgrid.evaluation.cli import run_live

    return run_live(community=args.community, event=args.event, outcome=args.outcome, compare_with=args.compare,
                    out=args.out)


def cmd_backup(args: argparse.Namespace) -> int:
    _django()
    from civicgrid.core.backup import BackupError, backup

    try:
        manifest = backup(Path(args.out))
    except BackupError as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"backed up the {manifest['engine']} database and its keys to {args.out} (mode 0600: it holds the keys)")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    _django(check_key=False)  # the keys come from the backup
    from civicgrid.core.backup import BackupError, restore

    try:
        done = restore(Path(args.file), force=args.force)
    except BackupError as exc:
        print(f"restore failed: {exc}", file=sys.stderr)
        return 1
    print(f"restored the {done.engine} database of {done.created}; its keys are in {done.keys_written_to}")
    if done.environment_overrides:
        print("warning: CIVICGRID_FIELD_KEY / CIVICGRID_SECRET_KEY in the environment differ from the backup's "
              f"keys: unset them or set them to the values in {done.keys_written_to}", file=sys.stderr)
    return 0


def cmd_rotate_keys(args: argparse.Namespace) -> int:
    _django()
    _require_migrated()
    from civicgrid.core.crypto import rotate_keys

    counts = rotate_keys()
    print("re-encrypted with the first key of CIVICGRID_FIELD_KEY: "
          + ", ".join(f"{n} {label}" for label, n in counts.items())
          + "\nthe other keys may now be removed (keep them with your older backups)")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    _django(check_key=False)  # read-only, and the chain holds no encrypted values
    from civicgrid.core.auditchain import verify

    report = verify()
    print(report, file=sys.stdout if report.intact else sys.stderr)
    return 0 if report.intact else 1


def cmd_manage(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["civicgrid manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(prog="civicgrid", description="Community resilience governance.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=CliParser)

    p = sub.add_parser("demo", help="set up and serve a demo community")
    p.add_argument("--households", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-serve", action="store_true", help="load and print logins, then exit")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="serve the web app (gunicorn)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--bind", default="", help="address:port to listen on (default 127.0.0.1:PORT)")
    p.add_argument("--workers", type=int, default=0,
                   help="web worker processes (default CIVICGRID_WEB_WORKERS or 2 x cores + 1, at most 9)")
    p.add_argument("--with-worker", action="store_true", help="also run the job worker (civicgrid worker)")
    p.add_argument("--dev", action="store_true", help="Django's development server instead (one process)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run the job queue (periodic jobs, queued jobs, retries)")
    p.add_argument("--workers", type=int, default=0, help="job worker processes (default CIVICGRID_JOB_WORKERS or 2)")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("synth", help="write a generated community as CSV files")
    p.add_argument("--households", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    p.add_argument("--chunk-households", type=int, default=0,
                   help="write a city of any size in chunks of this many households (bounded memory; "
                        "another random layout than the default)")
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("import", help="import a registry (all or nothing)")
    p.add_argument("path")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="export the registry")
    p.add_argument("--out", required=True, help="a folder (CSV files), FILE.zip or FILE.xlsx")
    p.add_argument("--as", dest="as_user", default="", help="export what this user may see, masked as for them")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("tick", help="run the periodic jobs once, without the queue (for cron)")
    p.add_argument("--loop", type=float, default=0.0, help="keep running, pausing this many seconds")
    p.set_defaults(func=cmd_tick)

    p = sub.add_parser("governance", help="state-capital-society balance and stress tests of a community")
    p.add_argument("--community", required=True, help="community code, e.g. D01-S01-C01")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.set_defaults(func=cmd_governance)

    p = sub.add_parser("crei", help="every unit's CREI indicator values, missing ones flagged with the reason")
    p.add_argument("--level", choices=["grid", "community"], default="grid")
    p.add_argument("--format", choices=["csv", "json"], default="csv")
    p.set_defaults(func=cmd_crei)
    p = sub.add_parser("compare", help="before/after comparison around an event (--panel FILE: a CSV panel)")
    p.add_argument("--community", required=True, help="the community with the event, e.g. D01-S01-C01")
    p.add_argument("--event", required=True, help="a date (YYYY-MM-DD) or emergency:ID")
    p.add_argument("--outcome", default="cases.reported", help="cases.reported, cases.handling_hours, ...")
    p.add_argument("--compare", nargs="*", default=[], help="comparison community codes")
    p.add_argument("--out", required=True, help="CSV of the estimates and placebos, or - for stdout")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("backup", help="back up the database and its keys into one file")
    p.add_argument("--out", required=True, help="the backup file to write (a .zip)")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="restore the database and its keys from a backup")
    p.add_argument("file")
    p.add_argument("--force", action="store_true", help="replace a database that already holds data")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("rotate-keys", help="re-encrypt every sensitive field with the first CIVICGRID_FIELD_KEY")
    p.set_defaults(func=cmd_rotate_keys)

    p = sub.add_parser("audit", help="check the audit log (verify: walk its hash chain)")
    p.add_argument("action", choices=["verify"])
    p.set_defaults(func=cmd_audit)

    for name in ENGINE_COMMANDS:
        sub.add_parser(name, help=f"{name} (see civicgrid {name} --help)")

    p = sub.add_parser("manage", help="Django management commands")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


def cmd_simulate(argv: list[str]) -> int:
    """``civicgrid simulate``: the engine's command; only ``--community`` sets Django up."""
    from civicgrid.engine._simulation_cli import run_simulate_cli

    def load_community(code: str, seed: int):  # type: ignore[no-untyped-def]
        _django()
        _require_migrated()
        from civicgrid.simulation.data import population_for_community_code

        return population_for_community_code(code=code, seed=seed)

    return run_simulate_cli(argv, community_loader=load_community)


# Engine commands parse their own arguments (they run without Django).
ENGINE_COMMANDS = {
    "allocate": ("civicgrid.engine.allocation_cli", "run_allocate_cli"),
    "index": ("civicgrid.engine.index.cli", "run_index_cli"),
    "simulate": ("civicgrid.cli", "cmd_simulate"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "compare" and "--panel" in argv:  # a researcher's CSV: the engine alone
        from civicgrid.engine._comparison_cli import run_compare_cli

        return run_compare_cli(argv[1:])
    if argv and argv[0] in ENGINE_COMMANDS:
        import importlib

        module, function = ENGINE_COMMANDS[argv[0]]
        return int(getattr(importlib.import_module(module), function)(argv[1:]))
    try:
        args = build_parser().parse_args(argv)
    except CliExit as exc:
        return exc.status
    except CliUsageError as exc:
        return usage_error("civicgrid", exc)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
