"""What an emergency's after-action review is measured on (read when the emergency ends)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from civicgrid.emergency.models import Emergency, MissedCheckIn, SweepVisit


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
