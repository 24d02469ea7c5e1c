"""This app's indicators for the CREI (civicgrid.analytics.crei): how far risk information reaches.

They read the tally ``alerts.reach`` (:mod:`civicgrid.core.tallies`): per alert and grid, the households
an alert was delivered to and those of them that acknowledged it, dated by the alert's sending. Publishing
an alert counts its cells and an acknowledgement recounts its alert's cells of its grid, each in its own
transaction; the page never reads deliveries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from civicgrid.alerts.models import Acknowledgement, Delivery
from civicgrid.core import tallies
from civicgrid.core.indicators import Units, ratio_by_unit, series

TALLY = "alerts.reach"


def _deliveries() -> Any:
    return Delivery.objects.filter(household__isnull=False, alert__sent_at__isnull=False)


def _measures() -> dict[str, Any]:
    acknowledged = Exists(Acknowledgement.objects.filter(alert_id=OuterRef("alert_id"),
                                                         household_id=OuterRef("household_id")))
    return {"targeted": Count("household_id", distinct=True),
            "acknowledged": Count("household_id", distinct=True, filter=Q(acknowledged))}


TALLIES = {TALLY: tallies.Tally(rows=_deliveries, grid="household__grid_id", part="alert_id",
                                day="alert__sent_at", measures=_measures,
                                max_age=timedelta(days=1))}  # kept in step by each write; the daily recount re-reads scores


def risk_info_reach(units: Units) -> dict[str, float] | None:
    """Households that acknowledged an alert / households an alert was delivered to, last 12 months
    (alerts sent on or after the day 365 days ago)."""
    cells = tallies.read(TALLY, since=timezone.localdate() - timedelta(days=365))
    if not cells:
        return None
    return ratio_by_unit(units, series(cells, "acknowledged"), series(cells, "targeted"))


INDICATORS = {"risk_info_reach": risk_info_reach}
