"""This app's indicators for the CREI (civicgrid.analytics.crei), from its own records: hours served,
vulnerable residents with a paired helper, courses attended. Each is ``provider(units) -> {unit: value}``
or None while nothing is recorded (the indicator is then reported as missing)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
from django.db.models import Count, Q, Sum
from django.utils import timezone

from civicgrid.core import tallies
from civicgrid.core.indicators import Units, ratio_by_unit, series
from civicgrid.core.places import ancestor_at
from civicgrid.core.tallies import Tally
from civicgrid.registry.crei import residents_per_grid
from civicgrid.registry.models import Place
from civicgrid.volunteers.models import Certificate, HelperAssignment, HoursEntry
from civicgrid.volunteers.selectors import COUNTED, paired_residents, vulnerable_residents

YEAR = timedelta(days=365)


def _by_grid(rows: list[tuple[str, Any]]) -> pd.Series:
    """Values keyed by a place path (summed per path in the database), summed per grid id (rows above
    grid level are left out)."""
    grid_ids = dict(Place.objects.filter(level="grid").values_list("path", "pk"))
    sums: dict[int, float] = {}
    for path, value in rows:
        gid = grid_ids.get(ancestor_at(path, "grid"))
        if gid is not None:
            sums[gid] = sums.get(gid, 0.0) + float(value)
    return pd.Series(sums, dtype=float)


def _residents() -> pd.Series:
    return residents_per_grid()


def volunteer_hours(units: Units) -> dict[str, float] | None:
    """Counted volunteer hours of the last 12 months (where the act took place) per resident."""
    since = timezone.localdate() - YEAR
    rows = list(HoursEntry.objects.filter(COUNTED, on__gte=since).values_list("place_path")
                .annotate(hours=Sum("hours")).order_by())
    if not rows:
        return None
    return ratio_by_unit(units, _by_grid(rows), _residents())


def _count_helped() -> dict[str, Any]:
    return {"vulnerable": Count("id"), "helped": Count("id", filter=Q(pk__in=paired_residents()))}


HELPERS = "volunteers.helpers"
# Vulnerable residents and those with a paired helper, per grid: a scan of every vulnerable resident, so
# counted by the job (the CREI page says when).
TALLIES = {HELPERS: Tally(rows=vulnerable_residents, grid="household__grid_id", measures=_count_helped,
                          max_age=timedelta(minutes=10))}


def vulnerable_with_helper(units: Units) -> dict[str, float] | None:
    """Vulnerable residents with an active paired helper / vulnerable residents."""
    if not HelperAssignment.objects.exists():
        return None
    cells = tallies.read(HELPERS)
    return ratio_by_unit(units, series(cells, "helped"), series(cells, "vulnerable"))


def training_attendance(units: Units) -> dict[str, float] | None:
    """Course attendances of the last 12 months (where the volunteer lives or serves) per 1,000 residents."""
    since = timezone.localdate() - YEAR
    rows = [(path, 1000.0 * n) for path, n in Certificate.objects.filter(attended_on__gte=since)
            .values_list("volunteer__place_path").annotate(n=Count("id")).order_by()]
    if not rows:
        return None
    return ratio_by_unit(units, _by_grid(rows), _residents())


INDICATORS = {"volunteer_hours": volunteer_hours, "vulnerable_with_helper": vulnerable_with_helper,
              "training_attendance": training_attendance}
