"""Volunteers under real concurrency: threads with their own connections and commits. Builds a community of
its own (these tests empty the database afterwards)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from civicgrid.accounts.models import Role
from civicgrid.accounts.roles import scope_for
from civicgrid.core.locking import serialised
from civicgrid.core.scoping import PLATFORM, Scope
from civicgrid.registry import services as registry
from civicgrid.registry.models import Actor, Person, Place, Post, Resident
from civicgrid.volunteers import services
from civicgrid.volunteers.models import (
    CareVisit,
    Certificate,
    Course,
    HelperAssignment,
    HoursEntry,
    TimeAccount,
    Volunteer,
)
from tests.platform.transactional.racing import race

pytestmark = pytest.mark.django_db(transaction=True)
ADMIN = Scope(role="district_official", unrestricted=True)


def _place(code: str, level: str, parent: Place | None) -> Place:
    return Place.objects.create(code=code, name=code, level=level, parent=parent,
                                path=(parent.path if parent else "") + code + "/")


def _world(volunteers: int) -> tuple[CareVisit, list[Any], list[Volunteer]]:
    """A community with one resident, an open care visit for them, and ``volunteers`` trained volunteers."""
    tag = uuid.uuid4().hex[:6].upper()
    district = _place(f"VD{tag}", "district", None)
    community = _place(f"{district.code}-C", "community", _place(f"{district.code}-S", "subdistrict", district))
    grid = _place(f"{community.code}-G", "grid", community)
    household = registry.household_create(user=None, scope=PLATFORM, code=f"{grid.code}-H", address="building 1",
                                          building=_place(f"{grid.code}-B", "building", grid), housing_type="commodity")
    resident = Resident.objects.create(code=f"{tag}-R", household=household, name="r", sex="F",
                                       birth_date=date(1940, 1, 1), relation="head")
    team = Actor.objects.create(code=f"{tag}-TEAM", name="team", sector="society", kind="volunteer_team",
                                service_area=community)
    people = Person.objects.bulk_create([Person(code=f"{tag}-P{i}", name=f"v{i}") for i in range(volunteers)])
    Post.objects.bulk_create([Post(person=p, actor=team, role="volunteer") for p in people])
    users = get_user_model().objects.bulk_create([get_user_model()(username=f"{tag}-v{i}") for i in range(volunteers)])
    Role.objects.bulk_create([Role(user=u, role="volunteer", person=p) for u, p in zip(users, people, strict=True)])
    course = Course.objects.create(code=f"{tag}-care", name="care", required_for="care_visit")
    today = timezone.localdate()
    rows = Volunteer.objects.bulk_create([Volunteer(person=p, home=grid, place_path=grid.path, joined_on=today)
                                          for p in people])
    Certificate.objects.bulk_create([Certificate(volunteer=v, course=course, attended_on=today,
                                                 expires_on=today + timedelta(days=365)) for v in rows])
    visit = CareVisit.objects.create(resident=resident, grid=grid, place_path=household.place_path,
                                     due_on=today + timedelta(days=1))
    return visit, users, list(Volunteer.objects.filter(person__in=people).order_by("id"))


def _kinds(results: list[Any]) -> Counter[str]:
    return Counter("ok" if not isinstance(r, Exception) else type(r).__name__ for r in results)


def test_one_care_visit_is_claimed_by_one_of_twenty_and_its_hours_posted_once() -> None:
    visit, users, _ = _world(20)
    results = race([partial(services.care_visit_claim, user=u, scope=scope_for(u), visit_id=visit.pk) for u in users])
    assert _kinds(results) == Counter({"ok": 1, "Conflict": 19}), _kinds(results)
    winner = next(u for u, r in zip(users, results, strict=True) if not isinstance(r, Exception))
    # the holder records it twice at once (a double tap on two phones): one record, one posting
    record = partial(services.care_visit_record, user=winner, scope=scope_for(winner), visit_id=visit.pk,
                     outcome="well", minutes=30)
    assert _kinds(race([record, record, record])) == Counter({"ok": 1, "Conflict": 2})
    assert HoursEntry.objects.filter(source="care_visit", source_id=visit.pk).count() == 1


def test_posting_one_act_from_many_threads_writes_one_entry() -> None:
    visit, _, volunteers = _world(1)

    @serialised
    def post() -> HoursEntry:
        return services.hours_post(user=None, volunteer=volunteers[0], source="sweep", source_id=visit.pk,
                                   hours=Decimal("0.25"), on=timezone.localdate(), place_path=visit.place_path)

    results = race([post for _ in range(10)])
    assert _kinds(results) == Counter({"ok": 1, "Conflict": 9}), _kinds(results)
    assert HoursEntry.objects.filter(source="sweep", source_id=visit.pk).count() == 1
    # and the database itself refuses a second row for the act, whatever wrote it
    with pytest.raises(IntegrityError), transaction.atomic():
        HoursEntry.objects.create(volunteer=volunteers[0], source="sweep", source_id=visit.pk, hours=1,
                                  on=timezone.localdate(), place_path=visit.place_path, at=timezone.now())


def test_concurrent_time_bank_spends_never_overdraw() -> None:
    _, _, volunteers = _world(1)
    person = volunteers[0].person
    services.time_transfer(user=None, scope=ADMIN, kind="earned", person_id=person.pk, counterpart_id=None,
                           minutes=100, note="visits")
    results = race([partial(services.time_transfer, user=None, scope=ADMIN, kind="spent", person_id=person.pk,
                             counterpart_id=None, minutes=7, note="lunch") for _ in range(20)])
    assert _kinds(results) == Counter({"ok": 14, "Conflict": 6}), _kinds(results)  # 14 x 7 = 98 <= 100
    assert TimeAccount.objects.get(person=person).balance == 2
    assert TimeAccount.objects.aggregate(s=Sum("balance"))["s"] == 0


def test_scheduling_runs_at_once_give_an_idle_pairing_one_next_visit() -> None:
    """The periodic job run three times at once (a slow run and the next minute's, or two workers): the pairing
    whose visit was missed gets one next visit, not three. The world's open visit belongs to no pairing."""
    visit, _users, volunteers = _world(1)
    today = timezone.localdate()
    pairing = HelperAssignment.objects.create(resident=visit.resident, helper=volunteers[0].person, kind="volunteer",
                                              every_days=7, grid=visit.grid, place_path=visit.place_path,
                                              started_on=today - timedelta(days=30))
    CareVisit.objects.create(resident=visit.resident, assignment=pairing, grid=visit.grid, place_path=visit.place_path,
                             due_on=today - timedelta(days=20), status="missed")
    results = race([services.visits_schedule_and_count_missed] * 3)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r["scheduled"] for r in results) == 1
    (due,) = CareVisit.objects.filter(assignment=pairing, status="claimed").values_list("due_on", flat=True)
    assert due == today

