"""This app's indicator for the CREI (civicgrid.analytics.crei): the share of a community's recorded
decisions that its residents' own bodies took."""

from __future__ import annotations

from civicgrid.core.indicators import Units
from civicgrid.core.places import ancestor_at
from civicgrid.council.models import Decision
from civicgrid.registry.models import Place


def resident_body_decisions(units: Units) -> dict[str, float] | None:
    """Per unit: decisions by residents' bodies / all decisions, over the communities its grids lie in
    (decisions are taken for a whole community). None when no decision is recorded at all."""
    rows = list(Decision.objects.values_list("place_path", "residents_body"))
    if not rows:
        return None
    paths = dict(Place.objects.filter(level="grid").values_list("id", "path"))
    out: dict[str, float] = {}
    for unit, ids in units.items():
        communities = {ancestor_at(paths[i], "community") for i in ids if i in paths}
        mine = [residents for path, residents in rows if path in communities]
        out[unit] = sum(mine) / len(mine) if mine else float("nan")
    return out


INDICATORS = {"resident_body_decisions": resident_body_decisions}
