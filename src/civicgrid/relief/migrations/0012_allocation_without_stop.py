"""A round's allocation row no longer names its stop (issue 15).

A served allocation's stop is its household's stop in the same round: one per household, found by (round,
household). The key repeated that, and could have named another household's stop; it cost a check per served need
at a round's commit and an index entry per allocation, about 4 s of a district round of a million requests.

Forwards, the rows must already say what the pair will: one stop per household in a round, each allocation that
names a stop naming that one, and none with units naming none. Otherwise the migration stops and names rows to
look at (only hand-made rows could break this: the round writer makes one stop per household it serves).

Backwards, the column comes back (nullable, as it was) and each allocation with units gets its household's stop
in its round again.
"""

from django.db import migrations
from django.db.models import Count, F, OuterRef, Subquery


def pair_names_the_stop(apps, schema_editor):  # type: ignore[no-untyped-def]
    RoundAllocation = apps.get_model("relief", "RoundAllocation")
    DeliveryStop = apps.get_model("relief", "DeliveryStop")
    twice = list(DeliveryStop.objects.values("task__round_id", "household_id").annotate(n=Count("id"))
                 .filter(n__gt=1).order_by("task__round_id", "household_id")[:5])
    other = list(RoundAllocation.objects.filter(stop__isnull=False).exclude(
        stop__household_id=F("household_id"), stop__task__round_id=F("round_id")).values_list("pk", flat=True)[:5])
    none = list(RoundAllocation.objects.filter(stop__isnull=True, quantity__gt=0).values_list("pk", flat=True)[:5])
    if twice or other or none:
        raise RuntimeError(
            "relief 0012: an allocation's stop is to be found by (round, household), but "
            f"households with two stops in one round: {twice}; allocations naming another household's or round's "
            f"stop: {other}; allocations with units and no stop: {none} (at most five of each shown)")


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
        migrations.RunPython(pair_names_the_stop, stops_by_household),
        migrations.RemoveField(
            model_name='roundallocation',
            name='stop',
        ),
    ]
