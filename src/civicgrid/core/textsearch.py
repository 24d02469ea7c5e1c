"""Substring search ("part of a name, an address, a code") through an index, on either database.

``icontains`` scans the whole table: at a million households every search reads every row. Here the
same question goes through an index built for it:

* PostgreSQL: the ``pg_trgm`` extension and a GIN trigram index (``gin_trgm_ops``) per searched column;
  ``column ILIKE '%part%'`` then becomes a bitmap index scan over the part's trigrams.
* SQLite (3.34 or later, built with FTS5): an FTS5 table with the ``trigram`` tokenizer over the same
  columns, its content read from the table itself (``content=``), kept in step by triggers. Triggers
  run inside the writing statement's transaction, so an import that is rolled back leaves the index
  as it was: all or nothing still holds.

Both index trigrams (three characters), so a part of at least :data:`MIN_LENGTH` characters uses them;
a shorter part cannot, and callers decide what a one- or two-character search means (the registry
narrows it: :func:`civicgrid.registry.selectors.household_list`). Results are the same as a
case-insensitive substring test, whichever database answers; callers never look at the vendor.

A :class:`TextIndex` names a table and its searched columns; the app's migration calls
:func:`install` (and :func:`uninstall` backwards), and :func:`ensure` after every ``migrate`` puts
back SQLite triggers that a table rebuild dropped (Django rebuilds a SQLite table to alter it).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import RawSQL

MIN_LENGTH = 3  # characters: both indexes are made of trigrams


@dataclass(frozen=True)
class TextIndex:
    """The columns of ``table`` searched by substring; ``key`` is the table's integer primary key."""

    table: str
    columns: tuple[str, ...]
    key: str = "id"

    @property
    def fts(self) -> str:
        """The SQLite FTS5 table's name."""
        return f"{self.table}_text"

    def trigram_index(self, column: str) -> str:
        """A PostgreSQL GIN index's name."""
        return f"{self.table}_{column}_trgm"


@dataclass(frozen=True)
class Match:
    """A SELECT of one column (ids) from the rows that match: SQL and its parameters."""

    sql: str
    params: tuple[Any, ...]


@functools.cache
def _sqlite_trigram() -> bool:
    """Whether the SQLite library this process runs has FTS5 with the trigram tokenizer."""
    import sqlite3

    if sqlite3.sqlite_version_info < (3, 34, 0):
        return False
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute("CREATE VIRTUAL TABLE t USING fts5(a, tokenize='trigram')")
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()
    return True


def indexed(connection: BaseDatabaseWrapper | None = None) -> bool:
    """Whether substring searches on this database go through an index (else they scan, still right)."""
    vendor = (connection or default_connection).vendor
    return vendor == "postgresql" or (vendor == "sqlite" and _sqlite_trigram())


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _phrase(text: str) -> str:
    """An FTS5 string: the whole text as one phrase (quotes doubled), so no character is query syntax."""
    return '"' + text.replace('"', '""') + '"'


def contains(index: TextIndex, part: str, *, select: str) -> Match:
    """``select`` of the rows of ``index.table`` where any searched column contains ``part``, ignoring
    case; through the index when ``part`` has at least :data:`MIN_LENGTH` characters."""
    vendor = default_connection.vendor
    if vendor == "sqlite" and len(part) >= MIN_LENGTH and _sqlite_trigram():
        found = f"SELECT rowid FROM {index.fts} WHERE {index.fts} MATCH %s"
        if select == index.key:
            return Match(found, (_phrase(part),))
        return Match(f"SELECT {select} FROM {index.table} WHERE {index.key} IN ({found})", (_phrase(part),))
    like = "ILIKE" if vendor == "postgresql" else "LIKE"  # SQLite's LIKE already ignores (ASCII) case
    where = " OR ".join(f"{column} {like} %s ESCAPE '\\'" for column in index.columns)
    return Match(f"SELECT {select} FROM {index.table} WHERE {where}",
                 tuple(f"%{_like(part)}%" for _ in index.columns))


def starts(table: str, column: str, prefix: str, *, select: str) -> Match:
    """``select`` of the rows of ``table`` whose ``column`` starts with ``prefix`` (case as typed), through
    the column's b-tree index: PostgreSQL's ``LIKE 'x%'`` uses the ``varchar_pattern_ops`` index Django
    adds beside an indexed CharField; SQLite's LIKE ignores case so cannot use a plain index, GLOB can."""
    if default_connection.vendor == "sqlite":
        glob = "".join(f"[{c}]" if c in "*?[" else c for c in prefix)
        return Match(f"SELECT {select} FROM {table} WHERE {column} GLOB %s", (glob + "*",))
    return Match(f"SELECT {select} FROM {table} WHERE {column} LIKE %s ESCAPE '\\'", (_like(prefix) + "%",))


def any_of(matches: list[Match]) -> RawSQL:
    """The union of ``matches`` as one subquery, for ``filter(pk__in=...)``: one index probe per part and
    no OR across tables, which would make the database scan the outer table row by row."""
    return RawSQL(" UNION ".join(m.sql for m in matches), tuple(p for m in matches for p in m.params))


# --- the indexes themselves (migrations) ---------------------------------------------------------------
def _sqlite_triggers(index: TextIndex) -> list[str]:
    cols = ", ".join(index.columns)
    new = ", ".join(f"new.{c}" for c in index.columns)
    old = ", ".join(f"old.{c}" for c in index.columns)
    fts, table, key = index.fts, index.table, index.key
    delete = f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.{key}, {old});"
    insert = f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.{key}, {new});"
    return [
        f"CREATE TRIGGER IF NOT EXISTS {fts}_insert AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_delete AFTER DELETE ON {table} BEGIN {delete} END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_update AFTER UPDATE OF {key}, {cols} ON {table} "
        f"BEGIN {delete} {insert} END",
    ]


def install(connection: BaseDatabaseWrapper, index: TextIndex) -> None:
    """Create the index (idempotent) and fill it from the table's rows."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Not Django's TrigramExtension operation: it imports psycopg (optional here: SQLite-only
            # installs have none) and its backwards step queries pg_extension on SQLite too.
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for column in index.columns:
                cursor.execute(f"CREATE INDEX IF NOT EXISTS {index.trigram_index(column)} ON {index.table} "
                               f"USING gin ({column} gin_trgm_ops)")
        elif connection.vendor == "sqlite" and _sqlite_trigram():
            cursor.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {index.fts} USING fts5({', '.join(index.columns)}, "
                           f"content='{index.table}', content_rowid='{index.key}', tokenize='trigram')")
            for trigger in _sqlite_triggers(index):
                cursor.execute(trigger)
            cursor.execute(f"INSERT INTO {index.fts}({index.fts}) VALUES ('rebuild')")


def uninstall(connection: BaseDatabaseWrapper, index: TextIndex) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for column in index.columns:
                cursor.execute(f"DROP INDEX IF EXISTS {index.trigram_index(column)}")
        elif connection.vendor == "sqlite":
            for suffix in ("insert", "delete", "update"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {index.fts}_{suffix}")
            cursor.execute(f"DROP TABLE IF EXISTS {index.fts}")


def ensure(connection: BaseDatabaseWrapper, index: TextIndex) -> bool:
    """On SQLite, where the migration that installs the index has run: put back triggers a table rebuild
    dropped, or the whole index if this database was migrated by a SQLite without the trigram tokenizer,
    and refill it (it missed any write made meanwhile). True when something was repaired."""
    if connection.vendor != "sqlite" or not _sqlite_trigram():
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT type, name FROM sqlite_master WHERE name LIKE %s", (f"{index.fts}%",))
        present = {name for _type, name in cursor.fetchall()}
    if {index.fts, *(f"{index.fts}_{s}" for s in ("insert", "delete", "update"))} <= present:
        return False
    install(connection, index)
    return True
