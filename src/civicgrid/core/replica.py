"""Read-heavy analytics on a PostgreSQL read replica (issue 15, beyond one machine).

With ``CIVICGRID_DATABASE_REPLICA_URL`` set, the database alias ``replica`` points at a streaming
replica of the main database and ``settings.CIVICGRID_READ_REPLICA`` names it. Code that only reads, and can live with data a second or two old,
runs inside :func:`replica_reads` (the analytics pages do): every read in that block goes to the
replica, every write still to the main database. Nothing else is routed, so a service that reads what
it has just written never meets replication lag. Without a replica the block changes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings

REPLICA = "replica"
_state = threading.local()


@contextmanager
def replica_reads() -> Iterator[None]:
    """Reads inside go to the replica when one is configured (nests; per thread)."""
    depth = getattr(_state, "depth", 0)
    _state.depth = depth + 1
    try:
        yield
    finally:
        _state.depth = depth


def replica_alias() -> str:
    """The replica's database alias, or "" when none is configured."""
    return str(getattr(settings, "CIVICGRID_READ_REPLICA", "") or "")


class ReplicaRouter:
    """Django database router: reads inside :func:`replica_reads` to the replica, nothing else."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return (replica_alias() or None) if getattr(_state, "depth", 0) else None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the replica holds the same rows as the main database

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return db == "default"  # the replica follows the main database's schema by replication
