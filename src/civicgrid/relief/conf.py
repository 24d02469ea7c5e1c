"""The relief workflow's tunable numbers. Override any of them with a dict in the setting
``CIVICGRID_RELIEF`` (e.g. ``{"max_open_claims": 5}``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "max_open_claims": 3,  # delivery tasks one person may hold at once
    "claim_minutes": 120,  # a claim with no delivery recorded for this long goes back to the queue
    "delivery_hours": 24,  # a round's deliveries are due this long after it is confirmed
    "wrong_code_limit": 5,  # wrong one-time codes before a stop needs a new code
    # the expected time of a need nobody has allocated yet: hours after filing, by urgency
    "target_hours": {"critical": 4, "urgent": 24, "normal": 72},
    "max_need_quantity": 10_000,  # units one need may ask for (also capped by CIVICGRID_INPUT_LIMITS)
    "max_need_days": 30,  # an item with a standard per person: a need covers the household this many days
    "round_days": 3,  # days a round covers by default (Sphere floors are per day)
    # a confirmation whose preview holds at least this many requests runs as a background job with a progress
    # page (a district round takes a minute: longer than a proxy or the web server waits); smaller ones are
    # confirmed within the request
    "background_requests": 20_000,
}


def relief_setting(name: str) -> Any:
    return {**DEFAULTS, **getattr(settings, "CIVICGRID_RELIEF", {})}[name]
