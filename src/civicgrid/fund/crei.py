"""This app's indicator for the CREI (civicgrid.analytics.crei): turnout in participatory budgeting."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from django.db.models import Count, QuerySet

from civicgrid.core import tallies
from civicgrid.core.indicators import Units, ratio_by_unit, series
from civicgrid.core.tallies import Tally
from civicgrid.fund.models import Round, Voter
from civicgrid.registry.crei import households_per_grid
from civicgrid.registry.selectors import grid_parents

VOTED = "fund.voted"


def latest_closed_rounds() -> dict[int, int]:
    """Each community's latest round whose vote has closed: community id -> round id."""
    latest: dict[int, int] = {}
    for round_id, community_id in (Round.objects.filter(voting_close__lte=pd.Timestamp.now(tz="UTC"))
                                   .order_by("voting_close", "id").values_list("id", "fund__community_id")):
        latest[community_id] = round_id  # the last one wins
    return latest


def _voters_of_latest_rounds() -> QuerySet[Voter]:
    return Voter.objects.filter(round_id__in=list(latest_closed_rounds().values()), voted=True)


# Households that voted in their community's latest closed round, per grid: every voter row of those rounds,
# so counted by the job (the CREI page says when), not on every request (issue 15).
TALLIES = {VOTED: Tally(rows=_voters_of_latest_rounds, grid="household__grid_id",
                        measures=lambda: {"households": Count("household_id", distinct=True)},
                        max_age=timedelta(minutes=10))}


def ballot_turnout(units: Units) -> dict[str, float] | None:
    """Share of households that voted in their community's latest round whose vote has closed (a household
    voted when it, or for a round by resident any of its adults, is marked as voted), per unit."""
    latest = latest_closed_rounds()
    if not latest:
        return None
    voting_grids = {grid for grid, community in grid_parents().items() if community in latest}
    households = households_per_grid()  # the registry's tally: no scan of the households here
    return ratio_by_unit(units, series(tallies.read(VOTED), "households"),
                         households[households.index.isin(voting_grids)])


INDICATORS = {"ballot_turnout": ballot_turnout}
