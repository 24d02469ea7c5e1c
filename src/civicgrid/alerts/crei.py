"""This app's indicators for the CREI (civicgrid.analytics.crei): how far risk information reaches."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from django.utils import timezone

from civicgrid.alerts.models import Acknowledgement, Delivery
from civicgrid.core.indicators import Units, ratio_by_unit


def risk_info_reach(units: Units) -> dict[str, float] | None:
    """Households that acknowledged an alert / households an alert was delivered to, last 12 months."""
    since = timezone.now() - timedelta(days=365)
    targeted = pd.DataFrame.from_records(
        Delivery.objects.filter(household__isnull=False, alert__sent_at__gte=since)
        .values("alert_id", "household_id", "household__grid_id").distinct(),
        columns=["alert_id", "household_id", "household__grid_id"])
    if targeted.empty:
        return None
    acknowledged = set(Acknowledgement.objects.filter(household__isnull=False, alert__sent_at__gte=since)
                       .values_list("alert_id", "household_id"))
    targeted["ack"] = [(a, h) in acknowledged for a, h in zip(targeted["alert_id"], targeted["household_id"],
                                                               strict=True)]
    by_grid = targeted.groupby("household__grid_id")
    return ratio_by_unit(units, by_grid["ack"].sum(), by_grid.size())


INDICATORS = {"risk_info_reach": risk_info_reach}
