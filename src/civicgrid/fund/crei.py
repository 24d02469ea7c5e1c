"""This app's indicator for the CREI (civicgrid.analytics.crei): turnout in participatory budgeting."""

from __future__ import annotations

import pandas as pd

from civicgrid.core.indicators import Units, ratio_by_unit
from civicgrid.fund.models import Round, Voter
from civicgrid.registry.models import Household


def ballot_turnout(units: Units) -> dict[str, float] | None:
    """Share of households that voted in their community's latest round whose vote has closed (a household
    voted when it, or for a round by resident any of its adults, is marked as voted), per unit."""
    latest: dict[int, int] = {}
    for round_id, community_id in (Round.objects.filter(voting_close__lte=pd.Timestamp.now(tz="UTC"))
                                   .order_by("voting_close", "id").values_list("id", "fund__community_id")):
        latest[community_id] = round_id  # the last one wins
    if not latest:
        return None
    households = pd.DataFrame.from_records(
        Household.objects.filter(grid__parent_id__in=list(latest)).values_list("grid_id", flat=False)
        .values("grid_id"), columns=["grid_id"])
    voted = pd.DataFrame.from_records(
        Voter.objects.filter(round_id__in=list(latest.values()), voted=True).values("household_id", "household__grid_id")
        .distinct(), columns=["household_id", "household__grid_id"])
    denominator = households.groupby("grid_id").size()
    numerator = voted.drop_duplicates("household_id").groupby("household__grid_id").size()
    return ratio_by_unit(units, numerator, denominator)


INDICATORS = {"ballot_turnout": ballot_turnout}
