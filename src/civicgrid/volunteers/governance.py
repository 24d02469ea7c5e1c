"""This app's recorded contributions to a community's governance (civicgrid.analytics.governance_data):
work, as counted volunteer hours served in the community, credited to the volunteer's organisation (the
actor of their first post), so the governance page weighs sectors by hours recorded, not declared."""

from __future__ import annotations

from django.db.models import Sum

from civicgrid.engine.governance import Contribution
from civicgrid.registry.models import Place, Post
from civicgrid.volunteers.models import HoursEntry
from civicgrid.volunteers.selectors import COUNTED


def contributions(*, community: Place) -> list[Contribution]:
    hours = dict(HoursEntry.objects.filter(COUNTED, place_path__startswith=community.path)
                 .values_list("volunteer__person_id").annotate(h=Sum("hours")).order_by())
    organisation: dict[int, str] = {}
    for person_id, code in Post.objects.filter(person_id__in=hours).order_by("-id").values_list("person_id",
                                                                                                 "actor__code"):
        organisation[person_id] = code  # ordered newest first: the first post wins
    by_actor: dict[str, float] = {}
    for person_id, h in hours.items():
        if person_id in organisation:
            by_actor[organisation[person_id]] = by_actor.get(organisation[person_id], 0.0) + float(h)
    return [Contribution(actor_id=code, kind="work", amount=amount, basis="recorded")
            for code, amount in sorted(by_actor.items())]
