"""A round keeps its snapshot's summary beside the snapshot (issue 15).

The round's page showed the snapshot's rules, days and stock, and decoded the whole snapshot for them: some 150 MB
of JSON for a district round of a million requests. The summary is the snapshot without its requests
(``civicgrid.relief.rounds.snapshot_summary``). Rounds confirmed before get theirs from their snapshot, one round
at a time; backwards the column goes (the snapshot still holds everything).
"""

from django.db import migrations, models


def fill(apps, schema_editor):
    AllocationRound = apps.get_model("relief", "AllocationRound")
    for pk in AllocationRound.objects.order_by("pk").values_list("pk", flat=True):
        snapshot = AllocationRound.objects.only("snapshot").get(pk=pk).snapshot  # one decoded at a time
        # the summary as civicgrid.relief.rounds.snapshot_summary makes it, written out: a migration stays as it is
        summary = {key: value for key, value in snapshot.items() if key != "requests"}
        AllocationRound.objects.filter(pk=pk).update(snapshot_summary=summary)


class Migration(migrations.Migration):

    dependencies = [
        ('relief', '0013_allocation_household_round_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='allocationround',
            name='snapshot_summary',
            field=models.JSONField(default=dict, editable=False),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
