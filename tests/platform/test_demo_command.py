"""`civicgrid demo` (what `make demo` runs) loads every app's demo data into a fresh database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path


def test_demo_loads_a_fresh_database_with_one_summarising_event_per_bulk_load(tmp_path: Path) -> None:
    env = {**os.environ, "CIVICGRID_VAR_DIR": str(tmp_path)}
    env.pop("CIVICGRID_DATABASE_URL", None)  # the embedded default, as `make demo` uses
    done = subprocess.run([sys.executable, "-m", "civicgrid.cli", "demo", "--households", "200", "--no-serve"],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Demo logins" in done.stdout and "relief:" in done.stdout and "cases:" in done.stdout
    with sqlite3.connect(tmp_path / "civicgrid.sqlite3") as db:
        events = dict(db.execute("SELECT event, COUNT(*) FROM core_auditlog GROUP BY event").fetchall())
        households = db.execute("SELECT COUNT(*) FROM registry_household").fetchone()[0]
    assert households == 200
    assert events["registry.imported"] == 1 and events["relief.demo_loaded"] == 2
    assert events["accounts.role_granted"] == 6
    assert "" not in events and "core.legacy" not in events
