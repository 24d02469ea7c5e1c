"""Needs keep their round tier (0 life-critical, 1 urgent, 2 normal: relief.rounds.tier_of) with an index in the
list's "most urgent first" order (issue 15: that order sorted a district's 1.7 M needs on every request)."""

from django.db import migrations, models
from django.db.models import Q


def fill(apps, schema_editor):  # type: ignore[no-untyped-def]
    Need = apps.get_model("relief", "Need")
    Need.objects.filter(urgency="urgent").update(tier=1)
    Need.objects.filter(Q(urgency="critical") | Q(item__life_critical=True)).update(tier=0)


class Migration(migrations.Migration):

    dependencies = [
        ('relief', '0006_need_status_urgency'),
    ]

    operations = [
        migrations.AddField(
            model_name='need',
            name='tier',
            field=models.PositiveSmallIntegerField(default=2, editable=False, verbose_name='tier'),
            preserve_default=False,
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='need',
            index=models.Index(fields=['tier', 'filed_at', 'id'], name='relief_need_tier_order'),
        ),
        migrations.AddConstraint(
            model_name='need',
            constraint=models.CheckConstraint(condition=models.Q(('tier', 0), models.Q(('tier', 1), ('urgency', 'urgent')), models.Q(('tier', 2), ('urgency', 'normal')), _connector='OR'), name='relief_need_tier_of_urgency'),
        ),
    ]
