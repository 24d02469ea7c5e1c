"""Reads for grievances, always through the caller's scope, and the monthly published rates."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from civicgrid.core.places import ancestor_at
from civicgrid.core.scoping import Scope, require, scoped
from civicgrid.grievances.models import Appeal, Grievance, Pause, Step
from civicgrid.registry.models import Place


def grievance_list(*, scope: Scope, state: str = "", overdue: bool = False, now: datetime | None = None
                   ) -> QuerySet[Grievance]:
    require(scope, "grievances")
    rows = scoped(Grievance.objects.select_related("grid", "household"), scope)
    if state in Grievance.State.values:
        rows = rows.filter(state=state)
    if overdue:
        rows = rows.filter(state=Grievance.State.OPEN, due_at__lt=now or timezone.now())
    return rows.order_by("-filed_at", "-id")


def grievance_get(*, scope: Scope, grievance_id: int) -> Grievance:
    require(scope, "grievances")
    return scoped(Grievance.objects.select_related("grid", "household", "filed_by"), scope).get(pk=grievance_id)


def pauses_of(grievance: Grievance) -> QuerySet[Pause]:
    return grievance.pauses.select_related("started_by")


def steps_of(grievance: Grievance) -> QuerySet[Step]:
    return grievance.steps.select_related("user")


def appeals_of(grievance: Grievance) -> QuerySet[Appeal]:
    return grievance.appeals.select_related("reviewer")


def appeal_get(*, scope: Scope, grievance: Grievance, appeal_id: int) -> Appeal:
    return appeals_of(grievance).get(pk=appeal_id)


def pending_appeals(*, scope: Scope) -> QuerySet[Appeal]:
    require(scope, "grievances")
    visible = scoped(Grievance.objects.all(), scope).values("pk")
    return Appeal.objects.filter(outcome="pending", grievance_id__in=visible).select_related("grievance")


# --- the monthly published rates ---------------------------------------------------------------
@dataclass(frozen=True)
class MonthRates:
    """One month of a community's grievances (by month filed; appeals by month decided).

    ``response_rate``: answered / filed. ``on_time_rate``: decided within the business clock / decided or
    still open past it. ``satisfied_rate``: rated 4 or 5 / rated. ``upheld_rate``: appeals upheld / decided."""

    month: date
    filed: int
    responded: int
    on_time: int
    late: int
    rated: int
    satisfied: int
    mean_rating: float | None
    appeals_decided: int
    appeals_upheld: int

    @staticmethod
    def _rate(n: int, d: int) -> float | None:
        return n / d if d else None

    @property
    def response_rate(self) -> float | None:
        return self._rate(self.responded, self.filed)

    @property
    def on_time_rate(self) -> float | None:
        return self._rate(self.on_time, self.on_time + self.late)

    @property
    def satisfied_rate(self) -> float | None:
        return self._rate(self.satisfied, self.rated)

    @property
    def upheld_rate(self) -> float | None:
        return self._rate(self.appeals_upheld, self.appeals_decided)


def _month(at: datetime | None) -> date:
    assert at is not None
    local = timezone.localtime(at)
    return date(local.year, local.month, 1)


def rate_communities(*, scope: Scope) -> QuerySet[Place]:
    """The communities whose rates the user may read: a resident's own, the communities in a staff area."""
    require(scope, "grievances")
    if scope.home_path:
        return Place.objects.filter(path=ancestor_at(scope.home_path, "community"))
    communities = Place.objects.filter(level="community")
    if scope.unrestricted:
        return communities
    around = {ancestor_at(path, "community") for path in scope.area_paths} - {""}  # a grid member's community
    return (scoped(communities, scope) | communities.filter(path__in=around)).order_by("path")


def monthly_rates(*, community: Place, now: datetime | None = None) -> list[MonthRates]:
    """Every month with a grievance filed or an appeal decided in the community, newest first. Counts only:
    a sensitive grievance counts like any other, and nothing identifies anyone."""
    now = now or timezone.now()
    rows = Grievance.objects.filter(place_path__startswith=community.path).values(
        "filed_at", "responded_at", "closed_on_time", "state", "due_at", "rating")
    months: dict[date, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    ratings: dict[date, list[int]] = defaultdict(list)
    for r in rows:
        m = months[_month(r["filed_at"])]
        m["filed"] += 1
        m["responded"] += r["responded_at"] is not None
        if r["closed_on_time"] is not None:
            m["on_time" if r["closed_on_time"] else "late"] += 1
        elif r["state"] == "open" and r["due_at"] is not None and r["due_at"] < now:
            m["late"] += 1
        if r["rating"] is not None:
            ratings[_month(r["filed_at"])].append(r["rating"])
    decided = Appeal.objects.filter(grievance__place_path__startswith=community.path, decided_at__isnull=False)
    for a in decided.values("decided_at", "outcome"):
        m = months[_month(a["decided_at"])]  # decided_at is set: filtered above
        m["appeals_decided"] += 1
        m["appeals_upheld"] += a["outcome"] == "upheld"
    out = []
    for month in sorted(months, reverse=True):
        m, rs = months[month], ratings.get(month, [])
        out.append(MonthRates(month=month, filed=m["filed"], responded=m["responded"], on_time=m["on_time"],
                              late=m["late"], rated=len(rs), satisfied=sum(1 for x in rs if x >= 4),
                              mean_rating=sum(rs) / len(rs) if rs else None, appeals_decided=m["appeals_decided"],
                              appeals_upheld=m["appeals_upheld"]))
    return out
