from django.db import migrations


def install(apps, schema_editor):  # type: ignore[no-untyped-def]
    from civicgrid.emergency.shipped import templates_install

    templates_install(plan_model=apps.get_model("emergency", "PlanTemplate"),
                      checklist_model=apps.get_model("emergency", "ChecklistTemplate"),
                      item_model=apps.get_model("emergency", "ChecklistItem"))


class Migration(migrations.Migration):
    dependencies = [("emergency", "0001_initial")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
