"""The emergency app's part of each user's home page (``AppPlugin.work_items`` and ``glance``), read
through the caller's scope only.

Work: sweep visits due (a grid member's grids, or the visits given to a volunteer), missed isolation
check-ins (grid members and coordinators), a resident's own check-in when one is due today, and the open
live tasks given to the person or to their organisation (coordinators: the overdue ones in their area).
Glance: the emergencies in force, and for a resident what to do.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from civicgrid.accounts.models import Role
from civicgrid.core.plugins import DUE, OPEN, OVERDUE, WORK_LIMIT, Glance, WorkItem, with_rest
from civicgrid.core.scoping import Scope, scoped
from civicgrid.emergency.models import Emergency, LiveTask, SweepVisit
from civicgrid.emergency.selectors import isolation as iso

AREA_ROLES = {"district_official", "community_director", "grid_member"}


def _person_id(user: Any) -> int | None:
    return Role.objects.filter(user_id=getattr(user, "pk", None) or 0).values_list("person_id", flat=True).first()


def active_emergencies(*, scope: Scope) -> QuerySet[Emergency]:
    """Emergencies in force that the scope sees (a resident: the one of their own community)."""
    return scoped(Emergency.objects.filter(status=Emergency.Status.ACTIVE).select_related(
        "community", "opening_alert"), scope).order_by("activated_at", "id")


def visits_due(*, scope: Scope, person_id: int | None, now: Any = None) -> QuerySet[SweepVisit]:
    """Sweep visits to make now in open sweeps: a grid member's grids, or those given to a volunteer."""
    now = now or timezone.now()
    visits = scoped(SweepVisit.objects.filter(sweep__closed_at__isnull=True,
                                              sweep__emergency__status=Emergency.Status.ACTIVE), scope).filter(
        Q(state=SweepVisit.State.PENDING) | Q(state=SweepVisit.State.NOT_HOME, revisit_at__lte=now))
    if scope.role == "volunteer":
        visits = visits.filter(assignee_id=person_id or 0)
    elif scope.role != "grid_member":
        return visits.none()
    return visits.select_related("household", "grid").order_by("-vulnerable", "-priority", "household_id")


def tasks_given(*, scope: Scope, person_id: int | None, now: Any = None) -> QuerySet[LiveTask]:
    """Open live tasks of emergencies in force given to the person or their organisation; coordinators get
    the overdue ones of their area."""
    tasks = scoped(LiveTask.objects.filter(state=LiveTask.State.OPEN, emergency__status=Emergency.Status.ACTIVE),
                   scope).select_related("grid", "emergency__community")
    if scope.may("emergency_manage"):
        return tasks.filter(due_at__lt=now or timezone.now()).order_by("due_at", "id")
    mine = Q(person_id=person_id) if person_id else Q(pk__in=[])
    if scope.role in {"org_staff", "volunteer"}:
        mine |= Q(actor_id__in=scope.actor_ids)
    return tasks.filter(mine).order_by("due_at", "id")


def work_items(*, user: Any, scope: Scope) -> list[WorkItem]:
    now, today = timezone.now(), timezone.localdate()
    person_id = _person_id(user)
    items: list[WorkItem] = []
    visits = visits_due(scope=scope, person_id=person_id, now=now)
    shown = [WorkItem(kind="emergency.visit", title=_("Door-to-door visit: %(address)s") % {"address": v.household.address},
                      url=reverse("emergency:visit", args=[v.pk]), app="emergency", place=v.grid.name,
                      urgency=DUE if v.vulnerable else OPEN,
                      detail=_("vulnerable household: visit first") if v.vulnerable else _("sweep visit"))
             for v in visits[:WORK_LIMIT]]
    first = visits.first() if len(shown) == WORK_LIMIT else None
    items += with_rest(shown, visits.count(), lambda n: WorkItem(
        kind="emergency.visit", app="emergency", count=n, urgency=OPEN,
        title=ngettext("%(n)d more household to visit", "%(n)d more households to visit", n) % {"n": n},
        url=reverse("emergency:sweep", args=[first.sweep_id]) if first else reverse("home")))
    if scope.role in AREA_ROLES and scope.may("residents"):
        missed = iso.missed_open(scope=scope).order_by("day", "id")
        items += with_rest([WorkItem(kind="emergency.missed_checkin", app="emergency", urgency=OVERDUE,
                                     title=_("Missed check-in: %(name)s") % {"name": m.isolation.resident.name},
                                     url=reverse("emergency:isolation", args=[m.isolation_id]),
                                     place=m.isolation.household.address, detail=str(m.day))
                            for m in missed[:WORK_LIMIT]], missed.count(), lambda n: WorkItem(
            kind="emergency.missed_checkin", app="emergency", urgency=OVERDUE, count=n,
            url=reverse("emergency:isolations"),
            title=ngettext("%(n)d more missed check-in", "%(n)d more missed check-ins", n) % {"n": n}))
    if scope.role == "resident" and scope.may("residents"):
        for i in iso.isolation_list(scope=scope, active_on=today).filter(checked_in=False):  # type: ignore[misc]
            items.append(WorkItem(kind="emergency.checkin", app="emergency", urgency=DUE,
                                  title=_("Today's health check-in for %(name)s") % {"name": i.resident.name},
                                  url=reverse("emergency:isolation", args=[i.pk]),
                                  detail=_("home isolation until %(day)s") % {"day": i.end_date}))
    tasks = tasks_given(scope=scope, person_id=person_id, now=now)
    page = scope.may("emergency")
    items += with_rest([WorkItem(kind="emergency.task", app="emergency", title=t.title, due=t.due_at,
                                 url=reverse("emergency:detail", args=[t.emergency_id]) if page else "",
                                 urgency=OVERDUE if t.due_at < now else DUE,
                                 place=t.grid.name if t.grid else t.emergency.community.name,
                                 detail=_("emergency task")) for t in tasks[:WORK_LIMIT]], tasks.count(),
                       lambda n: WorkItem(kind="emergency.task", app="emergency", count=n, urgency=OVERDUE,
                                          url=reverse("emergency:now") if page else "",
                                          title=ngettext("%(n)d more emergency task", "%(n)d more emergency tasks",
                                                         n) % {"n": n}))
    return items


def _describe(e: Emergency) -> str:
    text = _("%(community)s: %(hazard)s, %(level)s") % {
        "community": e.community.name, "hazard": e.get_hazard_display(), "level": e.get_level_display()}
    return f"{text} ({_('drill')})" if e.is_drill else text


def glance(*, user: Any, scope: Scope) -> list[Glance]:
    if scope.role == "resident":
        out = []
        for e in active_emergencies(scope=scope):
            alert = e.opening_alert
            lines = tuple(x for x in ((alert.headline, alert.instruction) if alert else ()) if x)
            out.append(Glance(key="emergency.in_force", app="emergency", order=1, alarm=True,
                              label=_("Emergency in force: %(hazard)s, %(level)s") % {
                                  "hazard": e.get_hazard_display(), "level": e.get_level_display()},
                              lines=lines or (_("Follow your grid member's instructions and keep your phone on."),)))
        return out or [Glance(key="emergency.normal", app="emergency", order=1,
                              label=_("No emergency in your community"), lines=(_("Normal mode."),))]
    if not scope.may("emergency"):
        return []
    active = list(active_emergencies(scope=scope))
    out = [Glance(key="emergency.status", app="emergency", order=1, alarm=bool(active), url=reverse("emergency:now"),
                  label=_("Emergency status"),
                  value=(ngettext("%(n)d in force", "%(n)d in force", len(active)) % {"n": len(active)}) if active
                  else _("Normal mode"), lines=tuple(_describe(e) for e in active))]
    if active and scope.role in AREA_ROLES:
        unreached = scoped(SweepVisit.objects.filter(sweep__closed_at__isnull=True, sweep__emergency__in=active,
                                                     vulnerable=True, state__in=SweepVisit.TO_DO), scope).count()
        out.append(Glance(key="emergency.unreached", app="emergency", order=2, alarm=unreached > 0,
                          url=reverse("emergency:now"), value=str(unreached),
                          label=_("Vulnerable households not yet reached")))
    return out
