"""Reads for alerts, through the caller's scope (publishers) or through the alert's own targets
(everyone's notices page)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet

from civicgrid.alerts import targeting
from civicgrid.alerts.models import Acknowledgement, Alert, Delivery, Notice
from civicgrid.core.scoping import Scope, require, scoped

FEED_SIZE = 50


@dataclass(frozen=True)
class Progress:
    """One channel's deliveries of an alert by state."""

    channel: str
    label: str
    sent: int
    queued: int
    failed: int

    @property
    def total(self) -> int:
        return self.sent + self.queued + self.failed

    @property
    def percent_done(self) -> int:
        return round(100 * (self.sent + self.failed) / self.total) if self.total else 100


@dataclass(frozen=True)
class Reach:
    targeted: int
    acknowledged: int
    rate: float | None
    deliveries: dict[str, dict[str, int]]  # channel -> state -> count

    @property
    def progress(self) -> list[Progress]:
        labels = dict(Delivery.Channel.choices)
        return [Progress(channel=c, label=str(labels.get(c, c)), sent=s.get("sent", 0), queued=s.get("queued", 0),
                         failed=s.get("failed", 0)) for c, s in sorted(self.deliveries.items())]

    @property
    def sending(self) -> bool:
        """Messages still wait in the outbox (the page refreshes itself until none do)."""
        return any(s.get("queued", 0) for s in self.deliveries.values())


def alert_list(*, scope: Scope) -> QuerySet[Alert]:
    """Alerts in the publisher's area (areas inside theirs and the areas containing it)."""
    require(scope, "alerts_publish")
    return scoped(Alert.objects.select_related("area", "published_by"), scope)


def alerts_for_user(*, user: Any, scope: Scope) -> QuerySet[Alert]:
    """Alerts sent to this user (their household, or them as a volunteer or grid member)."""
    require(scope, "alerts")
    return targeting.alerts_reaching(user).select_related("area")


def alert_get(*, user: Any, scope: Scope, alert_id: int) -> Alert:
    """An alert the user received, or (for publishers) one in their area; else DoesNotExist (404)."""
    require(scope, "alerts")
    received = alerts_for_user(user=user, scope=scope).filter(pk=alert_id)
    if scope.may("alerts_publish"):
        return (received | alert_list(scope=scope).filter(pk=alert_id)).distinct().get()
    return received.get()


def acknowledged_ids(*, user: Any, alert_ids: list[int]) -> set[int]:
    return set(Acknowledgement.objects.filter(user=user, alert_id__in=alert_ids).values_list("alert_id", flat=True))


def alert_reach(*, alert: Alert) -> Reach:
    """The alert's acknowledgements and its deliveries by channel and state: one grouped count, however many
    deliveries (a district-wide alert is hundreds of thousands)."""
    counts: dict[str, dict[str, int]] = {}
    for row in Delivery.objects.filter(alert=alert).values("channel", "state").annotate(n=Count("id")):
        counts.setdefault(row["channel"], {})[row["state"]] = row["n"]
    return Reach(targeted=alert.n_targeted, acknowledged=alert.n_acknowledged, rate=alert.reach_rate,
                 deliveries=counts)


def notices_for(*, user: Any) -> QuerySet[Notice]:
    """The user's own notices (personal by construction, so no place scope applies)."""
    return Notice.objects.filter(user=user)


def public_alerts(*, area_code: str = "") -> QuerySet[Alert]:
    """Alerts for the public feed: not the responders-only ones and not tests; optionally only those
    covering the place with ``area_code`` (its own, those above it and those inside it)."""
    alerts = Alert.objects.select_related("area", "references").prefetch_related("clarifications") \
        .exclude(group__in=[Alert.Group.VOLUNTEERS, Alert.Group.GRID_MEMBERS]).exclude(status=Alert.Status.TEST)
    if area_code:
        from civicgrid.registry.models import Place

        place = Place.objects.get(code=area_code)
        alerts = alerts.filter(targeting._serves_area(place.path))
    return alerts.order_by("-sent_at", "-id")[:FEED_SIZE]  # type: ignore[return-value]


def public_alert_get(*, alert_id: int) -> Alert:
    return Alert.objects.select_related("area", "references").exclude(
        group__in=[Alert.Group.VOLUNTEERS, Alert.Group.GRID_MEMBERS]).get(pk=alert_id)
