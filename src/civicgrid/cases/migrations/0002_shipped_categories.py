from django.db import migrations


def install(apps, schema_editor):  # type: ignore[no-untyped-def]
    from civicgrid.cases.shipped import categories_install

    categories_install(apps.get_model("cases", "CaseCategory"))


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
