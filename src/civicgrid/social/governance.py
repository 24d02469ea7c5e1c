"""This app's recorded contributions to a community's governance (civicgrid.analytics.governance_data):
resources given, as grants received by the social organisations serving the community, credited to the
actor that gave them (so the share of resources shows which sector funds society's own organisations)."""

from __future__ import annotations

from django.db.models import Count, Q

from civicgrid.core.places import ancestors
from civicgrid.engine.governance import Contribution
from civicgrid.registry.models import Place
from civicgrid.social.models import Funding


def contributions(*, community: Place) -> list[Contribution]:
    """One unit of 'resources' per grant, as the relief app counts one per donation: grants of different
    sizes and donations of different items are not comparable in one unit, so the share counts acts of
    giving. Grants from a source outside the registry have no actor to credit and are left out."""
    serving = Q(organisation__actor__service_area__path__in=ancestors(community.path)) | Q(
        organisation__actor__service_area__path__startswith=community.path)
    rows = (Funding.objects.filter(serving, source__isnull=False)
            .values("source__code").annotate(n=Count("id")).order_by())
    return [Contribution(actor_id=r["source__code"], kind="resources", amount=float(r["n"]), basis="recorded")
            for r in rows]
