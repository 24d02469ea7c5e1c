"""This app's indicators for the CREI (civicgrid.analytics.crei): equity of confirmed allocation rounds.

They read the tally ``relief.allocations`` (:mod:`civicgrid.core.tallies`): per round, grid and group
(vulnerable or other household) the requests, those that reached their floor, units allocated and units
needed. A round's confirm recounts its own cells in its transaction; the page never reads allocations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db.models import Case, Count, F, Q, Sum, Value, When

from civicgrid.core import tallies
from civicgrid.core.indicators import Units
from civicgrid.registry.models import vulnerable_score
from civicgrid.relief.models import RoundAllocation

TALLY = "relief.allocations"


def _group() -> Case:
    return Case(When(household__vulnerability_score__gte=vulnerable_score(), then=Value("vulnerable")),
                default=Value("other"))


def _measures() -> dict[str, Any]:
    return {"requests": Count("id"), "reached": Count("id", filter=Q(quantity__gte=F("floor"))),
            "allocated": Sum("quantity"), "needed": Sum("need_quantity")}


TALLIES = {TALLY: tallies.Tally(rows=RoundAllocation.objects.all, grid="household__grid_id", part="round_id",
                                group=_group, measures=_measures,
                                max_age=timedelta(days=1))}  # kept in step by each write; the daily recount re-reads scores


def _gap(units: Units, value: Callable[[dict[str, float]], float]) -> dict[str, float] | None:
    """``value(other households) - value(vulnerable households)`` per unit, from the tally's sums."""
    cells = tallies.read(TALLY)
    if not cells:
        return None
    by_grid: dict[tuple[Any, str], dict[str, float]] = {(c["grid"], c["group"]): c for c in cells}
    measures = list(_measures())
    out = {}
    for unit, ids in units.items():
        sums = {g: {k: sum(float(by_grid[(i, g)][k]) for i in ids if (i, g) in by_grid) for k in measures}
                for g in ("vulnerable", "other")}
        vulnerable, other = sums["vulnerable"], sums["other"]
        out[unit] = (value(other) - value(vulnerable) if vulnerable["requests"] and other["requests"]
                     else float("nan"))
    return out


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def coverage_gap(units: Units) -> dict[str, float] | None:
    """Share of other households' requests that reached their floor minus the vulnerable households'."""
    return _gap(units, lambda s: _ratio(s["reached"], s["requests"]))


def unmet_need_gap(units: Units) -> dict[str, float] | None:
    """Unmet share of need of vulnerable households minus that of other households."""
    return _gap(units, lambda s: -(1 - _ratio(s["allocated"], s["needed"])))


INDICATORS = {"coverage_gap": coverage_gap, "unmet_need_gap": unmet_need_gap}
