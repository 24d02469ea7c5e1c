"""A district round's frozen snapshot is a JSON value of some 150 MB at a million requests; PostgreSQL compresses
such a value with its own pglz by default, which took most of the half minute its INSERT cost. lz4 (PostgreSQL 14+,
when the server was built with it: Debian's is) compresses several times faster at a similar size. Other databases,
and servers without lz4, are left as they are."""

from __future__ import annotations

from typing import Any

from django.db import migrations

COLUMNS = ("snapshot", "result", "metrics")


def _lz4(apps: Any, schema_editor: Any, method: str = "lz4") -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND %s = ANY(enumvals)",
                       [method])
        if cursor.fetchone() is None:
            return
        changes = ", ".join(f"ALTER COLUMN {connection.ops.quote_name(c)} SET COMPRESSION {method}" for c in COLUMNS)
        cursor.execute(f"ALTER TABLE relief_allocationround {changes}")


def _pglz(apps: Any, schema_editor: Any) -> None:
    _lz4(apps, schema_editor, method="pglz")


class Migration(migrations.Migration):
    dependencies = [("relief", "0002_input_bounds")]
    operations = [migrations.RunPython(_lz4, _pglz)]
