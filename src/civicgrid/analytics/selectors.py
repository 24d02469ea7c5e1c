"""Reads for the analytics pages, through the user's scope."""

from __future__ import annotations

from django.db.models import QuerySet

from civicgrid.core.scoping import Scope, require, scoped
from civicgrid.registry.models import Place


def communities(*, scope: Scope) -> QuerySet[Place]:
    """Communities the scope reaches (a director's own; every one of an official's district)."""
    require(scope, "analytics")
    return scoped(Place.objects.filter(level="community"), scope).order_by("code")


def community_get(*, scope: Scope, community_id: int) -> Place:
    return communities(scope=scope).get(pk=community_id)


def places_for_index(*, scope: Scope) -> QuerySet[Place]:
    """Grids and communities in scope, for the CREI."""
    require(scope, "analytics")
    return scoped(Place.objects.filter(level__in=["grid", "community"]), scope).order_by("path")
