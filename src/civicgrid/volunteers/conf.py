"""The volunteers app's settings: ``CIVICGRID_VOLUNTEERS`` (a dict) overrides any of these defaults."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # hours credited for one confirmed act whose record carries no duration of its own (a delivery stop
    # confirmed with the household's code, a sweep visit that reached the household): a policy choice
    "hours_per_delivery": Decimal("0.50"),
    "hours_per_sweep_visit": Decimal("0.25"),
    "max_hours_per_entry": Decimal("12"),  # a single entry typed by hand (also the database's ceiling)
    "max_visit_minutes": 480,
    "max_transfer_minutes": 6000,  # one time-bank transfer: 100 hours
    "missed_after_days": 0,  # a visit not done by the end of its due day (+ this) is missed
}


def conf(name: str) -> Any:
    return {**DEFAULTS, **getattr(settings, "CIVICGRID_VOLUNTEERS", {})}[name]
