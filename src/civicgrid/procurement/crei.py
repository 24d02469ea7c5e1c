"""This app's indicator for the CREI (civicgrid.analytics.crei): services bought from social organisations."""

from __future__ import annotations

from bisect import bisect_left
from datetime import timedelta

import pandas as pd
from django.db.models import Sum
from django.utils import timezone

from civicgrid.core.indicators import Units, per_grid, ratio_by_unit
from civicgrid.procurement.models import Contract
from civicgrid.registry.crei import households_per_grid
from civicgrid.registry.selectors import grid_paths


def purchased_services(units: Units) -> dict[str, float] | None:
    """Yuan of contracts signed with social organisations in the last 12 months per 1,000 residents. A
    contract is counted in every grid of its call's area, shared by residents (a community-wide contract
    adds its amount spread over the community's grids in proportion to their residents)."""
    since = timezone.now() - timedelta(days=365)
    rows = list(Contract.objects.filter(signed_at__gte=since).values("call__place__path")
                .annotate(fen=Sum("amount_fen")).order_by())
    if not rows and not Contract.objects.exists():
        return None
    grids = sorted((path, pk) for pk, path in grid_paths().items())
    paths = [path for path, _ in grids]
    people = per_grid(households_per_grid("people"))  # declared members, from the registry's tally
    residents = {pk: people.get(pk, 0.0) for _, pk in grids}
    money = dict.fromkeys(residents, 0.0)
    for row in rows:
        area = row["call__place__path"]
        inside = [pk for _, pk in grids[bisect_left(paths, area):bisect_left(paths, area + "\uffff")]]
        total = sum(residents[pk] for pk in inside)
        for pk in inside if total else ():
            money[pk] += row["fen"] / 100 * residents[pk] / total
    return ratio_by_unit(units, pd.Series(money) * 1000, pd.Series(residents, dtype=float))


INDICATORS = {"purchased_services": purchased_services}
