"""The households tally gained a measure (vulnerable households, for the home page): cells counted before this
release hold 0 there. Forgetting the tally makes the pages count from the records (correct, as slow as before)
until the periodic job counts it afresh, instead of showing 0 vulnerable households for up to ten minutes."""

from django.db import migrations

NAME = "registry.households"


def forget(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("core", "TallyRow").objects.filter(name=NAME).delete()
    apps.get_model("core", "TallyState").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("registry", "0004_digest_indexes_plain"), ("core", "0005_tallystate_tallyrow")]
    operations = [migrations.RunPython(forget, migrations.RunPython.noop)]
