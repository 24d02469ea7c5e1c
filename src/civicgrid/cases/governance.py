"""This app's recorded contributions to a community's governance (civicgrid.analytics.governance_data):
work done, as cases handled by each actor in the community."""

from __future__ import annotations

from django.db.models import Count

from civicgrid.cases.models import Case
from civicgrid.engine.governance import Contribution
from civicgrid.registry.models import Place


def contributions(*, community: Place) -> list[Contribution]:
    # by the community's grids (an indexed key; every case lies in a grid), not a prefix match of the
    # path, which SQLite answers by reading every case of the district
    rows = (Case.objects.filter(grid__parent_id=community.pk, handler__isnull=False, handled_at__isnull=False)
            .values("handler__code").annotate(n=Count("id")).order_by())
    return [Contribution(actor_id=r["handler__code"], kind="work", amount=float(r["n"]), basis="recorded")
            for r in rows]
