"""This app's indicator for the CREI (civicgrid.analytics.crei): the share of a community's recorded
decisions that its residents' own bodies took."""

from __future__ import annotations

from django.db.models import Count, Q

from civicgrid.core.indicators import Units
from civicgrid.core.places import ancestor_at
from civicgrid.council.models import Decision
from civicgrid.registry.selectors import grid_paths


def resident_body_decisions(units: Units) -> dict[str, float] | None:
    """Per unit: decisions by residents' bodies / all decisions, over the communities its grids lie in
    (decisions are taken for a whole community). None when no decision is recorded at all."""
    rows = {path: (by_residents, n) for path, by_residents, n in Decision.objects.values_list("place_path")
            .annotate(by_residents=Count("id", filter=Q(residents_body=True)), n=Count("id")).order_by()
            .values_list("place_path", "by_residents", "n")}
    if not rows:
        return None
    paths = grid_paths()
    out: dict[str, float] = {}
    for unit, ids in units.items():
        communities = {ancestor_at(paths[i], "community") for i in ids if i in paths}
        mine = [rows[c] for c in communities if c in rows]
        n = sum(m[1] for m in mine)
        out[unit] = sum(m[0] for m in mine) / n if n else float("nan")
    return out


INDICATORS = {"resident_body_decisions": resident_body_decisions}
