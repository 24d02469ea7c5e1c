"""Benchmark: every page in every demo role's menu, on the demo community.

Runs ``civicgrid demo --no-serve`` into a temporary var directory (SQLite, the embedded default) with
the given number of households, then, in this process, logs in as each demo role and requests the
home page and every menu page the role may use through Django's test client, in Chinese. Prints per
role the pages sorted slowest first: the server time (median and worst of the warm repeats,
time.perf_counter around the request) and the number of database queries (CaptureQueriesContext).

    .venv/bin/python bench/bench_role_pages.py [--households 10000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROLES = ("district", "director", "grid", "orgstaff", "volunteer", "resident")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    var = Path(tempfile.mkdtemp(prefix="civicgrid-bench-pages-"))
    try:
        env = {**os.environ, "CIVICGRID_VAR_DIR": str(var)}
        env.pop("CIVICGRID_DATABASE_URL", None)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "civicgrid.cli", "demo", "--households", str(args.households),
                        "--no-serve"], env=env, check=True, capture_output=True)
        print(f"demo with {args.households:,} households loaded in {time.perf_counter() - started:.1f} s")
        os.environ["CIVICGRID_VAR_DIR"] = str(var)
        os.environ.pop("CIVICGRID_DATABASE_URL", None)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings")
        import django

        django.setup()
        from django.conf import settings

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext
        from django.urls import reverse

        from civicgrid.accounts.roles import scope_for
        from civicgrid.core.plugins import nav_items

        for username in ROLES:
            account = get_user_model().objects.get(username=username)
            scope = scope_for(account)
            client = Client(headers={"accept-language": "zh-hans"})
            client.force_login(account)
            urls = ["/"] + [reverse(i.url_name) for i in nav_items() if scope.may(i.resource)
                            and (not getattr(i, "roles", ()) or scope.role in i.roles)]
            rows = []
            for url in dict.fromkeys(urls):
                client.get(url, follow=True)  # warm
                times, queries, status = [], 0, 0
                for _ in range(args.repeats):
                    with CaptureQueriesContext(connection) as captured:
                        t0 = time.perf_counter()
                        response = client.get(url, follow=True)
                        times.append((time.perf_counter() - t0) * 1000)
                    queries, status = len(captured.captured_queries), response.status_code
                rows.append((statistics.median(times), max(times), queries, status, url))
            print(f"\n{username} ({scope.role}): {len(rows)} pages")
            for median, worst, queries, status, url in sorted(rows, reverse=True):
                print(f"  {median:8.1f} ms median {worst:8.1f} ms worst {queries:4d} queries  {status}  {url}")
    finally:
        shutil.rmtree(var, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
