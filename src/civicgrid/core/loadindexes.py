"""Indexes built after a bulk load into empty tables (PostgreSQL), as PostgreSQL's manual advises for
populating a database ("Remove Indexes", "Remove Foreign Key Constraints").

A row inserted into a table with twenty indexes updates twenty indexes one entry at a time, in key order
that is random for most of them (digests, names), so once an index outgrows the server's buffers nearly
every insert touches a page that is not in memory; a trigram index adds dozens of entries per row. Building
the same index over rows already in the table reads them once and sorts them. A foreign key checks each
inserted row with one query at commit; added afterwards, it checks every row with one join.

:func:`built_after` does this only where it costs nobody else anything they could have had:

* PostgreSQL only, inside the caller's transaction, and only when every table given is **empty** and can
  be locked at once (``LOCK TABLE ... IN ACCESS EXCLUSIVE MODE NOWAIT``:
  :func:`civicgrid.core.locking.tables_locked_if_free`). The lock is held until the transaction ends: a
  reader of these tables waits until the load commits, but they hold no rows yet, so it waits for no
  other district's data; a load into tables that already hold rows never takes this path (it would
  make every reader of those rows wait), nor does one that finds a reader at that moment.
* What is dropped: every index of the tables that backs no constraint (not the primary key, not a
  ``UNIQUE`` constraint: those stay, checked row by row, and the loader may look rows up by them); and
  the foreign keys **between** the given tables (one to another table would need that table locked as
  well, so those stay and are checked row by row). A unique index that backs no constraint (a partial one) is among those dropped: built again,
  it checks every row, so a repeated value still fails the load; the loader must not rely on it while
  loading.
* When the block ends without an error, the remaining foreign keys' pending checks of these tables are
  run (an index cannot be built on a table with pending trigger events), then every index is created
  again from its own definition (``pg_get_indexdef``: same name, method, operator class and predicate)
  and every foreign key added again from its own (``pg_get_constraintdef``: same name, deferrability),
  which checks every row. The schema is then exactly what it was. On an error the caller's transaction
  rolls back, the drops with it: all or nothing still holds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Model

from civicgrid.core.locking import tables_locked_if_free

BUILD_MEMORY = "256MB"  # maintenance_work_mem for the builds (a sort in memory instead of on disk)


@dataclass
class Dropped:
    """What :func:`built_after` took off and puts back."""

    indexes: list[tuple[str, str]] = field(default_factory=list)  # (name, CREATE INDEX statement)
    foreign_keys: list[tuple[str, str, str]] = field(default_factory=list)  # (table, name, definition)


@contextmanager
def built_after(models: Sequence[type[Model]]) -> Iterator[bool]:
    """Inside, True when the secondary indexes of ``models``' (empty) tables are off until the block ends
    (see the module); False when nothing was changed (another database, a table with rows, a lock held
    by someone else)."""
    if connection.vendor != "postgresql" or not _empty(models) or not tables_locked_if_free(list(models)) \
            or not _empty(models):
        yield False
        return
    dropped = _drop(models)
    yield True
    _restore(models, dropped)


def _empty(models: Sequence[type[Model]]) -> bool:
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {connection.ops.quote_name(model._meta.db_table)})")  # noqa: S608
            if cursor.fetchone()[0]:
                return False
    return True


def _oids(cursor: Any, models: Sequence[type[Model]]) -> list[int]:
    cursor.execute("SELECT to_regclass(t)::oid FROM unnest(%s::text[]) AS t",
                   [[connection.ops.quote_name(m._meta.db_table) for m in models]])
    return [int(r[0]) for r in cursor.fetchall()]


def _drop(models: Sequence[type[Model]]) -> Dropped:
    out = Dropped()
    with connection.cursor() as cursor:
        oids = _oids(cursor, models)
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = ANY(%s) AND NOT i.indisprimary "
            "  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
            "ORDER BY i.indexrelid", [oids])
        out.indexes = [(name, definition) for name, definition in cursor.fetchall()]
        cursor.execute(
            "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = ANY(%s) AND confrelid = ANY(%s) ORDER BY oid", [oids, oids])
        out.foreign_keys = [(t, n, d) for t, n, d in cursor.fetchall()]
        for table, name, _definition in out.foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        if out.indexes:
            cursor.execute(f"DROP INDEX {', '.join(name for name, _d in out.indexes)}")
    return out


def _restore(models: Sequence[type[Model]], dropped: Dropped) -> None:
    with connection.cursor() as cursor:
        oids = _oids(cursor, models)
        # the checks the other foreign keys queued for the loaded rows, run now, then each back as it was
        cursor.execute("SELECT quote_ident(conname), condeferred FROM pg_constraint "
                       "WHERE contype = 'f' AND condeferrable AND conrelid = ANY(%s)", [oids])
        deferrable = cursor.fetchall()
        if deferrable:
            cursor.execute(f"SET CONSTRAINTS {', '.join(n for n, _d in deferrable)} IMMEDIATE")
            later = [n for n, deferred in deferrable if deferred]
            if later:
                cursor.execute(f"SET CONSTRAINTS {', '.join(later)} DEFERRED")
        cursor.execute(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
        for _name, definition in dropped.indexes:
            cursor.execute(definition)
        for table, name, definition in dropped.foreign_keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
