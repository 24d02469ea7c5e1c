"""Backups: the database and the keys that read it, in one file (``civicgrid backup`` / ``restore``).

A backup is a ZIP (created 0600: it holds the keys) with

* ``manifest.json``: format version, database engine, when, and a fingerprint of the field key;
* ``secrets.json``: the Django secret key and the field key(s), as in ``var/secrets.json``;
* ``database.sqlite3`` (a consistent copy through SQLite's online backup API, safe while the app runs)
  or ``database.pgdump`` (``pg_dump --format=custom``, restored with ``pg_restore``).

Restoring writes the keys to ``var/secrets.json`` and replaces the configured database (refusing one
that already holds data unless ``force``), then checks that the restored keys read the restored data.
Keep backups somewhere else than the server, and as safe as the data itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Restored:
    engine: str
    created: str
    keys_written_to: Path
    environment_overrides: bool  # CIVICGRID_FIELD_KEY / _SECRET_KEY in the environment differ from the backup's


def _fingerprint(field_key: str) -> str:
    return hashlib.sha256(b"civicgrid-key-fingerprint:" + field_key.encode()).hexdigest()[:16]


def _database() -> dict[str, Any]:
    from django.db import connections

    return dict(connections["default"].settings_dict)


def _engine(db: dict[str, Any]) -> str:
    engine = str(db["ENGINE"])
    if engine.endswith("sqlite3"):
        return "sqlite"
    if engine.endswith("postgresql"):
        return "postgresql"
    raise BackupError(f"backups support SQLite and PostgreSQL, not {engine}")


def _pg_tool(name: str) -> str:
    """pg_dump / pg_restore: the newest server's own binaries if installed, else the PATH's."""
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if candidates:
        return str(candidates[-1])
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install PostgreSQL's client programs (apt-get install postgresql-client)")
    return found


def _pg_env(db: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    env["PGDATABASE"] = str(db["NAME"])
    return env


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def backup(out: Path) -> dict[str, Any]:
    """Write a backup of the configured database and keys to ``out``. Returns the manifest."""
    from django.conf import settings
    from django.db import connections
    from django.utils import timezone

    from civicgrid.config.settings.security import write_private
    from civicgrid.core.crypto import check_field_key

    check_field_key()  # never back up data with keys that cannot read it
    db = _database()
    engine = _engine(db)
    manifest = {"format": FORMAT, "engine": engine, "created": timezone.now().isoformat(),
                "field_key_fingerprint": _fingerprint(settings.CIVICGRID_FIELD_KEY)}
    secrets = {"secret_key": settings.SECRET_KEY, "field_key": settings.CIVICGRID_FIELD_KEY}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="civicgrid-backup-") as tmp:
        if engine == "sqlite":
            dump = Path(tmp) / "database.sqlite3"
            connections["default"].close()
            source = sqlite3.connect(str(db["NAME"]))
            target = sqlite3.connect(str(dump))
            try:
                source.backup(target)  # consistent even while the app writes (online backup API)
            finally:
                target.close()
                source.close()
        else:
            dump = Path(tmp) / "database.pgdump"
            _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-acl", f"--file={dump}"], _pg_env(db))
        partial = out.with_name(out.name + ".partial")
        write_private(partial, "")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("manifest.json", json.dumps(manifest, indent=2))
            archive.writestr("secrets.json", json.dumps(secrets))
            archive.write(dump, dump.name)
        os.replace(partial, out)
    os.chmod(out, 0o600)
    return manifest


def _read_backup(path: Path, tmp: Path) -> tuple[dict[str, Any], dict[str, str], Path]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if not {"manifest.json", "secrets.json"} <= names:
                raise BackupError(f"{path} is not a civicgrid backup (no manifest.json / secrets.json)")
            manifest = json.loads(archive.read("manifest.json"))
            secrets = json.loads(archive.read("secrets.json"))
            member = "database.sqlite3" if manifest.get("engine") == "sqlite" else "database.pgdump"
            if member not in names:
                raise BackupError(f"{path} holds no {member}")
            archive.extract(member, tmp)
    except (zipfile.BadZipFile, json.JSONDecodeError, KeyError) as exc:
        raise BackupError(f"{path} is not a readable civicgrid backup: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} has backup format {manifest.get('format')!r}; this version reads {FORMAT}")
    return manifest, secrets, tmp / member


def _holds_data() -> bool:
    from django.db import connections

    connection = connections["default"]
    return "django_migrations" in connection.introspection.table_names()


def restore(path: Path, *, force: bool = False) -> Restored:
    """Replace the configured database and var/secrets.json with the backup's."""
    from django.db import connections
    from django.test.utils import override_settings

    from civicgrid.config.settings.paths import VAR_DIR, ensure_private_dir
    from civicgrid.config.settings.security import write_private
    from civicgrid.core.crypto import FieldKeyError, check_field_key

    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no such backup file: {path}")
    db = _database()
    engine = _engine(db)
    with tempfile.TemporaryDirectory(prefix="civicgrid-restore-") as tmp:
        manifest, secrets, dump = _read_backup(path, Path(tmp))
        if manifest["engine"] != engine:
            raise BackupError(f"this backup is of a {manifest['engine']} database; the configured one is {engine}"
                              " (to move between engines, export and import the registry instead)")
        if _fingerprint(secrets["field_key"]) != manifest.get("field_key_fingerprint"):
            raise BackupError(f"{path}: its keys do not match its manifest; the file is damaged")
        if _holds_data() and not force:
            raise BackupError("the configured database already holds data; restoring replaces all of it: "
                              "run again with --force if that is what you want")
        connections["default"].close()
        if engine == "sqlite":
            target_path = Path(str(db["NAME"]))
            ensure_private_dir(target_path.parent)
            source = sqlite3.connect(str(dump))
            target = sqlite3.connect(str(target_path))
            try:
                source.backup(target)  # replaces every page of the target, atomically
            finally:
                target.close()
                source.close()
            os.chmod(target_path, 0o600)
        else:
            _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-acl", "--single-transaction",
                  f"--dbname={db['NAME']}", str(dump)], _pg_env(db))
    ensure_private_dir(VAR_DIR)
    keys_file = VAR_DIR / "secrets.json"
    write_private(keys_file, json.dumps(secrets))
    with override_settings(CIVICGRID_FIELD_KEY=secrets["field_key"], CIVICGRID_FIELD_KEY_GENERATED=False):
        try:
            check_field_key()
        except FieldKeyError as exc:
            raise BackupError(f"restored, but the backup's key cannot read its own data: {exc}") from None
    overrides = any(os.environ.get(var) and os.environ[var] != secrets[key] for var, key in
                    (("CIVICGRID_FIELD_KEY", "field_key"), ("CIVICGRID_SECRET_KEY", "secret_key")))
    return Restored(engine=engine, created=str(manifest.get("created", "")), keys_written_to=keys_file,
                    environment_overrides=overrides)
