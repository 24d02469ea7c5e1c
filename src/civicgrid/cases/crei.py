"""This app's indicators for the CREI (civicgrid.analytics.crei): the closed loop's punctuality."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from civicgrid.cases.models import Case
from civicgrid.core import tallies
from civicgrid.core.indicators import Units, ratio_by_unit, series
from civicgrid.core.tallies import Tally

CLOSED = "cases.closed"


def _closed_in_the_year() -> QuerySet[Case]:
    return Case.objects.filter(state=Case.State.CLOSED, closed_at__gte=timezone.now() - timedelta(days=365))


def _count_on_time() -> dict[str, Any]:
    return {"closed": Count("id"),
            "on_time": Count("id", filter=Q(handled_at__isnull=False, handled_at__lte=F("due_at")))}


# Cases closed in the last 12 months per grid, and those handled in time: a year of cases, so counted by the
# job (the year before that count; the CREI page says when), not on every request (issue 15).
TALLIES = {CLOSED: Tally(rows=_closed_in_the_year, grid="grid_id", measures=_count_on_time,
                         max_age=timedelta(minutes=10))}


def cases_on_time(units: Units) -> dict[str, float] | None:
    """Closed cases handled within their category's time limit / closed cases, last 12 months."""
    cells = tallies.read(CLOSED)
    if not cells:
        return None
    return ratio_by_unit(units, series(cells, "on_time"), series(cells, "closed"))


INDICATORS = {"cases_on_time": cases_on_time}
