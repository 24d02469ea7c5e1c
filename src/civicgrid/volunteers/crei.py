"""This app's indicators for the CREI (civicgrid.analytics.crei), from its own records: hours served,
vulnerable residents with a paired helper, courses attended. Each is ``provider(units) -> {unit: value}``
or None while nothing is recorded (the indicator is then reported as missing)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from civicgrid.core import tallies
from civicgrid.core.indicators import Units, ratio_by_unit, series
from civicgrid.core.tallies import Tally
from civicgrid.registry.crei import residents_per_grid
from civicgrid.registry.models import Place
from civicgrid.volunteers.models import Certificate, HelperAssignment, HoursEntry
from civicgrid.volunteers.selectors import COUNTED, has_active_helper, vulnerable_residents

YEAR = timedelta(days=365)


def _grid_paths() -> dict[str, int]:
    return dict(Place.objects.filter(level="grid").values_list("path", "pk"))


def _residents() -> pd.Series:
    return residents_per_grid()


def _counted_hours_of_the_year() -> QuerySet[HoursEntry]:
    return HoursEntry.objects.filter(COUNTED, on__gte=timezone.localdate() - YEAR)


def _attended_in_the_year() -> QuerySet[Certificate]:
    return Certificate.objects.filter(attended_on__gte=timezone.localdate() - YEAR)


HOURS, TRAINING = "volunteers.hours", "volunteers.training"


def volunteer_hours(units: Units) -> dict[str, float] | None:
    """Counted volunteer hours of the last 12 months (where the act took place) per resident."""
    cells = tallies.read(HOURS)
    if not cells:
        return None
    return ratio_by_unit(units, series(cells, "hours"), _residents())


def _count_helped() -> dict[str, Any]:
    # asked per resident (selectors.has_active_helper): as ``pk IN (every pairing)`` this count ran for more
    # than five minutes at 1,000,000 households on PostgreSQL (issue 15)
    return {"vulnerable": Count("id"), "helped": Count("id", filter=Q(has_active_helper()))}


HELPERS = "volunteers.helpers"
# Vulnerable residents and those with a paired helper, per grid: a scan of every vulnerable resident, so
# counted by the job (the CREI page says when). Hours and course attendances of the last 12 months per
# grid: a year of records, so counted by the job too (the year before that count), not summed on every
# request (issue 15).
TALLIES = {HELPERS: Tally(rows=vulnerable_residents, grid="household__grid_id", measures=_count_helped,
                          max_age=timedelta(minutes=10)),
           HOURS: Tally(rows=_counted_hours_of_the_year, grid="place_path", grid_of_path=_grid_paths,
                        measures=lambda: {"hours": Sum("hours")}, max_age=timedelta(minutes=10)),
           TRAINING: Tally(rows=_attended_in_the_year, grid="volunteer__place_path", grid_of_path=_grid_paths,
                           measures=lambda: {"attended": Count("id")}, max_age=timedelta(minutes=10))}


def vulnerable_with_helper(units: Units) -> dict[str, float] | None:
    """Vulnerable residents with an active paired helper / vulnerable residents."""
    if not HelperAssignment.objects.exists():
        return None
    cells = tallies.read(HELPERS)
    return ratio_by_unit(units, series(cells, "helped"), series(cells, "vulnerable"))


def training_attendance(units: Units) -> dict[str, float] | None:
    """Course attendances of the last 12 months (where the volunteer lives or serves) per 1,000 residents."""
    cells = tallies.read(TRAINING)
    if not cells:
        return None
    return ratio_by_unit(units, 1000.0 * series(cells, "attended"), _residents())


INDICATORS = {"volunteer_hours": volunteer_hours, "vulnerable_with_helper": vulnerable_with_helper,
              "training_attendance": training_attendance}
