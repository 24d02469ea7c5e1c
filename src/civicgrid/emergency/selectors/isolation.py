"""Home isolation, as the caller's scope sees it."""

from __future__ import annotations

from datetime import date

from django.db.models import Exists, OuterRef, QuerySet

from civicgrid.core.scoping import Scope, require, scoped
from civicgrid.emergency.models import CheckIn, Isolation, MissedCheckIn


def isolation_list(*, scope: Scope, active_on: date | None = None) -> QuerySet[Isolation]:
    require(scope, "residents")
    isolations = scoped(Isolation.objects.select_related("resident", "household", "household__grid"), scope)
    if active_on is not None:
        isolations = isolations.filter(start_date__lte=active_on, end_date__gte=active_on).annotate(
            checked_in=Exists(CheckIn.objects.filter(isolation=OuterRef("pk"), day=active_on)))
    return isolations


def isolation_get(*, scope: Scope, isolation_id: int) -> Isolation:
    require(scope, "residents")
    return scoped(Isolation.objects.select_related("resident", "household", "household__grid"),
                  scope).get(pk=isolation_id)


def missed_open(*, scope: Scope) -> QuerySet[MissedCheckIn]:
    """Missed check-ins nobody has made up for yet."""
    require(scope, "residents")
    return scoped(MissedCheckIn.objects.filter(resolved_at__isnull=True).select_related(
        "isolation__resident", "isolation__household"), scope)
