"""A round's allocation row refers to its need, household and item in one foreign key on PostgreSQL (issue 15).

The row copies the need's household and item. Three single-column keys cost three checks per row when a district
round commits a million rows, at about 3 us each. One composite key (need_id, household_id, item_id) ->
need (id, household_id, item_id) costs one check. It guarantees more than the three did: the copies equal the
need's own household and item, and the household and item exist through the need's own keys. It is still
declared in the schema and checked by PostgreSQL, deferred to the commit like Django's keys.

The need gets the unique (household, item, id) index the key needs. That index also serves a household's needs,
so the plain household index goes. The plain item index goes too: (status, item) serves the status-qualified
reads, and deleting an item that needs refer to is refused after one scan. The life-critical (status, urgency)
index keeps only life-critical needs. A round rewrites each need it serves, and every index holding the need gets
a new entry, so each index dropped saves about 2 us per need.

SQLite keeps Django's three single-column keys, because its ALTER TABLE cannot add a key. Django's model state
keeps them as well. A later migration that alters ``RoundAllocation.need``, ``.household`` or ``.item`` on
PostgreSQL must therefore handle the composite key itself, and no error will say so: Django looks for a
single-column key on the field's column, finds none and drops or re-creates nothing, so an altered field keeps the
composite key as it was; a removed ``household`` or ``item`` column takes the composite key with it (``DROP COLUMN
... CASCADE``), leaving ``need_id`` with no key. ``tests/platform/test_relief_round_keys.py`` reads the keys from
PostgreSQL's catalogue and fails then.
"""

import django.db.models.deletion
from django.db import migrations, models

from civicgrid.core.composite_keys import to_composite_key, to_single_keys

TABLE = "relief_roundallocation"
KEY = "relief_allocation_of_need"
COLUMNS = ("need_id", "household_id", "item_id")


def composite_key(apps, schema_editor):  # type: ignore[no-untyped-def]
    to_composite_key(schema_editor, table=TABLE, name=KEY, columns=COLUMNS, target="relief_need",
                     target_columns=("id", "household_id", "item_id"))


def single_keys(apps, schema_editor):  # type: ignore[no-untyped-def]
    to_single_keys(schema_editor, apps.get_model("relief", "RoundAllocation"), name=KEY,
                   fields=("need", "household", "item"))


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0005_households_tally_recount'),
        ('relief', '0007_need_tier'),
    ]

    operations = [
        # the new index first, so a household's needs are never without one
        migrations.AddConstraint(
            model_name='need',
            constraint=models.UniqueConstraint(fields=('household', 'item', 'id'), name='relief_need_of_household_item'),
        ),
        migrations.AlterField(
            model_name='need',
            name='household',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='relief_needs', to='registry.household', verbose_name='household'),
        ),
        migrations.AlterField(
            model_name='need',
            name='item',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, to='relief.item', verbose_name='item'),
        ),
        migrations.RemoveIndex(
            model_name='need',
            name='relief_need_status_urgency',
        ),
        migrations.AddIndex(
            model_name='need',
            index=models.Index(condition=models.Q(('urgency', 'critical')), fields=['status', 'urgency'], name='relief_need_status_urgency'),
        ),
        migrations.RunPython(composite_key, single_keys),
    ]
