"""This app's recorded contributions to a community's governance (civicgrid.analytics.governance_data):
work, as counted volunteer hours served in the community, credited to the volunteer's organisation (the
actor of their first post), so the governance page weighs sectors by hours recorded, not declared."""

from __future__ import annotations

from django.db.models import Min, OuterRef, Subquery, Sum

from civicgrid.engine.governance import Contribution
from civicgrid.registry.models import Place, Post
from civicgrid.volunteers.models import HoursEntry
from civicgrid.volunteers.selectors import COUNTED


def contributions(*, community: Place) -> list[Contribution]:
    first_post = Post.objects.filter(person_id=OuterRef("volunteer__person_id")).values("person_id").annotate(
        first=Min("id")).values("first")
    organisation = Post.objects.filter(pk=Subquery(first_post)).values("actor__code")
    rows = (HoursEntry.objects.filter(COUNTED, place_path__startswith=community.path)
            .annotate(actor=Subquery(organisation)).exclude(actor__isnull=True)
            .values("actor").annotate(hours=Sum("hours")).order_by("actor"))
    return [Contribution(actor_id=r["actor"], kind="work", amount=float(r["hours"]), basis="recorded") for r in rows]
