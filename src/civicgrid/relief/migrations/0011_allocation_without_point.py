"""A round's allocation row no longer repeats the point its request would be served from (issue 15).

Nothing read the column. The round's snapshot holds every request's point (``rounds.REQUEST_FIELDS``), which is
what a recomputation uses, and a served household's stop holds it through its task. Its foreign key was still
checked once per row at the commit: about 3 us a row, 3 s of a district round of a million requests.

Backwards, the column comes back filled from each round's snapshot, then becomes NOT NULL again. A request whose
point was deleted since leaves the row without one, and the last step then fails: the data cannot be put back as
it was, and the migration says so rather than invent a point.
"""

from django.db import migrations, models
import django.db.models.deletion


def points_from_snapshots(apps, schema_editor):  # type: ignore[no-untyped-def]
    # the snapshot's requests as stored (relief.rounds.snapshot, format 1: column lists), read here without the
    # app's code, which may change after this migration
    AllocationRound = apps.get_model("relief", "AllocationRound")
    RoundAllocation = apps.get_model("relief", "RoundAllocation")
    DistributionPoint = apps.get_model("relief", "DistributionPoint")
    point_ids = dict(DistributionPoint.objects.values_list("code", "id"))
    for round in AllocationRound.objects.only("id", "snapshot").iterator(chunk_size=1):
        requests = round.snapshot["requests"]
        by_point: dict[int, list[int]] = {}
        for need_id, code in zip(requests["request_id"], requests["point"], strict=True):
            if code in point_ids:
                by_point.setdefault(point_ids[code], []).append(need_id)
        for point_id, need_ids in by_point.items():
            for start in range(0, len(need_ids), 10_000):
                RoundAllocation.objects.filter(round_id=round.pk, need_id__in=need_ids[start:start + 10_000]).update(
                    point_id=point_id)


class Migration(migrations.Migration):

    dependencies = [
        ('relief', '0010_round_confirmation'),
    ]

    operations = [
        # backwards these run bottom-up: the column is added nullable, filled, then made NOT NULL again
        migrations.AlterField(
            model_name='roundallocation',
            name='point',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name='+', to='relief.distributionpoint'),
        ),
        migrations.RunPython(migrations.RunPython.noop, points_from_snapshots),
        migrations.RemoveField(
            model_name='roundallocation',
            name='point',
        ),
    ]
