"""Liveness and readiness, for a load balancer, systemd or an orchestrator (no login, no detail).

``/healthz``: the process answers (touches nothing else). ``/readyz``: the database answers, every
migration is applied and the field key reads the stored data (:func:`civicgrid.core.crypto.check_field_key`).
The answer names each check and ``ok`` or a one-word state; the reasons go to the log only.
"""

from __future__ import annotations

import logging

from django.db import connection

log = logging.getLogger("civicgrid.health")

_migrated = False  # once every migration is applied, it stays so for this process


def readiness() -> tuple[bool, dict[str, str]]:
    checks = {"database": _database(), "migrations": "unknown", "field_key": "unknown"}
    if checks["database"] == "ok":
        checks["migrations"] = _migrations()
        checks["field_key"] = _field_key()
    return all(v == "ok" for v in checks.values()), checks


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        log.warning("readiness: database unreachable", exc_info=True)
        return "unreachable"
    return "ok"


def _migrations() -> str:
    global _migrated
    if _migrated:
        return "ok"
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:
        log.warning("readiness: migrations could not be read", exc_info=True)
        return "error"
    if pending:
        log.warning("readiness: %d migration(s) not applied", len(pending))
        return "pending"
    _migrated = True
    return "ok"


def _field_key() -> str:
    from civicgrid.core.crypto import FieldKeyError, check_field_key

    try:
        check_field_key()
    except FieldKeyError:
        log.error("readiness: the field key cannot read the stored data", exc_info=True)
        return "unreadable"
    except Exception:
        log.warning("readiness: the field key check failed", exc_info=True)
        return "error"
    return "ok"
