"""Database functions the ORM has no portable native form of (one place, for every app)."""

from __future__ import annotations

from typing import Any

from django.db.models import FloatField, Func


class SecondsBetween(Func):
    """``end - start`` in seconds (a float), computed by the database itself. Django's own difference of
    two datetimes calls back into Python for every row on SQLite (``django_timestamp_diff``), which took
    over a second for 50,000 cases; ``julianday`` is SQLite's native clock (resolution well under a
    millisecond at today's dates) and PostgreSQL extracts the epoch of the interval."""

    arity = 2
    output_field = FloatField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, template="EXTRACT(EPOCH FROM (%(expressions)s))",
                              arg_joiner=" - ", **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, template="((julianday(%(expressions)s)) * 86400.0)",
                              arg_joiner=") - julianday(", **extra)
