"""What an emergency's after-action review is measured on (read when the emergency ends)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from civicgrid.emergency.models import Emergency, MissedCheckIn, SweepVisit

# The review's figures by their names (a page shows these, never the keys).
REVIEW_LABELS: dict[str, Any] = {
    "hours_active": _("Hours in emergency mode"),
    "tasks": _("Tasks"),
    "tasks_done": _("Tasks done"),
    "tasks_done_on_time": _("Tasks done on time"),
    "households_swept": _("Households in the door-to-door sweep"),
    "households_reached": _("Households reached"),
    "vulnerable_households": _("Vulnerable households"),
    "vulnerable_reached": _("Vulnerable households reached"),
    "hours_to_reach_vulnerable": _("Hours until every vulnerable household was reached"),
    "opening_alert_reach_rate": _("Share of households that acknowledged the opening alert"),
    "missed_checkins": _("Missed isolation check-ins"),
}


def review_rows(facts: dict[str, Any]) -> list[tuple[str, Any]]:
    """The review's figures as (name in the reader's language, value); a share as a percentage."""
    rows = []
    for key, value in (facts or {}).items():
        if key == "opening_alert_reach_rate" and value is not None:
            value = f"{float(value) * 100:.0f}%"
        rows.append((str(REVIEW_LABELS.get(key, key)), value))
    return rows


def review_facts(emergency: Emergency, now: datetime) -> dict[str, Any]:
    """What the after-action review is measured on, computed when the emergency ends."""
    tasks = list(emergency.tasks.values_list("state", "due_at", "done_at"))
    visits = SweepVisit.objects.filter(sweep__emergency=emergency)
    alert = emergency.opening_alert
    hours = (now - emergency.activated_at).total_seconds() / 3600
    reached = emergency.vulnerable_reached_at
    return {
        "hours_active": round(hours, 2),
        "tasks": len(tasks), "tasks_done": sum(1 for s, _d, _t in tasks if s == "done"),
        "tasks_done_on_time": sum(1 for s, d, t in tasks if s == "done" and t is not None and t <= d),
        "households_swept": visits.count(),
        "households_reached": visits.filter(state__in=SweepVisit.REACHED).count(),
        "vulnerable_households": visits.filter(vulnerable=True).count(),
        "vulnerable_reached": visits.filter(vulnerable=True, state__in=SweepVisit.REACHED).count(),
        "hours_to_reach_vulnerable": round((reached - emergency.activated_at).total_seconds() / 3600, 2)
        if reached else None,
        "opening_alert_reach_rate": alert.reach_rate if alert else None,
        "missed_checkins": MissedCheckIn.objects.filter(isolation__emergency=emergency).count(),
    }
