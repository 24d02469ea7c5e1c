"""This app's recorded contributions to a community's governance (civicgrid.analytics.governance_data):
resources, as services purchased, credited to the sector of the money's source (the appropriation's funder:
the state, for government purchase)."""

from __future__ import annotations

from django.db.models import Count, Q

from civicgrid.core.places import ancestors
from civicgrid.engine.governance import Contribution
from civicgrid.procurement.models import Contract
from civicgrid.registry.models import Place


def contributions(*, community: Place) -> list[Contribution]:
    """One unit of 'resources' per contract signed for services in (or over) the community, like the relief
    app's one unit per donation: sums of money and quantities of goods are not comparable units."""
    where = Q(call__place__path__startswith=community.path) | Q(call__place__path__in=ancestors(community.path))
    rows = (Contract.objects.filter(where).values("call__appropriation__funder__code")
            .annotate(n=Count("id")).order_by())
    return [Contribution(actor_id=r["call__appropriation__funder__code"], kind="resources", amount=float(r["n"]),
                         basis="recorded") for r in rows]
