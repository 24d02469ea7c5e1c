"""'Emergency now': what matters in each active emergency the user can see, for their area only:
vulnerable households not yet reached, sweep progress, missed check-ins, open needs, their tasks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Q

from civicgrid.core.scoping import Scope
from civicgrid.emergency.models import Emergency, LiveTask, MissedCheckIn, Sweep, SweepVisit
from civicgrid.emergency.needs import relief_open_needs
from civicgrid.emergency.selectors import isolation as iso
from civicgrid.emergency.selectors import modes
from civicgrid.emergency.selectors import sweeps as sw

TOP = 15


@dataclass
class EmergencyNow:
    emergency: Emergency
    sweep: Sweep | None
    progress: list[sw.GridProgress]
    unreached: list[SweepVisit]
    n_unreached: int
    tasks_open: list[LiveTask]
    n_tasks: int
    n_tasks_done: int


@dataclass
class NowBoard:
    emergencies: list[EmergencyNow]
    missed: list[MissedCheckIn] = field(default_factory=list)
    due_today: list[Any] = field(default_factory=list)  # isolations without today's check-in yet
    open_needs: int = 0
    needs_source: str = ""


def open_needs(*, scope: Scope) -> tuple[int, str]:
    """Open needs in the scope: the open grid cases filed by sweeps and check-ins, plus relief's open
    needs when the relief app is installed. Returns (count, where from)."""
    total, source = 0, ""
    if scope.may("relief"):
        relief = relief_open_needs(scope)
        if relief is not None:
            total, source = relief, "relief"
    if scope.may("cases"):
        from civicgrid.cases.selectors import case_list

        cases = case_list(scope=scope, open_only=True)
        total += cases.filter(Q(source__startswith="sweep:") | Q(source__startswith="isolation:")).count()
        source = source or "cases"
    return total, source


def board(*, scope: Scope, user: Any, today: date) -> NowBoard:
    person_id = getattr(getattr(user, "role", None), "person_id", None)
    out = []
    for emergency in modes.emergency_list(scope=scope).filter(status=Emergency.Status.ACTIVE).order_by("activated_at"):
        sweep = emergency.sweeps.filter(closed_at__isnull=True).first()
        tasks = modes.live_tasks(scope=scope, emergency=emergency)
        mine = tasks.filter(state=LiveTask.State.OPEN)
        if scope.role == "org_staff":  # what is given to their organisation (or to them)
            mine = mine.filter(Q(actor_id__in=scope.actor_ids) | Q(person_id=person_id or 0))
        elif not scope.may("emergency_manage") and person_id:
            mine = mine.filter(person_id=person_id)
        unreached = sw.unreached_vulnerable(scope=scope, sweep=sweep) if sweep else SweepVisit.objects.none()
        out.append(EmergencyNow(
            emergency=emergency, sweep=sweep, progress=sw.sweep_progress(scope=scope, sweep=sweep) if sweep else [],
            unreached=list(unreached[:TOP]), n_unreached=unreached.count(), tasks_open=list(mine[:TOP]),
            n_tasks=tasks.count(), n_tasks_done=tasks.filter(state=LiveTask.State.DONE).count()))
    result = NowBoard(emergencies=out)
    if out:
        result.missed = list(iso.missed_open(scope=scope)[:TOP])
        due = iso.isolation_list(scope=scope, active_on=today).filter(checked_in=False)  # type: ignore[misc]
        result.due_today = list(due[:TOP])
        result.open_needs, result.needs_source = open_needs(scope=scope)
    return result
