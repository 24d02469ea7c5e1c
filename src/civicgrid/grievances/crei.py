"""This app's indicator for the CREI (civicgrid.analytics.crei): complaints decided on time."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from civicgrid.core.indicators import Units, ratio_by_unit, series
from civicgrid.grievances.models import Grievance


def grievance_on_time(units: Units) -> dict[str, float] | None:
    """Complaints decided within their time limit / complaints decided, last 12 months, by grid."""
    rows = list(Grievance.objects.filter(closed_on_time__isnull=False,
                                         closed_at__gte=timezone.now() - timedelta(days=365))
                .values("grid_id").annotate(decided=Count("id"),
                                                    on_time=Count("id", filter=Q(closed_on_time=True))).order_by())
    if not rows:
        return None
    return ratio_by_unit(units, series(rows, "on_time", key="grid_id"), series(rows, "decided", key="grid_id"))


INDICATORS = {"grievance_on_time": grievance_on_time}
