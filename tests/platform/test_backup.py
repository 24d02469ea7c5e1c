"""Issue 11, finding 7: `civicgrid backup` / `civicgrid restore` round-trip the database and its keys
(on SQLite, and on PostgreSQL when the suite runs under scripts/with-postgres.sh), and a lost
var/secrets.json makes the platform refuse to start instead of writing under a new key."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest

from civicgrid.engine.registry_format import TABLES

Run = Callable[..., subprocess.CompletedProcess[str]]


def _database_url(name: str) -> str:
    """A fresh database beside the suite's on PostgreSQL; '' (SQLite under var/) otherwise."""
    url = os.environ.get("CIVICGRID_DATABASE_URL", "")
    if not url:
        return ""
    import psycopg

    parsed = urlparse(url)
    from civicgrid.config.settings.database import database_from_url

    db = database_from_url(url)
    with psycopg.connect(dbname="postgres", host=str(db["HOST"]), port=str(db["PORT"]) or None,
                         user=str(db["USER"]) or None, password=str(db["PASSWORD"]) or None,
                         autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunparse(parsed._replace(path="/" + name))


def _recreate(url: str) -> None:
    if url:
        _database_url(urlparse(url).path.lstrip("/"))


@pytest.fixture()
def cli(tmp_path: Path) -> Iterator[tuple[Run, Path, str]]:
    """Run `civicgrid` in a fresh var/ with keys kept in var/secrets.json (not the environment)."""
    url = _database_url("civicgrid_backup_rt")
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k not in {"CIVICGRID_FIELD_KEY", "CIVICGRID_SECRET_KEY"}}
    env.update(CIVICGRID_VAR_DIR=str(var), CIVICGRID_DATABASE_URL=url)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "civicgrid.cli", *args], capture_output=True, text=True,
                              check=False, env=env, timeout=600)

    yield run, var, url


def _export(run: Run, out: Path) -> dict[str, str]:
    done = run("export", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return {name: (out / f"{name}.csv").read_text() for name in TABLES}


def test_backup_and_restore_round_trip_the_database_and_its_keys(cli: tuple[Run, Path, str], tmp_path: Path) -> None:
    run, var, url = cli
    assert run("synth", "--households", "60", "--seed", "8", "--out", str(tmp_path / "synth")).returncode == 0
    imported = run("import", str(tmp_path / "synth"))
    assert imported.returncode == 0, imported.stderr
    before = _export(run, tmp_path / "before")
    assert any(len(line.split(",")[6]) == 18 for line in before["residents"].splitlines()[1:])  # full IDs

    backup = tmp_path / "civicgrid.backup.zip"
    done = run("backup", "--out", str(backup))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600  # it holds the keys
    with zipfile.ZipFile(backup) as archive:
        assert {"manifest.json", "secrets.json"} <= set(archive.namelist())

    # Disaster: the database and the keys are gone.
    (var / "secrets.json").unlink()
    if url:
        _recreate(url)
    else:
        for path in var.glob("civicgrid.sqlite3*"):
            path.unlink()
    restored = run("restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert stat.S_IMODE((var / "secrets.json").stat().st_mode) == 0o600
    after = _export(run, tmp_path / "after")
    assert after == before

    # A restore never silently overwrites a database that holds data.
    again = run("restore", str(backup))
    assert again.returncode == 1 and "--force" in again.stderr
    assert run("restore", str(backup), "--force").returncode == 0
    assert _export(run, tmp_path / "forced") == before


def test_a_lost_secrets_file_refuses_to_start_instead_of_writing_under_a_new_key(
        cli: tuple[Run, Path, str], tmp_path: Path) -> None:
    run, var, _url = cli
    assert run("synth", "--households", "20", "--seed", "3", "--out", str(tmp_path / "synth")).returncode == 0
    assert run("import", str(tmp_path / "synth")).returncode == 0
    (var / "secrets.json").unlink()
    export = run("export", "--out", str(tmp_path / "out"))
    assert export.returncode == 2
    assert "refusing to start" in export.stderr and "secrets.json" in export.stderr
    assert "Traceback" not in export.stderr
    assert not (tmp_path / "out").exists()


def test_var_and_the_database_are_private(cli: tuple[Run, Path, str], tmp_path: Path) -> None:
    run, var, url = cli
    assert run("synth", "--households", "5", "--seed", "3", "--out", str(tmp_path / "synth")).returncode == 0
    assert run("import", str(tmp_path / "synth")).returncode == 0
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    assert stat.S_IMODE((var / "secrets.json").stat().st_mode) == 0o600
    if not url:
        assert stat.S_IMODE((var / "civicgrid.sqlite3").stat().st_mode) == 0o600
