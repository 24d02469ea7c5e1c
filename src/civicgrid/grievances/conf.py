"""The grievance time limits: one setting, ``CIVICGRID_GRIEVANCES`` (a dict overriding any of these).

The defaults are assumptions, chosen to be close to what Chinese petition work asks of a grass-roots
office (an answer within days, a decision within about two weeks, a review on request within a month) and
to UNICEF HOPE's reminder rhythm (sensitive tickets daily). Every limit counts running time only: a stated
pause stops it (see clock.py)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

DEFAULTS: dict[str, int] = {
    "response_hours": 72,  # a first answer to the complainant
    "resolve_hours": 15 * 24,  # the business clock: from filing to the decision, never reset
    "level_hours": 5 * 24,  # each level's own clock: escalated one level up when it runs out
    "remind_hours": 24,  # a reminder this long before a level's or the business clock's limit
    "appeal_window_days": 30,  # the complainant may appeal within this many days of the decision
    "appeal_hours": 15 * 24,  # the reviewer decides an appeal within this
}


def value(name: str) -> int:
    return int({**DEFAULTS, **getattr(settings, "CIVICGRID_GRIEVANCES", {})}[name])


def hours(name: str) -> timedelta:
    return timedelta(hours=value(name))
