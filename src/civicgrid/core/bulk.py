"""Reading rows by a long list of keys without hitting the database's limit on query parameters.

SQLite refuses a statement with more bound variables than its limit (32,766 by default, less on some
builds), so ``filter(code__in=[...every household of a district...])`` fails once the list passes it,
and PostgreSQL plans a very long ``IN`` list badly. Every lookup by a list that grows with the data
goes through here, in chunks.
"""

from __future__ import annotations

import gc
import io
import operator
import queue
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet

CHUNK = 900  # keys per statement: under SQLite's smallest limit (999, older builds); a few thousand trips at 1M


def chunks(values: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    """``values`` (deduplicated, order kept) in lists of at most ``size``."""
    batch: list[Any] = []
    for value in dict.fromkeys(values):
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def mapping_in(queryset: QuerySet[Model], *, field: str, values: Iterable[Any], key: str, value: str) -> dict[Any, Any]:
    """``{row.key: row.value}`` over the rows of ``queryset`` whose ``field`` is one of ``values``."""
    out: dict[Any, Any] = {}
    for batch in chunks(values):
        out.update(queryset.filter(**{f"{field}__in": batch}).values_list(key, value))
    return out


def rows_in(queryset: QuerySet[Model], *, field: str, values: Iterable[Any], columns: list[str]) -> list[dict[str, Any]]:
    """The ``columns`` of the rows of ``queryset`` whose ``field`` is one of ``values``, as dicts."""
    out: list[dict[str, Any]] = []
    for batch in chunks(values):
        out.extend(queryset.filter(**{f"{field}__in": batch}).values(*columns))
    return out


def int_array(values: Iterable[int]) -> str:
    """``values`` in PostgreSQL's text form of an integer array (``{1,2,3}``), for a statement that casts it
    (``%s::bigint[]``). psycopg dumps a list element by element in Python: a district round's two arrays of a
    million keys took 0.9 s, while the server waited; ``join`` does it in C."""
    return "{" + ",".join(map(str, map(operator.index, values))) + "}"  # index: a float or text is refused


def present(model: type[Model], field: str, values: list[Any]) -> set[Any]:
    """Which of ``values`` some row of ``model`` holds in ``field`` (an indexed column): on PostgreSQL one
    query with the values as one array parameter (``= ANY``), elsewhere in chunks."""
    from django.db import connection

    if not values:
        return set()
    if connection.vendor == "postgresql":
        table, (column,) = table_columns(model, [field])
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT DISTINCT {column} FROM {table} WHERE {column} = ANY(%s)", [list(values)])  # noqa: S608
            return {r[0] for r in cursor.fetchall()}
    found: set[Any] = set()
    for batch in chunks(values):
        found.update(model._default_manager.filter(**{f"{field}__in": batch}).values_list(field, flat=True))
    return found


# --- writing many rows ------------------------------------------------------------------------------
WRITE_BATCH = 10_000  # rows per executemany on SQLite


def table_columns(model: type[Model], attnames: Iterable[str]) -> tuple[str, list[str]]:
    """The quoted table name and column names of ``model``'s fields given by attname."""
    from django.db import connection

    quote = connection.ops.quote_name
    fields = {f.attname: f for f in model._meta.concrete_fields}
    return quote(model._meta.db_table), [quote(str(fields[a].column)) for a in attnames]


def copy_rows(model: type[Model], attnames: list[str], rows: Iterable[tuple[Any, ...]], *,
              binary: bool = False) -> int:
    """Insert ``rows`` (tuples of database-ready values, in the order of ``attnames``) into ``model``'s
    table in the current transaction: ``COPY ... FROM STDIN`` on PostgreSQL, ``executemany`` in batches
    of :data:`WRITE_BATCH` on SQLite. No model code runs (no ``save``, no ``pre_save``, no signals): the
    caller hands finished values (encrypted, digested, dates as dates); the schema's constraints still
    hold (a violation fails the transaction). Returns the number of rows.

    ``binary``: on PostgreSQL, COPY's binary format, each column sent as its own type (read from the catalogue),
    so the server parses no text: 0.6 s less of its CPU for a district round's million allocations. Every value
    must then be of its column's Python type (an ``int`` for an integer, a ``datetime`` for a timestamp; text
    COPY would also take ``"5"``): for the bulk writers of numbers and text, not for values as forms give them.
    The driver packs an integer into its column's width without a check (70,000 in a smallint arrives as 4,464),
    so each value of a smallint or integer column is checked here (and a ``bool`` refused) before it is sent:
    an out-of-range value raises ``DataError``, as the server does for text COPY, and nothing is written."""
    from django.db import connection

    table, columns = table_columns(model, attnames)
    n = 0
    # the driver's errors as Django's (a violated constraint is an IntegrityError, as through the ORM)
    with connection.wrap_database_errors, connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            types: list[int] = []
            if binary:
                cursor.execute("SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass "
                               "AND attnum > 0 AND NOT attisdropped", [model._meta.db_table])
                oids = dict(cursor.fetchall())
                fields = {f.attname: f for f in model._meta.concrete_fields}
                types = [int(oids[str(fields[a].column)]) for a in attnames]
            form = " (FORMAT BINARY)" if binary else ""
            checks = [(i, *_INT_RANGES[t]) for i, t in enumerate(types) if t in _INT_RANGES]
            if checks:
                rows = _in_range(rows, checks, attnames)
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN{form}") as copy:
                if types:
                    copy.set_types(types)
                for row in rows:
                    copy.write_row(row)
                    n += 1
            return n
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('%s' for _ in columns)})"  # noqa: S608
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == WRITE_BATCH:
                cursor.executemany(sql, batch)
                n += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            n += len(batch)
    return n


_INT_RANGES = {21: (-(2**15), 2**15 - 1), 23: (-(2**31), 2**31 - 1)}  # smallint, integer (by type oid)


def _in_range(rows: Iterable[tuple[Any, ...]], checks: list[tuple[int, int, int]], names: list[str]
              ) -> Iterator[tuple[Any, ...]]:
    """``rows`` as they are, once each value of the ``checks`` columns (position, lowest, highest) is an integer
    within them (or NULL); else ``DataError`` naming the column."""
    from django.db import DataError

    for row in rows:
        for i, low, high in checks:
            value = row[i]
            if value is not None and (type(value) is bool or not low <= value <= high):
                raise DataError(f"{names[i]}: {value!r} is out of range for its column")
        yield row


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the block (then back as it was), for a bulk load.

    A load makes millions of short-lived lists and tuples (a row's cells, a batch's rows) and keeps large
    structures alive meanwhile; each time enough containers have survived, the collector walks every tracked
    object of the process, Django's included, looking for reference cycles the load does not make. Measured on
    a registry import of 100,000 households: a quarter of its Python CPU time. Reference counting still frees
    everything as usual; the collector is process-wide, so other threads' cycles wait until the block ends."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class IdBlock:
    """Primary keys for rows a bulk writer inserts itself (so that other rows can refer to them before
    they are read back). PostgreSQL: taken from the table's own sequence, so concurrent inserts never
    collide; SQLite: after the largest key in use (the whole database is locked by the writing
    transaction, so nobody else inserts meanwhile; SQLite moves the table's AUTOINCREMENT counter past
    an explicit key by itself)."""

    def __init__(self, model: type[Model], *, exclusive: bool = False):
        from django.db import connection

        self.model, self.vendor = model, connection.vendor
        self.table, (self.pk,) = table_columns(model, [str(model._meta.pk.attname)])  # type: ignore[union-attr]
        self.next = 0
        self.sequence = ""  # PostgreSQL: the table's key sequence, named on first use
        # ``exclusive``: the caller's transaction holds the table in ACCESS EXCLUSIVE mode (a first load,
        # core.loadindexes), so no other session can insert into it (an INSERT takes its table lock before its
        # default calls nextval) until we commit: keys are counted on from the sequence's next value in
        # memory, and :meth:`close` moves the sequence past the last one: no round trip per batch.
        self.exclusive = exclusive and self.vendor == "postgresql"
        if self.exclusive:
            with connection.cursor() as cursor:
                # counting keys in memory is only safe under the table lock: refuse loudly without it
                cursor.execute("SELECT 1 FROM pg_locks WHERE locktype = 'relation' AND relation = %s::regclass "
                               "AND mode = 'AccessExclusiveLock' AND granted AND pid = pg_backend_pid()",
                               [model._meta.db_table])
                if cursor.fetchone() is None:
                    raise RuntimeError(f"IdBlock(exclusive=True) needs {model._meta.db_table} locked "
                                       "in ACCESS EXCLUSIVE mode by this transaction")
                cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s))",
                               [model._meta.db_table, model._meta.pk.column])  # type: ignore[union-attr]
                self.next = self.first = int(cursor.fetchone()[0])
        elif self.vendor != "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COALESCE(MAX({self.pk}), 0) FROM {self.table}")  # noqa: S608
                top = int(cursor.fetchone()[0])
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [model._meta.db_table])
                found = cursor.fetchone()
            self.next = max(top, int(found[0]) if found else 0) + 1

    def take(self, n: int) -> list[int]:
        from django.db import connection

        if n <= 0:
            return []
        if self.vendor == "postgresql" and not self.exclusive:
            with connection.cursor() as cursor:
                if not self.sequence:
                    cursor.execute("SELECT pg_get_serial_sequence(%s, %s)",
                                   [self.model._meta.db_table, self.model._meta.pk.column])  # type: ignore[union-attr]
                    self.sequence = str(cursor.fetchone()[0])
                # the sequence named once: ``nextval(pg_get_serial_sequence(...))`` looked it up in the catalogue
                # for every key (1.2 s of server CPU for a district round's 570,000 stops, against 0.13 s)
                cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [self.sequence, n])
                return [int(r[0]) for r in cursor.fetchall()]
        out = list(range(self.next, self.next + n))
        self.next += n
        return out

    def close(self) -> None:
        """After the last :meth:`take` of an ``exclusive`` block: the sequence's next value follows its keys."""
        from django.db import connection

        if self.exclusive and self.next > self.first:
            with connection.cursor() as cursor:
                # never backwards, whatever happened to the sequence meanwhile
                cursor.execute("SELECT setval(pg_get_serial_sequence(%s, %s), GREATEST(%s, pg_sequence_last_value("
                               "pg_get_serial_sequence(%s, %s)::regclass)))",
                               [self.model._meta.db_table, self.model._meta.pk.column,  # type: ignore[union-attr]
                                self.next - 1, self.model._meta.db_table,
                                self.model._meta.pk.column])  # type: ignore[union-attr]


class CopyWriter:
    """:func:`copy_rows` a batch at a time, overlapped with the caller's work on PostgreSQL: each batch is
    sent by one background thread over the same connection (so in the same transaction; psycopg
    serialises the connection, so the caller's own queries wait for a batch in flight) while the caller
    prepares the next one. Elsewhere (SQLite) batches are written in the caller's thread. Use as a
    context manager: leaving it waits for the last batch and raises its error, if any."""

    def __init__(self) -> None:
        from django.db import connection

        self.threaded = connection.vendor == "postgresql"
        self.pending: Any = None
        self.pool: Any = None
        if self.threaded:
            from concurrent.futures import ThreadPoolExecutor

            connection.ensure_connection()
            self.raw = connection.connection
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="copy")

    def write(self, model: type[Model], attnames: list[str], rows: list[tuple[Any, ...]]) -> None:
        if not self.threaded:
            copy_rows(model, attnames, rows)
            return
        self.wait()
        table, columns = table_columns(model, attnames)
        self.pending = self.pool.submit(_copy_raw, self.raw, f"COPY {table} ({', '.join(columns)}) FROM STDIN", rows)

    def wait(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def __enter__(self) -> CopyWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self.wait()
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True)


def _copy_raw(raw: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


# --------------------------------------------------------------------------- whole tables at once
# A district's round reads a million rows and writes as many: through the ORM that is a Python object (and a
# converter call per value) for every row read and a parameter list per row written. These read a query's rows
# straight from the driver into columns and write rows in one statement: PostgreSQL's COPY (psycopg 3
# ``cursor.copy``), one ``executemany`` on SQLite.


def columns_of(queryset: QuerySet[Any], names: Sequence[str]) -> dict[str, list[Any]]:
    """The rows of a ``values_list`` queryset as one list per column, named ``names``, read in one query without
    Django's per-value converters: values come as the driver gives them (SQLite: datetimes as text, booleans as
    0/1; PostgreSQL: Python values). A ``select_for_update`` queryset locks its rows as usual."""
    sql, params = queryset.query.get_compiler(queryset.db).as_sql()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return {name: [] for name in names}
    if len(rows[0]) != len(names):
        raise ValueError(f"{len(names)} names for {len(rows[0])} columns")
    return {name: list(column) for name, column in zip(names, zip(*rows, strict=True), strict=True)}


def read_frame(queryset: QuerySet[Any], columns: Mapping[str, str]) -> pd.DataFrame:
    """The rows of a ``values_list`` queryset as a frame, in one statement: ``columns`` names each selected
    column and its type (``int``, ``float`` or ``text``; anything else is read as the driver gives it, e.g.
    instants: SQLite's converter gives naive UTC datetimes, PostgreSQL's text ``2026-11-29 08:00:00.12+00``).

    PostgreSQL sends the rows as CSV through ``COPY (query) TO STDOUT`` (floats in their shortest exact form),
    parsed by pandas' C reader (exactly: its default parser since pandas 3) while they arrive: a second thread
    takes them from libpq (:func:`_copy_out_into`) as the server makes them, and the reader parses each block
    already taken. Measured on a round's million needs: 3.2-3.5 s against 3.8-4.5 s reading everything first.
    A value the types refuse raises once the rest has been read (and not kept); an interrupt also cancels the
    query. Text is kept as Python ``str`` (object columns); NULL only in columns of other types (CSV's empty
    field). SQLite's rows come through the driver."""
    names = list(columns)
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        raw = columns_of(queryset, names)
        return pd.DataFrame({name: _typed(raw[name], kind) for name, kind in columns.items()})
    sql, params = queryset.query.get_compiler(queryset.db).as_sql()
    dtypes = {name: {"int": "int64", "float": "float64"}.get(kind, object) for name, kind in columns.items()}
    text = [name for name, kind in columns.items() if kind == "text"]
    frame: pd.DataFrame | None = None
    with connection.wrap_database_errors, connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
        blocks: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        failed: list[BaseException] = []
        dropping = threading.Event()  # set once the parse has stopped: the reader reads on but keeps nothing
        canceller = copy.connection.pgconn.get_cancel()
        # the connection is the reader's until it has seen the COPY's end: nothing here touches it before the
        # reader is joined, whatever stops the parse (psycopg's clean-up and the rollback would use it too)
        reader = threading.Thread(target=_copy_out_into, args=(copy, blocks, failed, dropping),
                                  name="civicgrid-copy-out", daemon=True)
        reader.start()
        stopped: BaseException | None = None
        try:
            frame = pd.read_csv(io.BufferedReader(_Blocks(blocks), buffer_size=_BLOCK), header=None, names=names,
                                dtype=dtypes, keep_default_na=False,
                                na_values={name: [""] for name in names if name not in text})
        except pd.errors.EmptyDataError:  # no rows at all
            frame = None
        except BaseException as exc:  # noqa: BLE001 - raised below, once the reader is done
            stopped = exc
            dropping.set()
            if not isinstance(exc, Exception):  # an interrupt (Ctrl-C, exit): the server stops its query too
                canceller.cancel()
        interrupted = _joined(reader, canceller)
        if interrupted is not None:
            raise interrupted
        if stopped is not None:  # a value the columns' types refuse; the COPY was read to its end, unkept
            raise stopped
        if failed:  # the server's own error: the rows stopped short of it
            raise failed[0]
    if frame is None:
        return pd.DataFrame({name: _typed([], kind) for name, kind in columns.items()})
    return frame


def _joined(reader: threading.Thread, canceller: Any) -> BaseException | None:
    """Wait for ``reader`` to end, however often the wait is interrupted (each interrupt cancels the server's
    query, so the reader meets the end soon); the first interrupt, if any."""
    interrupted: BaseException | None = None
    while reader.is_alive():
        try:
            reader.join()
        except BaseException as again:  # noqa: BLE001 - raised by the caller once the reader is done
            canceller.cancel()
            interrupted = interrupted or again
    return interrupted


_BLOCK = 1 << 20  # bytes handed from the reading thread to the parser at a time


class _Blocks(io.RawIOBase):
    """The blocks a :func:`_copy_out_into` thread puts in ``blocks``, read as one stream (None ends it). A block
    is whole rows; a read takes as much of it as the caller's buffer holds."""

    def __init__(self, blocks: queue.SimpleQueue[bytes | None]) -> None:
        self.blocks, self.block, self.at, self.ended = blocks, memoryview(b""), 0, False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self.at >= len(self.block) and not self.ended:
            block = self.blocks.get()
            if block is None:
                self.ended = True
            else:
                self.block, self.at = memoryview(block), 0
        n = min(len(buffer), len(self.block) - self.at)
        buffer[:n] = self.block[self.at:self.at + n]
        self.at += n
        return n


def _copy_out_into(copy: Any, blocks: queue.SimpleQueue[bytes | None], failed: list[BaseException],
                   dropping: threading.Event) -> None:
    """Every row of a ``COPY ... TO STDOUT`` that psycopg has started, put in ``blocks`` about :data:`_BLOCK`
    bytes at a time (whole rows), then None; an error (the server's, met mid-way) is appended to ``failed``
    first. Once ``dropping`` is set (the parse has stopped) the rows are still read to the end, so that the
    connection is left after its COPY, but not kept.

    PostgreSQL sends one message per row. Reading them one by one through psycopg's ``Copy.read`` cost about
    3 us each in its wait loop, 3 s of a million-row read. Here the rows already received are taken straight
    from libpq, and psycopg is asked only when nothing is buffered (it waits outside the GIL, so the parser runs
    meanwhile). When libpq reports the end, its final result is read here too. That result can be an error
    raised mid-way, such as a lock timeout."""
    import psycopg
    from psycopg import pq

    pgconn = copy.connection.pgconn
    parts: list[bytes] = []
    size = 0
    try:
        while True:
            nbytes, block = pgconn.get_copy_data(1)  # 1: never blocks; 0 when nothing is buffered
            if nbytes > 0:
                parts.append(bytes(block))
                size += nbytes
            elif nbytes == 0:
                if parts:  # what has arrived goes to the parser before this thread waits
                    _hand_over(blocks, parts, dropping)
                    parts, size = [], 0
                waited = copy.read()  # psycopg waits for the next row; b"" once it has read the end itself
                if not waited:
                    break
                parts.append(bytes(waited))
                size += len(waited)
            else:  # -1: the end, seen here: its result (and any after it) is ours to read
                error: Exception | None = None
                while (result := pgconn.get_result()) is not None:
                    if error is None and result.status not in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.COPY_OUT):
                        # the error's own class (a lock timeout stays an OperationalError, as through execute)
                        state = (result.error_field(pq.DiagnosticField.SQLSTATE) or b"").decode()
                        try:
                            kind: type[Exception] = psycopg.errors.lookup(state)
                        except KeyError:
                            kind = psycopg.DatabaseError
                        error = kind(result.error_message.decode(errors="replace").strip())
                if error is not None:
                    raise error
                break
            if size >= _BLOCK:
                _hand_over(blocks, parts, dropping)
                parts, size = [], 0
        if parts:
            _hand_over(blocks, parts, dropping)
    except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, which raises it
        failed.append(exc)
    finally:
        blocks.put(None)


def _hand_over(blocks: queue.SimpleQueue[bytes | None], parts: list[bytes], dropping: threading.Event) -> None:
    if not dropping.is_set():
        blocks.put(b"".join(parts))


def _typed(values: list[Any], kind: str) -> Any:
    if kind == "int":
        return np.array(values, dtype=np.int64)
    if kind == "float":
        return np.array(values, dtype=np.float64)
    return pd.Series(values, dtype=object)


def insert_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
                using: str = DEFAULT_DB_ALIAS, binary: bool = False) -> int:
    """Insert ``rows`` (values in the order of ``columns``, database column names of ``model``) through the one
    bulk insert path, :func:`copy_rows` (COPY on PostgreSQL, executemany on SQLite); returns how many."""
    if using != DEFAULT_DB_ALIAS:
        raise ValueError("bulk inserts go to the default database")
    attname = {f.column: f.attname for f in model._meta.concrete_fields}
    return copy_rows(model, [attname[c] for c in columns], (tuple(r) for r in rows), binary=binary)


def update_rows(model: type[Model], *, key: str, columns: Sequence[str], rows: Iterable[Sequence[Any]],
                using: str = DEFAULT_DB_ALIAS) -> int:
    """``UPDATE table SET columns... WHERE key = ...`` for each of ``rows`` (new values in the order of ``columns``,
    the key last). On PostgreSQL, when no key repeats, one statement joining the table to the rows sent as one
    array per column (``UPDATE ... FROM unnest(...)``: an alert's chunk of 2,000 results in ~10 ms instead of
    ~100 ms); otherwise one ``executemany`` (each row in turn: a repeated key ends with its last row)."""
    connection = connections[using]
    qn = connection.ops.quote_name
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return 0
    table = qn(model._meta.db_table)
    if connection.vendor == "postgresql" and len({row[-1] for row in rows}) == len(rows):
        by_column = {str(f.column): f for f in model._meta.concrete_fields}
        names = [*columns, key]
        arrays = [f"%s::{by_column[c].db_type(connection)}[]" for c in names]
        sql = (f"UPDATE {table} SET {', '.join(f'{qn(c)} = v.{qn(c)}' for c in columns)} "  # noqa: S608
               f"FROM unnest({', '.join(arrays)}) AS v({', '.join(qn(c) for c in names)}) "
               f"WHERE {table}.{qn(key)} = v.{qn(key)}")
        with connection.cursor() as cursor:
            cursor.execute(sql, [list(values) for values in zip(*rows, strict=True)])
        return len(rows)
    sql = f"UPDATE {table} SET {', '.join(f'{qn(c)} = %s' for c in columns)} WHERE {qn(key)} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    return len(rows)


def refresh_statistics() -> None:
    """Let the query planner see the data written in bulk (after an import, after the demo's loaders).

    SQLite keeps no statistics until ``ANALYZE`` runs: without them it guessed that a grid's open needs are
    best found through the needs' status index (every open need of the district, 243 ms at 100,000
    households) rather than through the grid's households (1 ms). ``analysis_limit`` bounds the rows each
    index is sampled on, so this takes about a second whatever the size. PostgreSQL analyses by itself
    (autovacuum), but only some time after a load: a bulk load is analysed at once."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA analysis_limit = 2000")
            cursor.execute("ANALYZE")
        elif connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
