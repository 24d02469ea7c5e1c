"""This app's indicator for the CREI (civicgrid.analytics.crei): complaints decided on time."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from django.utils import timezone

from civicgrid.core.indicators import Units, ratio_by_unit
from civicgrid.grievances.models import Grievance


def grievance_on_time(units: Units) -> dict[str, float] | None:
    """Complaints decided within their time limit / complaints decided, last 12 months, by grid."""
    decided = Grievance.objects.filter(closed_on_time__isnull=False, closed_at__gte=timezone.now() - timedelta(days=365))
    rows = pd.DataFrame.from_records(decided.values("grid_id", "closed_on_time"), columns=["grid_id", "closed_on_time"])
    if rows.empty:
        return None
    on_time = rows["closed_on_time"].astype(bool)
    return ratio_by_unit(units, on_time.groupby(rows["grid_id"]).sum(), rows.groupby("grid_id").size())


INDICATORS = {"grievance_on_time": grievance_on_time}
