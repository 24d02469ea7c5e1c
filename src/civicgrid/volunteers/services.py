"""Writes of the volunteers app: profiles and courses, care visits, the hours ledger, the time bank and
paired help. Each service runs in one transaction and writes its audit event in it; rows are locked
(``core.locking.locked``) before the first audit write."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Role
from civicgrid.accounts.roles import scope_forget
from civicgrid.core import audit
from civicgrid.core.errors import Conflict, Forbidden, Invalid, NotFound
from civicgrid.core.limits import bounded_text, whole_number
from civicgrid.core.locking import locked, locked_for_write, serialised, serialised_block
from civicgrid.core.places import ancestor_at, under
from civicgrid.core.plugins import work_refusal
from civicgrid.core.scoping import Scope, get_in_scope, require, scoped
from civicgrid.core.servicekinds import SERVICE_KINDS
from civicgrid.registry.models import Person, Place, Post, Resident
from civicgrid.volunteers.conf import conf
from civicgrid.volunteers.events import VolunteersEvent as E
from civicgrid.volunteers.models import (
    ALL_DAYS,
    SKILLS,
    CareVisit,
    Certificate,
    Course,
    HelperAssignment,
    HoursApproval,
    HoursEntry,
    TimeAccount,
    TimeTransfer,
    Volunteer,
)

NOTE_CHARS = 200


# --- who is acting ---------------------------------------------------------------------------------
def person_of(user: Any) -> Person | None:
    role = Role.objects.filter(user_id=getattr(user, "pk", None) or 0).select_related("person").first()
    return role.person if role else None


def volunteer_of(user: Any) -> Volunteer | None:
    person = person_of(user)
    return Volunteer.objects.filter(person=person).first() if person else None


def person_in_scope(*, scope: Scope, person_id: int) -> Person:
    """A person the scope may name: one with a post in an actor it sees, a resident it sees, or a
    volunteer living or serving inside its area."""
    visible = (Q(pk__in=scoped(Person.objects.all(), scope).values("pk"))
               | under("resident__household__place_path", scope.record_paths)
               | under("volunteer__place_path", scope.area_paths))
    found = Person.objects.filter(visible, pk=person_id).first() if not scope.unrestricted else \
        Person.objects.filter(pk=person_id).first()
    if found is None:
        raise NotFound()
    return found


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- profiles and courses --------------------------------------------------------------------------
@serialised
def volunteer_save(*, user: Any, scope: Scope, person_id: int, home_id: int, skills: list[str] | tuple[str, ...] = (),
                   days: int = ALL_DAYS, from_hour: int = 8, to_hour: int = 20, active: bool = True) -> Volunteer:
    """Register a person as a volunteer, or change their profile. ``home``: the building they live in or
    the grid they serve (distance in matching is measured from it)."""
    require(scope, "volunteers_manage")
    person = person_in_scope(scope=scope, person_id=person_id)
    home = get_in_scope(Place.objects.all(), scope, pk=home_id)
    if home.level not in {"grid", "building"}:
        raise Invalid({"home": _("Choose a grid or a building.")})
    unknown = sorted(set(skills) - set(SKILLS))
    if unknown:
        raise Invalid({"skills": _("Unknown skill: %(s)s") % {"s": ", ".join(unknown)}})
    whole_number(days, "days", minimum=1, maximum=ALL_DAYS)
    whole_number(from_hour, "from_hour", minimum=0, maximum=23)
    whole_number(to_hour, "to_hour", minimum=1, maximum=24)
    if from_hour >= to_hour:
        raise Invalid({"to_hour": _("The end of the day's availability must come after its start.")})
    changes = {"home": home, "place_path": home.path, "skills": sorted(set(skills)), "days": days,
               "from_hour": from_hour, "to_hour": to_hour, "active": active}
    existing = locked(Volunteer.objects.filter(person=person)).first()
    if existing is not None:
        audit.update_fields(user=user, event=E.VOLUNTEER_SAVED, instance=existing, changes=changes)
        return existing
    volunteer = Volunteer(person=person, joined_on=timezone.localdate(), **changes)
    volunteer.full_clean()
    volunteer.save()
    audit.record(user=user, event=E.VOLUNTEER_SAVED, instance=volunteer, new=audit.snapshot(volunteer))
    return volunteer


@transaction.atomic
def course_create(*, user: Any, scope: Scope, code: str, name: str, required_for: str = "",
                  valid_months: int = 24) -> Course:
    require(scope, "volunteers_manage")
    if required_for and required_for not in SERVICE_KINDS:
        raise Invalid({"required_for": _("Unknown kind of work.")})
    whole_number(valid_months, "valid_months", minimum=1, maximum=120)
    code = bounded_text(code, "code", max_chars=40)
    if not code:
        raise Invalid({"code": _("A course needs a code.")})
    if Course.objects.filter(code=code).exists():
        raise Conflict(_("A course with this code exists already."), field="code")
    course = Course(code=code, name=bounded_text(name, "name", max_chars=100), required_for=required_for,
                    valid_months=valid_months)
    course.full_clean()
    course.save()
    audit.record(user=user, event=E.COURSE_CREATED, instance=course, new=audit.snapshot(course), place_path="")
    return course


@transaction.atomic
def certificate_grant(*, user: Any, scope: Scope, volunteer_id: int, course_id: int,
                      attended_on: date | None = None) -> Certificate:
    """Record that a volunteer attended a course; it is valid for the course's months from that day."""
    require(scope, "volunteers_manage")
    volunteer = get_in_scope(Volunteer.objects.all(), scope, pk=volunteer_id)
    course = Course.objects.filter(pk=course_id).first()
    if course is None:
        raise NotFound()
    attended_on = attended_on or timezone.localdate()
    if attended_on > timezone.localdate():
        raise Invalid({"attended_on": _("A course cannot be attended in the future.")})
    cert = Certificate(volunteer=volunteer, course=course, attended_on=attended_on,
                       expires_on=add_months(attended_on, course.valid_months), granted_by=audit.acting_user(user))
    cert.full_clean()
    cert.save()
    audit.record(user=user, event=E.CERTIFICATE_GRANTED, instance=cert, new=audit.snapshot(cert),
                 place_path=volunteer.place_path)
    return cert


def qualification_refusal(volunteer: Volunteer, service_kind: str, on: date | None = None) -> str | None:
    """Why ``volunteer`` may not take work of ``service_kind`` (a course it requires is missing or has
    expired), or None."""
    on = on or timezone.localdate()
    for course in Course.objects.filter(required_for=service_kind):
        last = Certificate.objects.filter(volunteer=volunteer, course=course).order_by("-expires_on").first()
        if last is None:
            return _("This work needs the course “%(course)s” first.") % {"course": course.name}
        if last.expires_on <= on:
            return _("Your certificate for “%(course)s” expired on %(day)s; attend the course again.") % {
                "course": course.name, "day": last.expires_on.isoformat()}
    return None


# --- the hours ledger ------------------------------------------------------------------------------
def _hours(value: Any, field: str = "hours") -> Decimal:
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        raise Invalid({field: _("Give the hours as a number, e.g. 1.5.")}) from None
    if not hours.is_finite() or hours <= 0 or hours > Decimal(conf("max_hours_per_entry")):
        raise Invalid({field: _("Hours must be more than 0 and at most %(max)s.") % {"max": conf("max_hours_per_entry")}})
    return hours


def hours_post(*, user: Any, volunteer: Volunteer, source: str, source_id: int, hours: Decimal, on: date,
               place_path: str) -> HoursEntry:
    """Post hours for one confirmed act (inside the caller's transaction). An act is posted once: a
    second posting is refused (Conflict), also when two race (the unique constraint)."""
    if source == HoursEntry.Source.MANUAL:
        raise Invalid({"source": _("Hours typed by hand are entered on their own and need a second person's approval.")})
    if HoursEntry.objects.filter(source=source, source_id=source_id).exists():
        raise Conflict(_("The hours for this act are posted already."))
    entry = HoursEntry(volunteer=volunteer, source=source, source_id=source_id, hours=hours, on=on,
                       place_path=place_path, entered_by=audit.acting_user(user), at=timezone.now())
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        raise Conflict(_("The hours for this act are posted already.")) from None
    audit.record(user=user, event=E.HOURS_POSTED, instance=entry, new=audit.snapshot(entry), place_path=place_path)
    return entry


@serialised
def hours_enter(*, user: Any, scope: Scope, volunteer_id: int, hours: Any, on: date, note: str) -> HoursEntry:
    """Hours typed by hand: they must say what was done, and count once a second person approves them."""
    require(scope, "volunteers")
    own = volunteer_of(user)
    if own is not None and own.pk == volunteer_id:
        volunteer = own
    else:
        require(scope, "volunteers_manage")
        volunteer = get_in_scope(Volunteer.objects.all(), scope, pk=volunteer_id)
    amount = _hours(hours)
    note = bounded_text(note, "note", max_chars=NOTE_CHARS)
    if not note:
        raise Invalid({"note": _("No hours without a record: say what was done, where and for whom.")})
    today = timezone.localdate()
    if on > today or on < today - timedelta(days=366):
        raise Invalid({"on": _("The date must lie within the last year.")})
    entry = HoursEntry(volunteer=volunteer, source=HoursEntry.Source.MANUAL, hours=amount, on=on, note=note,
                       place_path=volunteer.place_path, entered_by=audit.acting_user(user), at=timezone.now())
    entry.full_clean()
    entry.save()
    audit.record(user=user, event=E.HOURS_ENTERED, instance=entry, new=audit.snapshot(entry))
    return entry


@serialised
def hours_decide(*, user: Any, scope: Scope, entry_id: int, approved: bool, reason: str = "") -> HoursApproval:
    require(scope, "volunteers_manage")
    entry = get_in_scope(locked(HoursEntry.objects.select_related("volunteer")), scope, pk=entry_id)
    if entry.source != HoursEntry.Source.MANUAL:
        raise Conflict(_("Only hours typed by hand need an approval."))
    if HoursApproval.objects.filter(entry=entry).exists():
        raise Conflict(_("These hours were decided already."))
    me = person_of(user)
    if entry.entered_by_id == getattr(user, "pk", None) or (me is not None and me.pk == entry.volunteer.person_id):
        raise Forbidden(_("A second person must decide: not the one who typed the hours, nor the volunteer."))
    reason = bounded_text(reason, "reason", max_chars=NOTE_CHARS)
    if not approved and not reason:
        raise Invalid({"reason": _("Say why the hours are rejected.")})
    decision = HoursApproval(entry=entry, approved=approved, by=user, at=timezone.now(), reason=reason)
    decision.save()
    audit.record(user=user, event=E.HOURS_DECIDED, instance=entry, new={"approved": approved, "reason": reason})
    return decision


def hours_post_confirmed() -> int:
    """Post hours for every confirmed delivery stop and sweep visit done by a volunteer and not posted yet
    (the periodic job; idempotent: the unique constraint on the act keeps a second run from posting
    twice). Returns how many entries it wrote."""
    from civicgrid.emergency.models import SweepVisit
    from civicgrid.relief.models import DeliveryStop

    acts = [
        (HoursEntry.Source.DELIVERY, conf("hours_per_delivery"),
         DeliveryStop.objects.filter(status=DeliveryStop.Status.DELIVERED, delivered_by__role__person__volunteer__isnull=False)
         .values_list("pk", "delivered_by__role__person__volunteer", "delivered_at", "household__place_path")),
        (HoursEntry.Source.SWEEP, conf("hours_per_sweep_visit"),
         SweepVisit.objects.filter(state__in=SweepVisit.REACHED, visited_by__role__person__volunteer__isnull=False)
         .values_list("pk", "visited_by__role__person__volunteer", "visited_at", "place_path")),
    ]
    written = 0
    now = timezone.now()
    for source, hours, rows in acts:
        with serialised_block():  # two runs at once: the second reads after the first has committed
            posted = HoursEntry.objects.filter(source=source).values("source_id")
            new = [HoursEntry(volunteer_id=vid, source=source, source_id=pk, hours=Decimal(hours),
                              on=timezone.localdate(at or now), place_path=path, at=now)
                   for pk, vid, at, path in rows.exclude(pk__in=posted)]
            if not new:
                continue
            # the unique constraint keeps an act from being posted twice when two runs race (PostgreSQL does
            # not serialise them): the loser's duplicates are skipped, and only this run's rows are audited
            HoursEntry.objects.bulk_create(new, ignore_conflicts=True)
            mine = list(HoursEntry.objects.filter(source=source, at=now, source_id__in=[e.source_id for e in new])
                        .values_list("source_id", flat=True))
            if mine:
                audit.record_bulk(user=None, event=E.HOURS_POSTED_BULK, model=HoursEntry, ids=mine,
                                  counts={"source": str(source), "entries": len(mine)})
        written += len(mine)
    return written


# --- care visits -----------------------------------------------------------------------------------
def claimable_filter(scope: Scope, volunteer: Volunteer | None, *, open_only: bool = True) -> Q:
    """Open visits a volunteer may take: in the areas their teams serve, or in their own grid (with
    ``open_only=False``, also those taken since, so a late claimer hears "taken", not "not found")."""
    if volunteer is None:
        return Q(pk__in=[])
    areas = list(Post.objects.filter(person_id=volunteer.person_id).values_list("actor__service_area__path", flat=True))
    grid = ancestor_at(volunteer.place_path, "grid")
    near = under("place_path", [*areas, *([grid] if grid else [])])
    return Q(status=CareVisit.Status.OPEN) & near if open_only else near


@transaction.atomic
def care_visit_open(*, user: Any, scope: Scope, resident_id: int, due_on: date) -> CareVisit:
    """A care visit any qualified volunteer nearby may take (e.g. when the paired helper is away)."""
    require(scope, "volunteers_manage")
    resident = get_in_scope(Resident.objects.select_related("household"), scope, pk=resident_id)
    if due_on < timezone.localdate():
        raise Invalid({"due_on": _("A visit cannot be due in the past.")})
    visit = CareVisit(resident=resident, grid_id=resident.household.grid_id, place_path=resident.household.place_path,
                      due_on=due_on)
    visit.save()
    audit.record(user=user, event=E.VISIT_OPENED, instance=visit, new=audit.snapshot(visit))
    return visit


@serialised
def care_visit_claim(*, user: Any, scope: Scope, visit_id: int) -> CareVisit:
    require(scope, "volunteers")
    volunteer = volunteer_of(user)
    visible = claimable_filter(scope, volunteer, open_only=False) | Q(pk__in=scoped(CareVisit.objects.all(), scope)
                                                                      .values("pk"))
    if volunteer is not None:
        visible |= Q(visitor_id=volunteer.person_id)
    visit = locked(CareVisit.objects.filter(visible, pk=visit_id)).first()
    if visit is None:
        raise NotFound()
    if volunteer is None or not volunteer.active:
        raise Forbidden(_("Only an active registered volunteer may claim a care visit."))
    if visit.status != CareVisit.Status.OPEN:
        raise Conflict(_("This visit is taken already."))
    reason = work_refusal(user=user, scope=scope, place_path=visit.place_path, service_kind="care_visit")
    if reason:
        raise Forbidden(reason)
    reason = qualification_refusal(volunteer, "care_visit")
    if reason:
        raise Forbidden(reason)
    audit.update_fields(user=user, event=E.VISIT_CLAIMED, instance=visit,
                        changes={"status": CareVisit.Status.CLAIMED, "visitor": volunteer.person,
                                 "claimed_at": timezone.now()})
    scope_forget(user)
    return visit


@serialised
def care_visit_record(*, user: Any, scope: Scope, visit_id: int, outcome: str, minutes: Any,
                      note: str = "") -> CareVisit:
    """The visitor records the visit (a few taps: the outcome and how long). A volunteer's visit posts its
    hours; a paired helper's next visit is scheduled."""
    require(scope, "volunteers")
    person = person_of(user)
    visit = locked(CareVisit.objects.filter(pk=visit_id, visitor=person)).first() if person else None
    if visit is None:
        raise NotFound()
    if visit.status == CareVisit.Status.DONE:
        raise Conflict(_("This visit is recorded already."))
    if outcome not in CareVisit.Outcome.values:
        raise Invalid({"outcome": _("Choose how the visit went.")})
    minutes = whole_number(minutes, "minutes", minimum=1, maximum=conf("max_visit_minutes"))
    now = timezone.now()
    audit.update_fields(user=user, event=E.VISIT_RECORDED, instance=visit,
                        changes={"status": CareVisit.Status.DONE, "done_at": now, "outcome": outcome,
                                 "minutes": minutes, "note": bounded_text(note, "note", max_chars=NOTE_CHARS)})
    volunteer = Volunteer.objects.filter(person=person).first()
    if volunteer is not None:
        hours = (Decimal(minutes) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        hours_post(user=user, volunteer=volunteer, source=HoursEntry.Source.CARE_VISIT, source_id=visit.pk,
                   hours=max(hours, Decimal("0.01")), on=timezone.localdate(now), place_path=visit.place_path)
    assignment = locked(HelperAssignment.objects.filter(pk=visit.assignment_id)).first() if visit.assignment_id else None
    if assignment is not None and assignment.ended_on is None and assignment.helper_id == visit.visitor_id:
        _schedule(assignment, timezone.localdate(now) + timedelta(days=assignment.every_days))
    return visit


def _next_visit(assignment: HelperAssignment, due_on: date) -> CareVisit:
    """The pairing's next visit (not saved), claimed by its helper."""
    return CareVisit(resident_id=assignment.resident_id, assignment=assignment, grid_id=assignment.grid_id,
                     place_path=assignment.place_path, due_on=due_on, status=CareVisit.Status.CLAIMED,
                     visitor_id=assignment.helper_id, claimed_at=timezone.now())


def _schedule(assignment: HelperAssignment, due_on: date) -> CareVisit:
    visit = _next_visit(assignment, due_on)
    visit.save()
    return visit


# --- paired help -----------------------------------------------------------------------------------
@serialised
def helper_assign(*, user: Any, scope: Scope, resident_id: int, helper_person_id: int, kind: str,
                  every_days: int, start_on: date | None = None) -> HelperAssignment:
    """Pair a vulnerable resident with a named helper; the first visit is due ``every_days`` after the
    start. A resident has one active helper: a new pairing ends the previous one."""
    require(scope, "volunteers_manage")
    resident = get_in_scope(locked(Resident.objects.select_related("household")), scope, pk=resident_id)
    if not resident.household.is_vulnerable:
        raise Invalid({"resident": _("Paired help is for residents of vulnerable households.")})
    if kind not in HelperAssignment.Kind.values:
        raise Invalid({"kind": _("Choose a volunteer, a grid member or a neighbour.")})
    every_days = whole_number(every_days, "every_days", minimum=1, maximum=90)
    helper = person_in_scope(scope=scope, person_id=helper_person_id)
    if kind == HelperAssignment.Kind.VOLUNTEER:
        volunteer = Volunteer.objects.filter(person=helper, active=True).first()
        if volunteer is None:
            raise Invalid({"helper": _("This person is not an active volunteer.")})
        reason = qualification_refusal(volunteer, "care_visit")
        if reason:
            raise Forbidden(reason)
    if kind == HelperAssignment.Kind.GRID_MEMBER and not helper.posts.filter(role="grid_member").exists():
        raise Invalid({"helper": _("This person holds no grid-member post.")})
    start_on = start_on or timezone.localdate()
    for previous in locked(HelperAssignment.objects.filter(resident=resident, ended_on__isnull=True)):
        _end(user=user, assignment=previous, on=start_on)
    assignment = HelperAssignment(resident=resident, helper=helper, kind=kind, every_days=every_days,
                                  grid_id=resident.household.grid_id, place_path=resident.household.place_path,
                                  started_on=start_on)
    assignment.save()
    audit.record(user=user, event=E.HELPER_ASSIGNED, instance=assignment, new=audit.snapshot(assignment))
    _schedule(assignment, start_on + timedelta(days=every_days))
    return assignment


def _end(*, user: Any, assignment: HelperAssignment, on: date) -> None:
    audit.update_fields(user=user, event=E.HELPER_ENDED, instance=assignment, changes={"ended_on": on})
    # the helper's visits still to do go back to the queue for any qualified volunteer nearby
    CareVisit.objects.filter(assignment=assignment, status=CareVisit.Status.CLAIMED,
                             visitor_id=assignment.helper_id).update(status=CareVisit.Status.OPEN, visitor=None,
                                                                     claimed_at=None)


@serialised
def helper_end(*, user: Any, scope: Scope, assignment_id: int) -> HelperAssignment:
    require(scope, "volunteers_manage")
    assignment = get_in_scope(locked(HelperAssignment.objects.all()), scope, pk=assignment_id)
    if assignment.ended_on is not None:
        raise Conflict(_("This pairing has ended already."))
    _end(user=user, assignment=assignment, on=timezone.localdate())
    return assignment


def visits_schedule_and_count_missed(today: date | None = None) -> dict[str, int]:
    """The periodic job: visits past their due day become missed (the grid member's work list shows
    them), and every active pairing without a visit to do gets its next one, in the pairing's rhythm from its
    last visit (never before today).

    Idle pairings are found with NOT EXISTS: a ``NOT IN`` of the visits' pairings met the NULL of a visit that
    belongs to no pairing, and then found no pairing idle at all (the demo's 9,094 idle pairings were never
    scheduled again). Only the idle pairings are locked, not every active one (86,000 rows written a minute at
    100,000 households), and their next visits are written in one statement."""
    today = today or timezone.localdate()
    late = today - timedelta(days=int(conf("missed_after_days")))
    with serialised_block():
        overdue = list(CareVisit.objects.filter(status__in=[CareVisit.Status.OPEN, CareVisit.Status.CLAIMED],
                                                due_on__lt=late).values_list("pk", flat=True))
        if overdue:
            CareVisit.objects.filter(pk__in=overdue).update(status=CareVisit.Status.MISSED)
        to_do = CareVisit.objects.filter(status__in=[CareVisit.Status.OPEN, CareVisit.Status.CLAIMED],
                                         assignment=OuterRef("pk"))
        idle = HelperAssignment.objects.filter(ended_on__isnull=True).exclude(Exists(to_do)).order_by("pk")
        # lock the idle pairings (after the visits, the order care_visit_record takes them in), then read which
        # are idle in a fresh statement: a run racing this one waits, then sees the visits it wrote; a pairing
        # idle only since the lock is left to the next run
        held = {a.pk for a in locked_for_write(idle.only("pk"))}
        last = CareVisit.objects.filter(assignment=OuterRef("pk")).order_by("-due_on").values("due_on")[:1]
        visits = [_next_visit(a, max(today, (a.last_due or a.started_on) + timedelta(days=a.every_days)))
                  for a in idle.annotate(last_due=Subquery(last)) if a.pk in held]
        scheduled = [v.pk for v in CareVisit.objects.bulk_create(visits, batch_size=2000)]
        if overdue or scheduled:
            audit.record_bulk(user=None, event=E.VISITS_SCHEDULED, model=CareVisit, ids=overdue + scheduled,
                              counts={"missed": len(overdue), "scheduled": len(scheduled)})
    return {"missed": len(overdue), "scheduled": len(scheduled)}


# --- the time bank ---------------------------------------------------------------------------------
def _community_of(scope: Scope, person: Person) -> Place:
    """Where a person's account is kept: where they volunteer, live, or hold a post (a grid, an actor's area)."""
    volunteer = Volunteer.objects.filter(person=person).first()
    paths = [volunteer.place_path if volunteer else "",
             person.resident.household.place_path if person.resident else "",
             *(p.place.path if p.place else p.actor.service_area.path
               for p in person.posts.select_related("place", "actor__service_area"))]
    found = [ancestor_at(p, "community") for p in paths if p and ancestor_at(p, "community")]
    community = Place.objects.filter(path=found[0]).first() if found else None
    if community is None:
        raise Invalid({"person": _("This person has no community: register them as a volunteer or a resident.")})
    return community


def _account(person: Person | None, community: Place) -> TimeAccount:
    """The person's account (or the community's pool), locked for the transfer."""
    if person is None:
        account, _created = TimeAccount.objects.get_or_create(person=None, community=community,
                                                              defaults={"place_path": community.path})
    else:
        account, _created = TimeAccount.objects.get_or_create(person=person, defaults={
            "community": community, "place_path": community.path})
    return locked(TimeAccount.objects.filter(pk=account.pk)).get()


@serialised
def time_transfer(*, user: Any, scope: Scope, kind: str, person_id: int, counterpart_id: int | None, minutes: Any,
                  note: str) -> TimeTransfer:
    """Move time-bank credits. ``earned``: the community's pool pays ``person`` for a service they gave
    (or ``counterpart`` pays them, when given); ``spent``: ``person`` pays for a service received, to the
    pool or to ``counterpart``. Balanced by construction (one row is both sides); a person's balance never
    goes below zero."""
    require(scope, "volunteers_manage")
    if kind not in TimeTransfer.Kind.values:
        raise Invalid({"kind": _("Choose earned or spent.")})
    minutes = whole_number(minutes, "minutes", minimum=1, maximum=conf("max_transfer_minutes"))
    note = bounded_text(note, "note", max_chars=NOTE_CHARS)
    if not note:
        raise Invalid({"note": _("Say which service the credits are for.")})
    person = person_in_scope(scope=scope, person_id=person_id)
    counterpart = person_in_scope(scope=scope, person_id=counterpart_id) if counterpart_id else None
    if counterpart is not None and counterpart.pk == person.pk:
        raise Invalid({"counterpart": _("A transfer needs two different accounts.")})
    community = _community_of(scope, person)
    mine = _account(person, community)
    other = _account(counterpart, community if counterpart is None else _community_of(scope, counterpart))
    source, target = (other, mine) if kind == TimeTransfer.Kind.EARNED else (mine, other)
    if source.person_id is not None and source.balance < minutes:
        raise Conflict(_("Not enough credits: the balance is %(n)d minutes.") % {"n": source.balance},
                       field="minutes")
    transfer = TimeTransfer(from_account=source, to_account=target, minutes=minutes, kind=kind, note=note,
                            place_path=community.path, by=audit.acting_user(user), at=timezone.now())
    transfer.save()
    TimeAccount.objects.filter(pk=source.pk).update(balance=source.balance - minutes)
    TimeAccount.objects.filter(pk=target.pk).update(balance=target.balance + minutes)
    audit.record(user=user, event=E.TIME_TRANSFERRED, instance=transfer, place_path=community.path,
                 new={"from": source.pk, "to": target.pk, "minutes": minutes, "kind": kind, "note": note})
    return transfer
