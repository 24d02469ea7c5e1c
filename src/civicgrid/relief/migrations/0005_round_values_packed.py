"""A round's snapshot and result stored compressed (:mod:`civicgrid.core.packed`): PostgreSQL's jsonb refuses a
value over 256 MB, which a district round of about 1.7 million requests reaches. Existing rounds are rewritten
value for value (the Python values are the same before and after; the reverse restores the JSON columns)."""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

import civicgrid.core.packed

COLUMNS = ("snapshot", "result")


def _copy(apps: Any, schema_editor: Any, source: str, target: str) -> None:
    AllocationRound = apps.get_model("relief", "AllocationRound")
    for pk in AllocationRound.objects.values_list("pk", flat=True).iterator():  # one round in memory at a time
        row = AllocationRound.objects.only(*(f"{c}{source}" for c in COLUMNS)).get(pk=pk)
        AllocationRound.objects.filter(pk=pk).update(**{f"{c}{target}": getattr(row, f"{c}{source}") for c in COLUMNS})


def forwards(apps: Any, schema_editor: Any) -> None:
    _copy(apps, schema_editor, "", "_packed")


def backwards(apps: Any, schema_editor: Any) -> None:
    _copy(apps, schema_editor, "_packed", "")


def _storage(apps: Any, schema_editor: Any) -> None:
    """On PostgreSQL the packed columns are kept out of line without a second compression (it would gain
    nothing on zlib's output and cost time inside the round's transaction)."""
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        changes = ", ".join(f"ALTER COLUMN {connection.ops.quote_name(c)} SET STORAGE EXTERNAL" for c in COLUMNS)
        schema_editor.execute(f"ALTER TABLE relief_allocationround {changes}")


class Migration(migrations.Migration):
    dependencies = [("relief", "0004_allocation_indexes")]
    operations = [
        *(migrations.AddField("allocationround", f"{c}_packed", civicgrid.core.packed.PackedJSONField(null=True))
          for c in COLUMNS),
        # null first, so that going back the restored JSON columns are filled before they are NOT NULL again
        *(migrations.AlterField("allocationround", c, models.JSONField(null=True)) for c in COLUMNS),
        migrations.RunPython(forwards, backwards),
        *(migrations.RemoveField("allocationround", c) for c in COLUMNS),
        *(migrations.RenameField("allocationround", f"{c}_packed", c) for c in COLUMNS),
        *(migrations.AlterField("allocationround", c, civicgrid.core.packed.PackedJSONField()) for c in COLUMNS),
        migrations.RunPython(_storage, migrations.RunPython.noop),
    ]
