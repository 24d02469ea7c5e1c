"""Reading rows by a long list of keys without hitting the database's limit on query parameters.

SQLite refuses a statement with more bound variables than its limit (32,766 by default, less on some
builds), so ``filter(code__in=[...every household of a district...])`` fails once the list passes it,
and PostgreSQL plans a very long ``IN`` list badly. Every lookup by a list that grows with the data
goes through here, in chunks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

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
