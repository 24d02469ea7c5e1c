"""A round's allocations are indexed by (household, round) instead of household alone (issue 15).

A stop's lines are its household's allocations with units in its round (relief 0012): the pair finds exactly them,
where the household alone read its allocations of every round. The index costs what the one it replaces cost.
On PostgreSQL the household's key is part of the composite key of relief 0008, which this does not touch: Django
finds no single-column key on the column, so it drops and re-creates none (test_relief_round_keys reads the keys).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0005_households_tally_recount'),
        ('relief', '0012_allocation_without_stop'),
    ]

    operations = [
        migrations.AlterField(
            model_name='roundallocation',
            name='household',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='registry.household'),
        ),
        migrations.AddIndex(
            model_name='roundallocation',
            index=models.Index(fields=['household', 'round'], name='relief_allocation_household'),
        ),
    ]
