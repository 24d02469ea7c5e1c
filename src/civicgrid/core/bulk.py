"""Reading rows by a long list of keys without hitting the database's limit on query parameters.

SQLite refuses a statement with more bound variables than its limit (32,766 by default, less on some
builds), so ``filter(code__in=[...every household of a district...])`` fails once the list passes it,
and PostgreSQL plans a very long ``IN`` list badly. Every lookup by a list that grows with the data
goes through here, in chunks.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
    parsed by pandas' C reader (exactly: its default parser since pandas 3); SQLite's rows come through the driver. Text is kept as Python ``str`` (object
    columns); NULL only in columns of other types (CSV's empty field)."""
    names = list(columns)
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        raw = columns_of(queryset, names)
        return pd.DataFrame({name: _typed(raw[name], kind) for name, kind in columns.items()})
    sql, params = queryset.query.get_compiler(queryset.db).as_sql()
    data = io.BytesIO()
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)",
                                                           params) as copy:
        for block in copy:
            data.write(block)
    data.seek(0)
    if not data.getbuffer().nbytes:
        return pd.DataFrame({name: _typed([], kind) for name, kind in columns.items()})
    dtypes = {name: {"int": "int64", "float": "float64"}.get(kind, object) for name, kind in columns.items()}
    text = [name for name, kind in columns.items() if kind == "text"]
    frame = pd.read_csv(data, header=None, names=names, dtype=dtypes, keep_default_na=False,
                        na_values={name: [""] for name in names if name not in text})
    return frame


def _typed(values: list[Any], kind: str) -> Any:
    if kind == "int":
        return np.array(values, dtype=np.int64)
    if kind == "float":
        return np.array(values, dtype=np.float64)
    return pd.Series(values, dtype=object)


def insert_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
                using: str = DEFAULT_DB_ALIAS) -> int:
    """Insert ``rows`` (values in the order of ``columns``, database column names of ``model``) in one statement;
    returns how many. No model ``save()``, no signals: the caller has checked the values and the schema's
    constraints hold them (a violation fails the caller's transaction)."""
    connection = connections[using]
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        return copy_rows(connection, table, columns, rows)
    qn = connection.ops.quote_name
    sql = (f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) "
           f"VALUES ({', '.join(['%s'] * len(columns))})")
    rows = rows if isinstance(rows, list) else list(rows)
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
    return len(rows)


def copy_rows(connection: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """PostgreSQL: ``COPY table (columns) FROM STDIN``, rows sent by psycopg 3 (text format, its C dumpers)."""
    qn = connection.ops.quote_name
    count = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the driver's own cursor: COPY is not part of the DB-API
        with raw.copy(f"COPY {qn(table)} ({', '.join(qn(c) for c in columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


def update_rows(model: type[Model], *, key: str, columns: Sequence[str], rows: Iterable[Sequence[Any]],
                using: str = DEFAULT_DB_ALIAS) -> int:
    """``UPDATE table SET columns... WHERE key = ...`` for each of ``rows`` (new values in the order of ``columns``,
    the key last), sent as one ``executemany``."""
    connection = connections[using]
    qn = connection.ops.quote_name
    sql = (f"UPDATE {qn(model._meta.db_table)} SET {', '.join(f'{qn(c)} = %s' for c in columns)} "
           f"WHERE {qn(key)} = %s")
    rows = rows if isinstance(rows, list) else list(rows)
    if rows:
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
    return len(rows)
