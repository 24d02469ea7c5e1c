"""This app's indicator for the CREI (civicgrid.analytics.crei): turnout in participatory budgeting."""

from __future__ import annotations

import pandas as pd
from django.db.models import Count

from civicgrid.core.indicators import Units, ratio_by_unit, series
from civicgrid.fund.models import Round, Voter
from civicgrid.registry.crei import households_per_grid
from civicgrid.registry.models import Place


def ballot_turnout(units: Units) -> dict[str, float] | None:
    """Share of households that voted in their community's latest round whose vote has closed (a household
    voted when it, or for a round by resident any of its adults, is marked as voted), per unit."""
    latest: dict[int, int] = {}
    for round_id, community_id in (Round.objects.filter(voting_close__lte=pd.Timestamp.now(tz="UTC"))
                                   .order_by("voting_close", "id").values_list("id", "fund__community_id")):
        latest[community_id] = round_id  # the last one wins
    if not latest:
        return None
    voting_grids = set(Place.objects.filter(level="grid", parent_id__in=list(latest)).values_list("id", flat=True))
    households = households_per_grid()  # the registry's tally: no scan of the households here
    voted = (Voter.objects.filter(round_id__in=list(latest.values()), voted=True)
             .values("household__grid_id").annotate(n=Count("household_id", distinct=True)).order_by())
    return ratio_by_unit(units, series(voted, "n", key="household__grid_id"),
                         households[households.index.isin(voting_grids)])


INDICATORS = {"ballot_turnout": ballot_turnout}
