"""The volunteers app's part of each user's home page (``AppPlugin.work_items`` and ``glance``):
volunteers see their care visits and the open ones near them; grid members and directors the missed
visits in their area (the escalation of a missed visit) and the vulnerable residents still unpaired."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.plugins import DUE, OPEN, OVERDUE, WORK_LIMIT, Glance, WorkItem, with_rest
from civicgrid.core.scoping import Scope
from civicgrid.volunteers import selectors
from civicgrid.volunteers.models import CareVisit

MISSED_WINDOW = timedelta(days=30)  # missed visits stay on the grid member's list this long


def work_items(*, user: Any, scope: Scope) -> list[WorkItem]:
    if not scope.may("volunteers"):
        return []
    today = timezone.localdate()
    items: list[WorkItem] = []
    for v in selectors.visits_mine(user=user)[:WORK_LIMIT]:
        late = v.due_on < today or v.status == CareVisit.Status.MISSED
        items.append(WorkItem(kind="volunteers.my_visit", title=_("Care visit: %(name)s") % {"name": v.resident.name},
                              url=reverse("volunteers:visit", args=[v.pk]), app="volunteers", place=v.grid.name,
                              due=None, urgency=OVERDUE if late else DUE,
                              detail=_("due %(day)s") % {"day": v.due_on.isoformat()}))
    if scope.role == "volunteer":
        near = selectors.visits_claimable(scope=scope, user=user)
        shown = [WorkItem(kind="volunteers.open_visit", title=_("Open care visit: %(name)s") % {"name": v.resident.name},
                          url=reverse("volunteers:visit", args=[v.pk]), app="volunteers", place=v.grid.name,
                          urgency=OPEN, detail=_("due %(day)s") % {"day": v.due_on.isoformat()})
                 for v in near[:5]]
        items += with_rest(shown, near.count(), lambda n: WorkItem(
            kind="volunteers.open_visit", title=_("%(n)d more open care visits") % {"n": n},
            url=reverse("volunteers:home"), app="volunteers", count=n))
    if scope.may("volunteers_manage") and scope.role != "volunteer":
        missed = selectors.visits_area(scope=scope, status=CareVisit.Status.MISSED).filter(
            due_on__gte=today - MISSED_WINDOW)
        shown = [WorkItem(kind="volunteers.missed_visit", title=_("Missed care visit: %(name)s") % {"name": v.resident.name},
                          url=reverse("volunteers:visit", args=[v.pk]), app="volunteers", place=v.grid.name,
                          urgency=OVERDUE, detail=_("was due %(day)s") % {"day": v.due_on.isoformat()})
                 for v in missed[:WORK_LIMIT]]
        items += with_rest(shown, missed.count(), lambda n: WorkItem(
            kind="volunteers.missed_visit", title=_("%(n)d more missed care visits") % {"n": n},
            url=reverse("volunteers:visits") + "?status=missed", app="volunteers", urgency=OVERDUE, count=n))
    return items


def glance(*, user: Any, scope: Scope) -> list[Glance]:
    if not scope.may("volunteers"):
        return []
    out = []
    volunteer = selectors.volunteer_of(user)
    if volunteer is not None:
        out.append(Glance(key="volunteers.my_hours", label=_("My volunteer hours"),
                          value=f"{selectors.hours_total(volunteer):g}", url=reverse("volunteers:hours"),
                          app="volunteers", order=40))
    if scope.may("volunteers_manage") and scope.role != "volunteer":
        helped, vulnerable, counted = selectors.coverage_counted(scope=scope)
        missed = selectors.missed_recently(scope=scope)
        lines = [_("%(n)d care visits missed in the last 90 days") % {"n": missed}]
        if counted is not None:
            lines.append(_("paired helpers counted at %(time)s") % {
                "time": timezone.localtime(counted).strftime("%H:%M")})
        out.append(Glance(key="volunteers.coverage", label=_("Vulnerable residents with a paired helper"),
                          value=f"{helped} / {vulnerable}", url=reverse("volunteers:helpers"), app="volunteers",
                          order=45, alarm=missed > 0, lines=tuple(lines)))
    return out
