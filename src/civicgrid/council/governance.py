"""This app's recorded contributions to a community's governance (civicgrid.analytics.governance_data):
decisions, one unit per decision recorded by a council meeting, credited to the body (actor) that took
it; the governance balance then reads each actor's sector."""

from __future__ import annotations

from django.db.models import Count

from civicgrid.council.models import Decision
from civicgrid.engine.governance import Contribution
from civicgrid.registry.models import Place


def contributions(*, community: Place) -> list[Contribution]:
    rows = (Decision.objects.filter(place_path__startswith=community.path)
            .values("body__actor__code").annotate(n=Count("id")).order_by())
    return [Contribution(actor_id=r["body__actor__code"], kind="decisions", amount=float(r["n"]), basis="recorded")
            for r in rows]
