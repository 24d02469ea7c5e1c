"""A round has one stop per household, as a rule of the schema (issue 15).

A served allocation's stop is its household's stop in the round (relief 0012), so a second stop for the household
in the same round would leave that allocation two stops. Until now only the round writer kept to one: the unique
(task, household) let a household have a stop in each of two tasks of one round. The stop now names its round
beside its task, and (household, round) is unique. That index also finds a household's stops, so the household's
own index goes, and the (task, household) one, which the new one implies where the stop's round is its task's
(a rule of the schema on PostgreSQL, below; of the round writer on SQLite).

The round must be the task's. On PostgreSQL the stop's key to its task becomes one composite key (round_id,
task_id) -> the task's new unique (round_id, id), deferred to the commit like Django's keys. It refuses a round
other than the task's, and stands for the key to the round (the task's own key checks the round exists). A
district round's commit thus checks two keys per stop, as before. The task's unique (round_id, id) also replaces
its index of the round alone: the planner, taking the tasks written in the round's own transaction for an empty
table, looked each stop's task up through that index and read every task of the round (a commit of 17 s instead
of 10 at a million requests). SQLite keeps Django's single-column keys,
because its ALTER TABLE cannot add a key.

Django's model state keeps the single-column keys, as in relief 0008. A later migration that alters
``DeliveryStop.task`` or ``.round`` on PostgreSQL must handle the composite key itself, and no error will say so:
Django finds no single-column key on the column and drops or re-creates nothing. A removed ``round`` column (the
stop's or the task's) would take the composite key with it (``DROP COLUMN ... CASCADE``), leaving ``task_id`` with
no key; a change of the task's id type would miss it too (Django looks for keys on ``task_id`` alone).
``tests/platform/test_relief_round_keys.py`` reads the keys from PostgreSQL's catalogue and fails then.

Forwards, each stop gets its task's round. If a household already has two stops in one round (only hand-made rows
could: the round writer makes one), the migration stops and names them. Backwards, the single keys, the
household's index and the (task, household) rule come back, and the column goes.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery

from civicgrid.core.composite_keys import to_composite_key, to_single_keys

TABLE = "relief_deliverystop"
KEY = "relief_stop_of_task_round"
COLUMNS = ("round_id", "task_id")


def round_of_task(apps, schema_editor):  # type: ignore[no-untyped-def]
    DeliveryStop = apps.get_model("relief", "DeliveryStop")
    DeliveryTask = apps.get_model("relief", "DeliveryTask")
    DeliveryStop.objects.update(round=Subquery(DeliveryTask.objects.filter(pk=OuterRef("task_id")).values("round_id")))
    twice = list(DeliveryStop.objects.values("round_id", "household_id").annotate(n=Count("id"))
                 .filter(n__gt=1).order_by("round_id", "household_id")[:5])
    if twice:
        raise RuntimeError(f"relief 0015: a round has one stop per household, but these (round, household) pairs "
                           f"have more (at most five shown): {twice}")


def composite_key(apps, schema_editor):  # type: ignore[no-untyped-def]
    to_composite_key(schema_editor, table=TABLE, name=KEY, columns=COLUMNS, target="relief_deliverytask",
                     target_columns=("round_id", "id"))


def single_keys(apps, schema_editor):  # type: ignore[no-untyped-def]
    to_single_keys(schema_editor, apps.get_model("relief", "DeliveryStop"), name=KEY, fields=("task", "round"))


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0005_households_tally_recount'),
        ('relief', '0014_round_snapshot_summary'),
    ]

    operations = [
        migrations.AddField(
            model_name='deliverystop',
            name='round',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='stops', to='relief.allocationround'),
        ),
        # backwards a no-op: the column goes
        migrations.RunPython(round_of_task, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='deliverystop',
            name='round',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='stops', to='relief.allocationround'),
        ),
        migrations.AddConstraint(
            model_name='deliverytask',
            constraint=models.UniqueConstraint(fields=('round', 'id'), name='relief_task_of_round'),
        ),
        migrations.AlterField(
            model_name='deliverytask',
            name='round',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='tasks', to='relief.allocationround'),
        ),
        # the new rule and its index first, so that stops are never without one
        migrations.AddConstraint(
            model_name='deliverystop',
            constraint=models.UniqueConstraint(fields=('household', 'round'), name='relief_one_stop_per_household_round'),
        ),
        migrations.RemoveConstraint(
            model_name='deliverystop',
            name='relief_one_stop_per_household',
        ),
        migrations.AlterField(
            model_name='deliverystop',
            name='household',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='relief_stops', to='registry.household'),
        ),
        migrations.RunPython(composite_key, single_keys),
    ]
