"""The alerts app's part of each user's home page (``AppPlugin.work_items`` and ``glance``): alerts the
user received and has not acknowledged yet; for publishers, the reach of the latest alert in their area."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from civicgrid.alerts import selectors
from civicgrid.alerts.models import Acknowledgement, Alert
from civicgrid.core.plugins import DUE, OPEN, WORK_LIMIT, Glance, WorkItem, with_rest
from civicgrid.core.scoping import Scope


def to_acknowledge(*, user: Any, scope: Scope) -> QuerySet[Alert]:
    """Alerts sent to the user, still in force, that they have not acknowledged, newest first."""
    now = timezone.now()
    return selectors.alerts_for_user(user=user, scope=scope).exclude(status=Alert.Status.TEST).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)).exclude(
        pk__in=Acknowledgement.objects.filter(user=user).values("alert_id")).order_by("-sent_at", "-id")


def work_items(*, user: Any, scope: Scope) -> list[WorkItem]:
    if not scope.may("alerts"):
        return []
    alerts = to_acknowledge(user=user, scope=scope)
    url = reverse("alerts:notices")
    return with_rest([WorkItem(kind="alerts.ack", app="alerts", url=url, title=a.headline or a.event, due=None,
                               urgency=DUE if a.urgency == Alert.Urgency.IMMEDIATE else OPEN,
                               place=a.area.name, detail=_("Read it and tap “I have read this”"))
                      for a in alerts[:WORK_LIMIT]], alerts.count(), lambda n: WorkItem(
        kind="alerts.ack", app="alerts", url=url, count=n, urgency=OPEN,
        title=ngettext("%(n)d more alert to acknowledge", "%(n)d more alerts to acknowledge", n) % {"n": n}))


def glance(*, user: Any, scope: Scope) -> list[Glance]:
    if not scope.may("alerts_publish") or scope.role == "grid_member":
        return []
    latest = selectors.alert_list(scope=scope).exclude(status=Alert.Status.TEST).order_by("-sent_at", "-id").first()
    if latest is None:
        return [Glance(key="alerts.reach", app="alerts", order=30, label=_("Alert reach"), value="–",
                       lines=(_("No alert sent in your area yet."),))]
    rate = latest.reach_rate
    return [Glance(key="alerts.reach", app="alerts", order=30, label=_("Alert reach"),
                   url=reverse("alerts:detail", args=[latest.pk]),
                   value=f"{number_format(rate * 100, 0)}%" if rate is not None else "–",
                   alarm=rate is not None and rate < 0.5,
                   lines=(latest.headline, _("%(ack)s of %(targeted)s acknowledged") % {
                       "ack": number_format(latest.n_acknowledged, force_grouping=True),
                       "targeted": number_format(latest.n_targeted, force_grouping=True)}))]
