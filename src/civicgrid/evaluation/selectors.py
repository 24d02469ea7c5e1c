"""Reads for the "what changed" page, through the user's scope."""

from __future__ import annotations

from django.db.models import QuerySet

from civicgrid.core.scoping import Scope, get_in_scope, require, scoped
from civicgrid.emergency.models import Emergency
from civicgrid.evaluation.models import Comparison
from civicgrid.registry.models import Place


def communities(*, scope: Scope) -> QuerySet[Place]:
    """Communities the user may compare (a director's own; an official's whole district)."""
    require(scope, "analytics")
    return scoped(Place.objects.filter(level="community"), scope).order_by("code")


def emergencies(*, scope: Scope) -> QuerySet[Emergency]:
    """Emergency activations (not drills) in the user's area, newest first: the events to compare around."""
    require(scope, "analytics")
    return scoped(Emergency.objects.filter(is_drill=False), scope).select_related("community").order_by(
        "-activated_at", "-id")


def emergency_get(*, scope: Scope, emergency_id: int) -> Emergency:
    require(scope, "analytics")
    return get_in_scope(Emergency.objects.filter(is_drill=False).select_related("community"), scope, pk=emergency_id)


def comparisons(*, scope: Scope) -> QuerySet[Comparison]:
    """Saved comparisons in the user's area, newest first."""
    require(scope, "analytics")
    return scoped(Comparison.objects.select_related("community"), scope)


def comparison_get(*, scope: Scope, comparison_id: int) -> Comparison:
    require(scope, "analytics")
    return get_in_scope(Comparison.objects.select_related("community", "rerun_of"), scope, pk=comparison_id)
