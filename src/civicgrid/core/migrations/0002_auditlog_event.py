from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="auditlog",
            name="event",
            field=models.CharField(db_index=True, default="core.legacy", max_length=64),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="auditlog",
            name="action",
            field=models.CharField(choices=[("create", "Create"), ("update", "Update"), ("delete", "Delete"),
                                            ("import", "Import"), ("export", "Export"), ("bulk", "Bulk")],
                                   max_length=16),
        ),
    ]
