"""Benchmark: the registry export of a whole district, CSV (a ZIP) and XLSX, through the export page.

Generates ``--households`` households with the synthetic generator, imports them (``civicgrid import``'s
path) into SQLite or, with ``--postgres``, a throwaway PostgreSQL (scripts/with-postgres.sh), gives a
district official identity clearance, then, each in a fresh process, POSTs the export form through
Django's test client (in Chinese) and reads the streamed response to its end: the time to the first
bytes, the time to the last, the size, and the process's peak resident memory beside its memory
before the request. Each format is measured with the code of ``--before`` (a git revision, extracted
with ``git archive``; default HEAD) and with the working tree's code.

Issue 15's goal: "Export of 1,000,000 households streamed (the response starts at once, memory stays
flat) as CSV and XLSX."

    .venv/bin/python bench/bench_export.py [--households 100000] [--postgres] [--before HEAD]

Figures on the shared 2-core machine (first bytes / whole response, CPU of the process, peak memory with the
memory before the request in brackets; "before" is 21199cf, whose XLSX was written whole with openpyxl into a
temporary file and sent from it):

    SQLite, 100,000 households (load 5.5)     before                              after
      CSV ZIP (8 MB)                          0.71 s / 50.4 s, 14.5 s, 350 (334)   0.68 s / 25.1 s, 13.4 s, 350 (334)
      XLSX (24-26 MB)                         59.8 s / 59.8 s, 39.4 s, 361 (334)   0.66 s / 40.8 s, 20.1 s, 350 (334)
    PostgreSQL, 1,000,000 households (load 3-4; "before" not run: its first byte comes with its last)
      CSV ZIP (85 MB)                                                              3.2 s / 187 s, 122 s, 359 (341)
      XLSX (242 MB)                                                                1.6 s / 302 s, 187 s, 360 (341)
    (at 1M, with the XLSX streamed but the places still read as objects: first bytes 6.3-9.4 s, peak 529 MB)
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
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

USERNAME = "bench-official"
PASSWORD = "bench-export-Passw0rd!"  # noqa: S105 - a throwaway database's only account


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load(folder: Path) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from bench_import import platform_import
    from civicgrid.accounts.services import role_assign
    from civicgrid.core.scoping import PLATFORM
    from civicgrid.registry.models import Place

    counts = platform_import(folder)
    district = Place.objects.get(level="district")
    role_assign(user=None, scope=PLATFORM, username=USERNAME, password=PASSWORD, role="district_official",
                place=district, identity_clearance=True)
    return counts


def measure(fmt: str) -> dict[str, Any]:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.http import StreamingHttpResponse
    from django.test import Client

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]

    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(get_user_model().objects.get(username=USERNAME))
    client.get("/registry/export/")  # warm: templates, translations, the session
    rss_before = _rss_mb()
    start = time.perf_counter()
    cpu0 = time.process_time()
    response = client.post("/registry/export/", {"format": fmt, "confirm_unmasked": "on"})
    assert response.status_code == 200, response.content.decode()[-3000:]
    first = None
    size = 0
    chunks: Iterable[bytes]
    if isinstance(response, StreamingHttpResponse):
        streamed = response.streaming_content
        assert isinstance(streamed, Iterator)  # a WSGI request's view streams synchronously
        chunks = streamed
    else:
        chunks = [response.content]
    for chunk in chunks:
        if chunk and first is None:
            first = time.perf_counter() - start
        size += len(chunk)
    total = time.perf_counter() - start
    return {"format": fmt, "first_s": first, "total_s": total, "cpu_s": time.process_time() - cpu0,
            "mb": size / 2**20, "rss_before_mb": rss_before,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--before", default="HEAD", help="git revision measured as 'before'")
    parser.add_argument("--skip-before", action="store_true")
    parser.add_argument("--inner", choices=("load", "measure"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--format", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner == "load":
        print("RESULT " + json.dumps(load(Path(args.folder))), flush=True)
        return 0
    if args.inner == "measure":
        print("RESULT " + json.dumps(measure(args.format)), flush=True)
        return 0
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    from bench_import import generate

    scratch = Path(tempfile.mkdtemp(prefix="civicgrid-bench-export-"))
    try:
        folder = scratch / "csv"
        generate(args.households, args.seed, folder)
        versions = {"after": ROOT / "src"}
        if not args.skip_before:
            before = scratch / "before"
            before.mkdir()
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.before, "src"], check=True,
                                     capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(before)], input=archive, check=True)
            versions = {"before": before / "src", **versions}
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "civicgrid.config.settings",
               "CIVICGRID_VAR_DIR": str(scratch / "var"), "PYTHONPATH": str(ROOT / "src")}
        if not args.postgres:
            env["CIVICGRID_DATABASE_URL"] = f"sqlite:///{scratch}/bench.sqlite3"
        # (the code it runs, the command): the load with the working tree's code, then each measure
        steps = [(ROOT / "src", [sys.executable, __file__, "--inner", "load", "--folder", str(folder)])]
        for src in versions.values():
            for fmt in ("zip", "xlsx"):
                steps.append((src, [sys.executable, __file__, "--inner", "measure", "--format", fmt]))
        script = scratch / "steps.sh"
        # one shell runs every step, so a throwaway PostgreSQL lives through all of them
        lines = ["set -e"] + [f"PYTHONPATH='{src}' " + " ".join(f"'{p}'" for p in command)
                              for src, command in steps]
        script.write_text("\n".join(lines) + "\n")
        runner = [str(ROOT / "scripts" / "with-postgres.sh"), "bash", str(script)] if args.postgres \
            else ["bash", str(script)]
        print(f"load before: {os.getloadavg()}", flush=True)
        done = subprocess.run(runner, env=env, capture_output=True, text=True)
        if done.returncode:
            print(done.stdout[-3000:], done.stderr[-3000:], file=sys.stderr)
            return 1
        out = done.stdout
        results = [json.loads(line[7:]) for line in out.splitlines() if line.startswith("RESULT ")]
        counts, measured = results[0], results[1:]
        print(f"{'PostgreSQL' if args.postgres else 'SQLite'}, {args.households:,} households imported: {counts}")
        for name, result in zip([v for v in versions for _ in (0, 1)], measured, strict=True):
            print(f"  {name:6} {result['format']:4}: first bytes after {result['first_s']:.2f} s, all "
                  f"{result['mb']:.0f} MB after {result['total_s']:.1f} s (CPU {result['cpu_s']:.1f} s); "
                  f"memory {result['rss_before_mb']:.0f} MB before the request, peak {result['peak_mb']:.0f} MB")
        print(f"load after: {os.getloadavg()}", flush=True)
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
