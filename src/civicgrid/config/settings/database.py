"""Database: embedded SQLite under var/ by default; PostgreSQL when CIVICGRID_DATABASE_URL is set.

CIVICGRID_DATABASE_URL=postgresql://USER:PASSWORD@HOST:PORT/NAME (host may be a socket directory,
given as ?host=/path), or sqlite:////absolute/path/to/file.sqlite3 for an embedded database elsewhere.

CIVICGRID_DATABASE_REPLICA_URL=postgresql://... a read replica of it: the analytics pages read there
(civicgrid.core.replica); tests point it at the test database itself (TEST MIRROR).
"""

import os
from urllib.parse import parse_qs, unquote, urlparse

from civicgrid.config.settings.paths import VAR_DIR, ensure_private_dir


def database_from_url(url: str) -> dict[str, object]:
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        return _sqlite(unquote(parsed.path))
    if parsed.scheme not in {"postgres", "postgresql"}:
        raise ValueError(f"CIVICGRID_DATABASE_URL must be postgresql://..., got scheme {parsed.scheme!r}")
    query = parse_qs(parsed.query)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parsed.path.lstrip("/"),
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": query.get("host", [parsed.hostname or ""])[0],
        "PORT": query.get("port", [str(parsed.port or "")])[0],
        "ATOMIC_REQUESTS": False,
        # seconds a connection is kept between requests: the production server (config/gunicorn.py) keeps
        # each worker's for 300 s (a new one costs a server process and a handshake per request); checked
        # before reuse, so a restarted database is reconnected to. 0 (one per request) elsewhere.
        "CONN_MAX_AGE": int(os.environ.get("CIVICGRID_DATABASE_CONN_MAX_AGE", "0")),
        "CONN_HEALTH_CHECKS": True,
    }


def _sqlite(name: object) -> dict[str, object]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
        # WAL lets page reads go on while an import writes; the timeout waits out short locks.
        "OPTIONS": {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"},
    }


_url = os.environ.get("CIVICGRID_DATABASE_URL", "")
if _url:
    DATABASES = {"default": database_from_url(_url)}
else:
    ensure_private_dir(VAR_DIR)  # the embedded database needs its folder, private (0700)
    DATABASES = {"default": {**_sqlite(VAR_DIR / "civicgrid.sqlite3"), "TEST": {"NAME": VAR_DIR / "test.sqlite3"}}}

_replica = os.environ.get("CIVICGRID_DATABASE_REPLICA_URL", "")
CIVICGRID_READ_REPLICA = "replica" if _replica else ""
if _replica:
    DATABASES["replica"] = {**database_from_url(_replica), "TEST": {"MIRROR": "default"}}
DATABASE_ROUTERS = ["civicgrid.core.replica.ReplicaRouter"]
