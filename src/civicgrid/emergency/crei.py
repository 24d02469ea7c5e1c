"""This app's indicators for the CREI (civicgrid.analytics.crei): plans and drills."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count
from django.utils import timezone

from civicgrid.core.indicators import Units
from civicgrid.emergency.models import Drill, PlanTemplate
from civicgrid.registry.selectors import grid_parents

HAZARDS = ("epidemic", "earthquake", "flood")


def plans_in_force(units: Units) -> dict[str, float] | None:
    """Hazards with a plan / 3. Plans are shared templates, so every unit has the same value (and the
    CREI reports the indicator as not discriminating until communities adopt plans of their own)."""
    covered = set(PlanTemplate.objects.values_list("hazard", flat=True)) & set(HAZARDS)
    return {unit: len(covered) / len(HAZARDS) for unit in units}


def drills_12m(units: Units) -> dict[str, float] | None:
    """Drills run in the unit's community (or communities) in the last 365 days."""
    since = timezone.now() - timedelta(days=365)
    per_community = dict(Drill.objects.filter(started_at__gte=since).values_list("community_id")
                         .annotate(n=Count("id")).order_by())
    community_of_grid = grid_parents()
    return {unit: float(sum(per_community.get(c, 0) for c in {community_of_grid.get(g) for g in ids}))
            for unit, ids in units.items()}


INDICATORS = {"plans_in_force": plans_in_force, "drills_12m": drills_12m}
