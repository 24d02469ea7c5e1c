"""This app's recorded contributions to a community's governance (civicgrid.analytics.governance_data):
resources given, as donations that reached stock at the community's distribution points."""

from __future__ import annotations

from django.db.models import Count

from civicgrid.engine.governance import Contribution
from civicgrid.registry.models import Place
from civicgrid.relief.models import Offer


def contributions(*, community: Place) -> list[Contribution]:
    """One unit of 'resources' per donation in stock. Donations of different items are not comparable
    in units, so the share counts donations, not quantities."""
    rows = (Offer.objects.filter(status=Offer.Status.IN_STOCK, point__place__path__startswith=community.path)
            .values("donor__code").annotate(n=Count("id")).order_by())
    return [Contribution(actor_id=r["donor__code"], kind="resources", amount=float(r["n"]), basis="recorded")
            for r in rows]
