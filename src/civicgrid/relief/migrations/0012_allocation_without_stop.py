"""A round's allocation row no longer names its stop (issue 15).

A served allocation's stop is its household's stop in the same round: one per household, found by (round,
household). The key repeated that, and could have named another household's stop; it cost a check per served need
at a round's commit and an index entry per allocation, about 4 s of a district round of a million requests.

Backwards, the column comes back (nullable, as it was) and each allocation with units gets its household's stop
in its round again.
"""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def stops_by_household(apps, schema_editor):  # type: ignore[no-untyped-def]
    RoundAllocation = apps.get_model("relief", "RoundAllocation")
    DeliveryStop = apps.get_model("relief", "DeliveryStop")
    RoundAllocation.objects.filter(quantity__gt=0).update(stop=Subquery(DeliveryStop.objects.filter(
        task__round_id=OuterRef("round_id"), household_id=OuterRef("household_id")).order_by("pk").values("pk")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ('relief', '0011_allocation_without_point'),
    ]

    operations = [
        # backwards these run bottom-up: the column is added, then filled
        migrations.RunPython(migrations.RunPython.noop, stops_by_household),
        migrations.RemoveField(
            model_name='roundallocation',
            name='stop',
        ),
    ]
