"""This app's deliverable counters (``AppPlugin.deliverables``): what a purchased-service milestone can be
tied to."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civicgrid.core.plugins import Deliverable
from civicgrid.relief.models import DeliveryStop


def deliveries_done(*, place_path: str, start: datetime, end: datetime, actor_id: int | None) -> int:
    """Households delivered to (confirmed with their one-time code) in the place and period; with ``actor_id``,
    only deliveries of tasks given to that organisation or made by its staff."""
    found = DeliveryStop.objects.filter(status=DeliveryStop.Status.DELIVERED, task__place_path__startswith=place_path,
                                        delivered_at__gte=start, delivered_at__lte=end)
    if actor_id is not None:
        found = found.filter(Q(task__organisation_id=actor_id) | Q(delivered_by__role__actor_id=actor_id))
    return found.count()


DELIVERABLES = {"deliveries_done": Deliverable(_("households delivered to"), deliveries_done)}
