"""Reads of the simulation app, through the user's scope."""

from __future__ import annotations

from django.db.models import QuerySet

from civicgrid.core.scoping import Scope, get_in_scope, require, scoped
from civicgrid.registry.models import Place
from civicgrid.simulation.models import SimulationRun


def communities(*, scope: Scope) -> QuerySet[Place]:
    require(scope, "simulation")
    return scoped(Place.objects.filter(level="community"), scope).order_by("code")


def runs(*, scope: Scope) -> QuerySet[SimulationRun]:
    require(scope, "simulation")
    return scoped(SimulationRun.objects.select_related("community"), scope)


def run_get(*, scope: Scope, run_id: int) -> SimulationRun:
    require(scope, "simulation")
    return get_in_scope(SimulationRun.objects.select_related("community", "rerun_of"), scope, pk=run_id)
