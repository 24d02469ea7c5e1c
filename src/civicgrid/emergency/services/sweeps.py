"""Door-to-door sweeps: one visit task per household of the community, vulnerable households first;
each visit is recorded as safe, needs help (which files a need) or not at home (a revisit)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Role
from civicgrid.core import audit
from civicgrid.core.errors import Forbidden, Invalid
from civicgrid.core.locking import locked, serialised
from civicgrid.core.scoping import Scope, check_in_scope, require
from civicgrid.emergency.events import EmergencyEvent
from civicgrid.emergency.models import Emergency, Sweep, SweepVisit
from civicgrid.emergency.needs import file_need
from civicgrid.emergency.services.common import serves_grid_person
from civicgrid.registry.models import Household, Person, Place, is_vulnerable

OUTCOMES = (SweepVisit.State.SAFE, SweepVisit.State.NEEDS_HELP, SweepVisit.State.NOT_HOME)
REVISIT_AFTER = timedelta(hours=4)


@serialised
def sweep_start(*, user: Any, scope: Scope, emergency: Emergency, now: datetime | None = None) -> Sweep:
    """Start a sweep of every household in the emergency's community (or return the sweep already
    running: one at a time)."""
    require(scope, "emergency_manage")
    check_in_scope(scope, emergency)
    emergency = locked(Emergency.objects.all()).select_related("community").get(pk=emergency.pk)
    if emergency.status != Emergency.Status.ACTIVE:
        raise Invalid(_("Sweeps run in emergency mode only."))
    running = Sweep.objects.filter(emergency=emergency, closed_at__isnull=True).first()
    if running is not None:
        return running
    now = now or timezone.now()
    sweep = Sweep.objects.create(emergency=emergency, created_at=now, created_by=user)
    rows = Household.objects.filter(place_path__startswith=emergency.community.path).values_list(
        "id", "grid_id", "place_path", "vulnerability_score")
    visits = [SweepVisit(sweep=sweep, household_id=hid, grid_id=gid, place_path=path, priority=score,
                         vulnerable=is_vulnerable(score)) for hid, gid, path, score in rows.iterator(chunk_size=5000)]
    SweepVisit.objects.bulk_create(visits, batch_size=2000)
    sweep.n_households = len(visits)
    sweep.save(update_fields=["n_households"])
    audit.record(user=user, event=EmergencyEvent.SWEEP_STARTED, instance=sweep,
                 new={**audit.snapshot(sweep), "visits": len(visits)})
    return sweep


def _person_of(user: Any) -> int | None:
    return Role.objects.filter(user_id=getattr(user, "pk", None) or 0).values_list("person_id", flat=True).first()


@serialised
def sweep_visit_record(*, user: Any, scope: Scope, visit: SweepVisit, outcome: str, note: str = "", need: str = "",
                       item: str = "", quantity: int = 1, revisit_at: datetime | None = None,
                       now: datetime | None = None) -> SweepVisit:
    """Record a door-to-door visit. A visit already found safe or in need is not recorded twice.
    'Needs help' files the need: to relief when ``item`` names a relief catalogue item, else a case."""
    check_in_scope(scope, visit)
    if not scope.may("emergency"):  # a volunteer may record the visits given to them
        require(scope, "households")
        if visit.assignee_id is None or visit.assignee_id != _person_of(user):
            raise Forbidden(_("This visit is not yours."))
    if outcome not in OUTCOMES:
        raise Invalid({"outcome": _("Choose safe, needs help or not at home.")})
    now = now or timezone.now()
    visit = locked(SweepVisit.objects.all()).select_related("sweep__emergency", "household").get(pk=visit.pk)
    if visit.sweep.closed_at is not None or visit.sweep.emergency.status != Emergency.Status.ACTIVE:
        raise Invalid(_("This sweep is over."))
    if visit.state in SweepVisit.REACHED:
        raise Invalid(_("This household was already visited: %(state)s.") % {
            "state": visit.get_state_display()})
    before = audit.snapshot(visit)
    visit.attempts += 1
    visit.visited_at, visit.visited_by, visit.note = now, user, note.strip()[:500]
    if outcome == SweepVisit.State.NEEDS_HELP:
        if not need.strip():
            raise Invalid({"need": _("Say what the household needs.")})
        responsible = scope.may("cases") and scope.may("emergency")  # volunteers file as the platform
        visit.filed = file_need(user=user if responsible else None, scope=scope, household=visit.household,
                                description=need.strip(), source=f"sweep:{visit.sweep_id}:{visit.pk}",
                                item=item, quantity=quantity)
    elif outcome == SweepVisit.State.NOT_HOME:
        revisit_at = revisit_at or now + REVISIT_AFTER
        if revisit_at <= now:
            raise Invalid({"revisit_at": _("The revisit must be later than now.")})
        visit.revisit_at = revisit_at
    visit.state = outcome
    visit.save()
    old, new = audit.changed(before, audit.snapshot(visit))
    audit.record(user=user, event=EmergencyEvent.VISIT_RECORDED, instance=visit, old=old, new=new)
    if visit.vulnerable and outcome in SweepVisit.REACHED:
        _note_vulnerable_reached(user, visit.sweep, now)
    return visit


def _note_vulnerable_reached(user: Any, sweep: Sweep, now: datetime) -> None:
    """When the last vulnerable household of the sweep is reached, stamp the emergency (drill timing)."""
    emergency = sweep.emergency
    if emergency.vulnerable_reached_at is not None:
        return
    if SweepVisit.objects.filter(sweep=sweep, vulnerable=True, state__in=SweepVisit.TO_DO).exists():
        return
    audit.update_fields(user=user, event=EmergencyEvent.VULNERABLE_REACHED, instance=emergency, changes={"vulnerable_reached_at": now})


@transaction.atomic
def sweep_assign(*, user: Any, scope: Scope, sweep: Sweep, grid: Place, person: Person, count: int = 10) -> int:
    """Give the next ``count`` unvisited households of a grid (vulnerable first) to a volunteer, who then
    sees those households and records their visits."""
    require(scope, "emergency")
    check_in_scope(scope, grid)
    if not (scope.may("emergency_manage") or serves_grid_person(_person_of(user), grid.pk)):
        raise Forbidden(_("Only the grid's grid member or a coordinator assigns its visits."))
    if not person.posts.filter(role="volunteer").exists():
        raise Invalid({"person": _("%(name)s is not a registered volunteer.") % {"name": person.name}})
    ids = list(SweepVisit.objects.filter(sweep=sweep, grid=grid, state=SweepVisit.State.PENDING,
                                         assignee__isnull=True).order_by("-priority", "household_id")
               .values_list("id", flat=True)[:count])
    SweepVisit.objects.filter(pk__in=ids).update(assignee=person)
    audit.record(user=user, event=EmergencyEvent.VISITS_ASSIGNED, instance=sweep,
                 new={"assigned_to_person": person.pk, "visits": ids})
    return len(ids)
