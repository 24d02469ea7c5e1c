"""Needs per grid and status, as a tally (:mod:`civicgrid.core.tallies`), for the pages that count a whole
area's needs: the needs list's status cards, the home page's unmet life-critical needs and the 3W board's
open need per grid. Counted live, these were scans of a district's 1.7 M needs on every request (0.2-1 s each
at 1,000,000 households on PostgreSQL, issue 15); read from the tally they are a few thousand cells.

The tally is kept exact by the writes, in their own transactions: a filing adds its new needs (and a merge
that makes a need critical, its critical count) to its grid's cells (:func:`filed`, one statement; need
intake runs at hundreds of filings a second, issue 11); every other service that changes a need's urgency or
status recounts the grids it touched (:func:`recount`; a district-wide round recounts them all). Its part is
the household's grid, so a recount replaces exactly those grids' cells. A household moving to another grid
(the registry's edit or a roster update import) recounts the grids it left and entered through
:func:`civicgrid.core.tallies.grids_changed`. The daily whole recount is a safety net, not the mechanism.

A page reads the tally only for a scope that sees whole grids (area roles: every household under their
places, which are grids or above); any other scope (a volunteer's task households) is counted live, and is
small.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet

from civicgrid.core import tallies
from civicgrid.core.places import depth, parts
from civicgrid.core.scoping import Scope
from civicgrid.registry.models import Place
from civicgrid.registry.selectors import grids_under, whole_grids
from civicgrid.relief.models import Need

NEEDS = "relief.needs"
WHOLE = 500  # grids touched at once from which a recount reads every need (a district round): one pass


def _measures() -> dict[str, Any]:
    return {"needs": Count("id"), "critical": Count("id", filter=Q(urgency="critical"))}


TALLIES = {NEEDS: tallies.Tally(rows=Need.objects.all, grid="household__grid_id", part="household__grid_id",
                                group=lambda: F("status"), measures=_measures,
                                max_age=timedelta(days=1))}  # kept by the writes; the daily recount for moves


def hold() -> None:
    """Take the needs tally's lock now (:func:`civicgrid.core.tallies.hold`), before the caller's audit rows."""
    tallies.hold(NEEDS)


def filed(added: Mapping[tuple[int, str], tuple[int, int]]) -> None:
    """Add (grid id, status) -> (needs, of them critical) to the tally, inside the filing's transaction (after
    its needs are written, before its audit rows): new needs, and needs a merge made critical (0, 1)."""
    tallies.add(NEEDS, {cell: amounts for cell, amounts in added.items() if any(amounts)})


def recount(grid_ids: Iterable[int]) -> None:
    """Recount the needs of these grids, inside the caller's transaction (after its writes to needs)."""
    grids = sorted({int(g) for g in grid_ids})
    if not grids:
        return
    if len(grids) >= WHOLE:  # most of a district: one pass over the needs, not thousands of grids spelled out
        tallies.rebuild(NEEDS)
    else:
        tallies.refresh(NEEDS, parts=grids)


def grids_of_round(paths: Iterable[str]) -> list[int]:
    """Ids of the grids a round over ``paths`` reaches: those under each path, and the grid holding a path
    below grid level (a building)."""
    from civicgrid.core.places import ancestor_at

    paths = list(paths)
    inside = [ancestor_at(p, "grid") for p in paths if len(parts(p)) > depth("grid")]
    found = grids_under([p for p in paths if len(parts(p)) <= depth("grid")])
    return list(found.values_list("pk", flat=True)) + list(
        Place.objects.filter(level="grid", path__in=inside).values_list("pk", flat=True))


def by_status(*, scope: Scope) -> dict[str, dict[str, int]] | None:
    """Status -> {"needs", "critical"} over the scope's grids, from the tally; None when the scope is not
    made of whole grids (count live instead)."""
    grids = whole_grids(scope)
    if grids is None:
        return None
    out: dict[str, dict[str, int]] = {}
    for cell in tallies.read(NEEDS, grids=grids.values("pk")):
        sums = out.setdefault(cell["group"], {"needs": 0, "critical": 0})
        sums["needs"] += int(cell["needs"] or 0)
        sums["critical"] += int(cell["critical"] or 0)
    return out


def per_grid(grids: QuerySet[Place], statuses: Iterable[str]) -> dict[int, int]:
    """Grid id -> needs in ``statuses``, for these grids (the 3W board's open need)."""
    keep = set(statuses)
    out: dict[int, int] = {}
    for cell in tallies.read(NEEDS, grids=grids.values("pk")):
        if cell["group"] in keep:
            out[cell["grid"]] = out.get(cell["grid"], 0) + int(cell["needs"] or 0)
    return out
