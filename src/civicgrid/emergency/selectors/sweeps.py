"""Sweep progress and the visit lists. Every figure is one aggregate query over the sweep's visits, so
the pages answer in constant queries whatever the number of households."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from civicgrid.core.scoping import Scope, require, scoped
from civicgrid.emergency.models import Sweep, SweepVisit
from civicgrid.registry.models import Place


@dataclass(frozen=True)
class GridProgress:
    grid_id: int
    grid_code: str
    grid_name: str
    total: int
    safe: int
    needs_help: int
    not_home: int
    pending: int
    vulnerable: int
    vulnerable_reached: int

    @property
    def reached(self) -> int:
        return self.safe + self.needs_help

    @property
    def percent(self) -> int:
        return round(100 * self.reached / self.total) if self.total else 100


def sweep_list(*, scope: Scope) -> QuerySet[Sweep]:
    require(scope, "emergency")
    return scoped(Sweep.objects.select_related("emergency__community"), scope)


def sweep_get(*, scope: Scope, sweep_id: int) -> Sweep:
    return sweep_list(scope=scope).get(pk=sweep_id)


def _visits(scope: Scope, sweep: Sweep) -> QuerySet[SweepVisit]:
    return scoped(SweepVisit.objects.filter(sweep=sweep), scope)


def sweep_progress(*, scope: Scope, sweep: Sweep) -> list[GridProgress]:
    """Per grid in the scope: visits by outcome, and vulnerable households reached."""
    rows = _visits(scope, sweep).values("grid_id", "grid__code", "grid__name").annotate(
        total=Count("id"), safe=Count("id", filter=Q(state="safe")),
        needs_help=Count("id", filter=Q(state="needs_help")), not_home=Count("id", filter=Q(state="not_home")),
        pending=Count("id", filter=Q(state="pending")), n_vulnerable=Count("id", filter=Q(vulnerable=True)),
        n_vulnerable_reached=Count("id", filter=Q(vulnerable=True, state__in=SweepVisit.REACHED)),
    ).order_by("grid__code")
    return [GridProgress(grid_id=r["grid_id"], grid_code=r["grid__code"], grid_name=r["grid__name"],
                         vulnerable=r["n_vulnerable"], vulnerable_reached=r["n_vulnerable_reached"],
                         **{k: r[k] for k in ("total", "safe", "needs_help", "not_home", "pending")}) for r in rows]


def visits_to_do(*, scope: Scope, sweep: Sweep, grid: Place | None = None,
                 now: datetime | None = None) -> QuerySet[SweepVisit]:
    """Visits to make now: never visited, or not at home and due for a revisit; vulnerable first."""
    now = now or timezone.now()
    visits = _visits(scope, sweep).filter(Q(state=SweepVisit.State.PENDING)
                                          | Q(state=SweepVisit.State.NOT_HOME, revisit_at__lte=now))
    if grid is not None:
        visits = visits.filter(grid=grid)
    return visits.select_related("household").only(
        "id", "state", "priority", "vulnerable", "attempts", "revisit_at", "grid_id", "household__code",
        "household__address", "household__size", "household__vulnerability_summary").order_by(
        "-priority", "household_id")


def visits_later(*, scope: Scope, sweep: Sweep, grid: Place | None = None,
                 now: datetime | None = None) -> QuerySet[SweepVisit]:
    """Households not at home whose revisit is still ahead."""
    visits = _visits(scope, sweep).filter(state=SweepVisit.State.NOT_HOME, revisit_at__gt=now or timezone.now())
    if grid is not None:
        visits = visits.filter(grid=grid)
    return visits.select_related("household").only(
        "id", "state", "revisit_at", "household__address").order_by("revisit_at")


def visit_get(*, scope: Scope, visit_id: int) -> SweepVisit:
    return scoped(SweepVisit.objects.select_related("household", "sweep__emergency__community", "grid"),
                  scope).get(pk=visit_id)


def unreached_vulnerable(*, scope: Scope, sweep: Sweep) -> QuerySet[SweepVisit]:
    return _visits(scope, sweep).filter(vulnerable=True, state__in=SweepVisit.TO_DO).select_related(
        "household", "grid").order_by("-priority", "household_id")


def sweep_grids(*, scope: Scope, sweep: Sweep) -> QuerySet[Place]:
    """The grids of the sweep's community the scope may work in."""
    return scoped(Place.objects.filter(level="grid", parent=sweep.emergency.community), scope).order_by("code")
