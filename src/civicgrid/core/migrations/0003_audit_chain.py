"""The audit log's hash chain (civicgrid.core.auditchain): the chain columns, the chain's head and the
rows already written chained in their order (0004 makes ``seq`` required and adds PostgreSQL's triggers)."""

import django.utils.timezone
from django.db import migrations, models

from civicgrid.core.auditchain import GENESIS, HASHED_FIELDS, row_hash

def chain_existing_rows(apps, schema_editor):
    """Chain the rows written before the chain existed, in the order they were written."""
    AuditLog = apps.get_model("core", "AuditLog")
    AuditChainHead = apps.get_model("core", "AuditChainHead")
    db = schema_editor.connection.alias
    previous, seq, batch = GENESIS, 0, []
    for row in AuditLog.objects.using(db).order_by("id").iterator(chunk_size=2000):
        seq += 1
        row.seq, row.prev_hash = seq, previous
        row.row_hash = previous = row_hash({name: getattr(row, name) for name in HASHED_FIELDS})
        batch.append(row)
        if len(batch) >= 2000:
            AuditLog.objects.using(db).bulk_update(batch, ["seq", "prev_hash", "row_hash"])
            batch = []
    if batch:
        AuditLog.objects.using(db).bulk_update(batch, ["seq", "prev_hash", "row_hash"])
    AuditChainHead.objects.using(db).create(pk=1, seq=seq, hash=previous)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_auditlog_event")]

    operations = [
        migrations.AlterField(
            model_name="auditlog",
            name="at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name="auditlog",
            name="seq",
            field=models.BigIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="auditlog",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditlog",
            name="row_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seq", models.BigIntegerField(default=0)),
                ("hash", models.CharField(default=GENESIS, max_length=64)),
            ],
        ),
        migrations.RunPython(chain_existing_rows, migrations.RunPython.noop),
    ]
