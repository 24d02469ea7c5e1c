from django.db import migrations, models


def fill_initials(apps, schema_editor):
    from civicgrid.registry.pinyin import name_initials

    Resident = apps.get_model("registry", "Resident")
    batch = []
    for resident in Resident.objects.only("id", "name").iterator(chunk_size=2000):
        resident.name_initials = name_initials(resident.name)
        batch.append(resident)
        if len(batch) >= 2000:
            Resident.objects.bulk_update(batch, ["name_initials"])
            batch = []
    Resident.objects.bulk_update(batch, ["name_initials"])


class Migration(migrations.Migration):

    dependencies = [
        ("registry", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="resident",
            name="name_initials",
            field=models.CharField(blank=True, db_index=True, default="", editable=False, max_length=60),
        ),
        migrations.RunPython(fill_initials, migrations.RunPython.noop),
    ]
