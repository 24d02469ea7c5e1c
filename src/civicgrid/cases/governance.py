"""This app's recorded contributions to a community's governance (civicgrid.analytics.governance_data):
work done, as cases handled by each actor in the community."""

from __future__ import annotations

from django.db.models import Count

from civicgrid.cases.models import Case
from civicgrid.engine.governance import Contribution
from civicgrid.registry.models import Place


def contributions(*, community: Place) -> list[Contribution]:
    rows = (Case.objects.filter(place_path__startswith=community.path, handler__isnull=False,
                                handled_at__isnull=False)
            .values("handler__code").annotate(n=Count("id")).order_by())
    return [Contribution(actor_id=r["handler__code"], kind="work", amount=float(r["n"]), basis="recorded")
            for r in rows]
