"""This app's indicators for the CREI (civicgrid.analytics.crei): the closed loop's punctuality."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from django.utils import timezone

from civicgrid.cases.models import Case
from civicgrid.core.indicators import Units, ratio_by_unit


def cases_on_time(units: Units) -> dict[str, float] | None:
    """Closed cases handled within their category's time limit / closed cases, last 12 months."""
    closed = Case.objects.filter(state=Case.State.CLOSED, closed_at__gte=timezone.now() - timedelta(days=365))
    rows = pd.DataFrame.from_records(closed.values("grid_id", "handled_at", "due_at"),
                                     columns=["grid_id", "handled_at", "due_at"])
    if rows.empty:
        return None
    on_time = rows["handled_at"].notna() & (rows["handled_at"] <= rows["due_at"])
    return ratio_by_unit(units, on_time.groupby(rows["grid_id"]).sum(), rows.groupby("grid_id").size())


INDICATORS = {"cases_on_time": cases_on_time}
