"""This app's indicator for the CREI (civicgrid.analytics.crei): services bought from social organisations."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from django.db.models import Sum
from django.utils import timezone

from civicgrid.core.indicators import Units, ratio_by_unit
from civicgrid.procurement.models import Contract
from civicgrid.registry.models import Household, Place


def purchased_services(units: Units) -> dict[str, float] | None:
    """Yuan of contracts signed with social organisations in the last 12 months per 1,000 residents. A
    contract is counted in every grid of its call's area, shared by residents (a community-wide contract
    adds its amount spread over the community's grids in proportion to their residents)."""
    since = timezone.now() - timedelta(days=365)
    rows = list(Contract.objects.filter(signed_at__gte=since).values("call__place__path")
                .annotate(fen=Sum("amount_fen")).order_by())
    if not Contract.objects.exists():
        return None
    grids = pd.DataFrame.from_records(Place.objects.filter(level="grid").values("id", "path"), columns=["id", "path"])
    people = pd.Series(dict(Household.objects.values_list("grid_id").annotate(n=Sum("size")).order_by()), dtype=float)
    grids["residents"] = grids["id"].map(people).fillna(0.0)
    money = pd.Series(0.0, index=grids["id"])
    for row in rows:
        inside = grids[grids["path"].str.startswith(row["call__place__path"])]
        total = inside["residents"].sum()
        if total:
            money = money.add(pd.Series(row["fen"] / 100 * inside["residents"].to_numpy() / total,
                                        index=inside["id"]), fill_value=0.0)
    return ratio_by_unit(units, money * 1000, grids.set_index("id")["residents"])


INDICATORS = {"purchased_services": purchased_services}
