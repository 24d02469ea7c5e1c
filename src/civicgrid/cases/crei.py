"""This app's indicators for the CREI (civicgrid.analytics.crei): the closed loop's punctuality."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, F, Q
from django.utils import timezone

from civicgrid.cases.models import Case
from civicgrid.core.indicators import Units, ratio_by_unit, series


def cases_on_time(units: Units) -> dict[str, float] | None:
    """Closed cases handled within their category's time limit / closed cases, last 12 months."""
    rows = list(Case.objects.filter(state=Case.State.CLOSED, closed_at__gte=timezone.now() - timedelta(days=365))
                .values("grid_id").annotate(closed=Count("id"), on_time=Count(
                    "id", filter=Q(handled_at__isnull=False, handled_at__lte=F("due_at")))).order_by())
    if not rows:
        return None
    return ratio_by_unit(units, series(rows, "on_time", key="grid_id"), series(rows, "closed", key="grid_id"))


INDICATORS = {"cases_on_time": cases_on_time}
