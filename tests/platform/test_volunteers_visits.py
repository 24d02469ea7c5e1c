"""Care visits: a volunteer claims one only with a valid course and when no work guard refuses, records
it in a few taps, and its hours reach the ledger once; paired helpers get their visits scheduled and
missed ones reach the grid member."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from civicgrid.core import plugins
from civicgrid.core.errors import Conflict, Forbidden, Invalid, NotFound
from civicgrid.core.models import AuditLog
from civicgrid.volunteers import selectors, services
from civicgrid.volunteers.models import CareVisit, Certificate, HelperAssignment, HoursEntry
from tests.platform.relief_support import client_for
from tests.platform.volunteers_support import (
    as_,
    care_course,
    g01,
    open_visit,
    other_resident,
    register_volunteer,
    vulnerable_resident,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_a_volunteer_without_the_course_is_refused_and_with_it_claims() -> None:
    volunteer = register_volunteer()
    course = care_course()
    visit = open_visit()
    user, scope = as_("volunteer")
    with pytest.raises(Forbidden, match="needs the course"):
        services.care_visit_claim(user=user, scope=scope, visit_id=visit.pk)
    visit.refresh_from_db()
    assert (visit.status, visit.visitor_id) == ("open", None)
    director, d_scope = as_("director")
    services.certificate_grant(user=director, scope=d_scope, volunteer_id=volunteer.pk, course_id=course.pk)
    services.care_visit_claim(user=user, scope=scope, visit_id=visit.pk)
    visit.refresh_from_db()
    assert (visit.status, visit.visitor_id) == ("claimed", volunteer.person_id)
    assert AuditLog.objects.filter(event="volunteers.visit_claimed", object_id=str(visit.pk)).count() == 1


def test_an_expired_certificate_refuses_the_claim_and_writes_nothing() -> None:
    volunteer = register_volunteer()
    course = care_course()
    attended = timezone.localdate() - timedelta(days=400)  # 12 months' validity: expired about a month ago
    Certificate.objects.create(volunteer=volunteer, course=course, attended_on=attended,
                               expires_on=services.add_months(attended, course.valid_months))
    visit = open_visit()
    before = AuditLog.objects.count()
    user, scope = as_("volunteer")
    with pytest.raises(Forbidden, match="expired"):
        services.care_visit_claim(user=user, scope=scope, visit_id=visit.pk)
    visit.refresh_from_db()
    assert visit.status == "open" and AuditLog.objects.count() == before


def test_a_work_guard_refuses_the_claim_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    volunteer = register_volunteer()
    course = care_course()
    director, d_scope = as_("director")
    services.certificate_grant(user=director, scope=d_scope, volunteer_id=volunteer.pk, course_id=course.pk)
    visit = open_visit()
    asked = []

    def guard(*, user, scope, place_path, service_kind):  # type: ignore[no-untyped-def]
        asked.append((place_path, service_kind))
        return "not admitted to this emergency"

    monkeypatch.setitem(plugins._PLUGINS, "zz_guard", plugins.AppPlugin(work_guards=(guard,)))
    user, scope = as_("volunteer")
    with pytest.raises(Forbidden, match="not admitted"):
        services.care_visit_claim(user=user, scope=scope, visit_id=visit.pk)
    assert asked == [(visit.place_path, "care_visit")]
    visit.refresh_from_db()
    assert visit.status == "open"


def test_recording_a_visit_posts_its_hours_once() -> None:
    volunteer = register_volunteer()
    course = care_course()
    director, d_scope = as_("director")
    services.certificate_grant(user=director, scope=d_scope, volunteer_id=volunteer.pk, course_id=course.pk)
    visit = open_visit()
    user, scope = as_("volunteer")
    services.care_visit_claim(user=user, scope=scope, visit_id=visit.pk)
    with pytest.raises(Invalid):
        services.care_visit_record(user=user, scope=scope, visit_id=visit.pk, outcome="fine", minutes=30)
    services.care_visit_record(user=user, scope=scope, visit_id=visit.pk, outcome="well", minutes=45)
    entry = HoursEntry.objects.get(source="care_visit", source_id=visit.pk)
    assert (entry.volunteer_id, entry.hours) == (volunteer.pk, Decimal("0.75"))
    with pytest.raises(Conflict):
        services.care_visit_record(user=user, scope=scope, visit_id=visit.pk, outcome="well", minutes=45)
    # posting the same act again is refused, and nothing more is written
    with pytest.raises(Conflict, match="posted already"):
        services.hours_post(user=None, volunteer=volunteer, source="care_visit", source_id=visit.pk,
                            hours=Decimal("1"), on=timezone.localdate(), place_path=visit.place_path)
    assert HoursEntry.objects.filter(source="care_visit", source_id=visit.pk).count() == 1
    assert selectors.hours_total(volunteer) == Decimal("0.75")


def test_someone_else_cannot_record_or_claim_outside_their_area() -> None:
    register_volunteer()
    visit = open_visit(vulnerable_resident("C02-G01"))
    user, scope = as_("volunteer")
    with pytest.raises(NotFound):  # C02 is not served by the volunteer's team: the visit looks absent
        services.care_visit_claim(user=user, scope=scope, visit_id=visit.pk)
    with pytest.raises(NotFound):
        services.care_visit_record(user=user, scope=scope, visit_id=visit.pk, outcome="well", minutes=30)
    grid, g_scope = as_("grid")
    with pytest.raises(Forbidden):  # a grid member is not a registered volunteer
        services.care_visit_claim(user=grid, scope=g_scope, visit_id=open_visit().pk)


def test_an_open_visit_of_no_pairing_does_not_hide_the_idle_pairings() -> None:
    """A one-off visit (care_visit_open: no pairing) is open; a pairing whose visit was missed still gets its
    next one, due today at the earliest (a NOT IN of the open visits' pairings met the one-off's NULL and found
    no pairing idle: none was ever scheduled again)."""
    grid, scope = as_("grid")
    start = timezone.localdate() - timedelta(days=30)
    a = services.helper_assign(user=grid, scope=scope, resident_id=vulnerable_resident(n=1).pk,
                               helper_person_id=grid.role.person.pk, kind="grid_member", every_days=7, start_on=start)
    one_off = open_visit(vulnerable_resident(n=2))
    assert one_off.assignment_id is None
    counts = services.visits_schedule_and_count_missed()
    first = CareVisit.objects.get(assignment=a, status="missed")  # due 23 days ago
    nxt = CareVisit.objects.get(assignment=a, status="claimed")
    assert first.due_on == start + timedelta(days=7) and nxt.due_on == timezone.localdate()
    assert (nxt.visitor_id, nxt.resident_id, nxt.grid_id) == (grid.role.person.pk, a.resident_id, a.grid_id)
    assert counts["scheduled"] >= 1
    one_off.refresh_from_db()
    assert one_off.status == "open"
    assert services.visits_schedule_and_count_missed()["scheduled"] == 0  # the pairing has its visit now


def test_paired_help_is_for_vulnerable_residents_and_schedules_visits() -> None:
    grid, scope = as_("grid")
    helper = grid.role.person  # the grid member helps themself
    with pytest.raises(Invalid):
        services.helper_assign(user=grid, scope=scope, resident_id=other_resident().pk, helper_person_id=helper.pk,
                               kind="grid_member", every_days=7)
    resident = vulnerable_resident()
    start = timezone.localdate() - timedelta(days=10)
    a = services.helper_assign(user=grid, scope=scope, resident_id=resident.pk, helper_person_id=helper.pk,
                               kind="grid_member", every_days=7, start_on=start)
    first = CareVisit.objects.get(assignment=a)
    assert (first.status, first.visitor_id, first.due_on) == ("claimed", helper.pk, start + timedelta(days=7))
    # a volunteer helper needs the course too
    volunteer = register_volunteer()
    care_course()
    with pytest.raises(Forbidden):
        services.helper_assign(user=grid, scope=scope, resident_id=resident.pk,
                               helper_person_id=volunteer.person_id, kind="volunteer", every_days=7)
    assert HelperAssignment.objects.get(resident=resident, ended_on__isnull=True).pk == a.pk

    # the job: the first visit (due 3 days ago) is missed, and the next one is scheduled
    counts = services.visits_schedule_and_count_missed()
    first.refresh_from_db()
    assert first.status == "missed" and counts["missed"] >= 1
    nxt = CareVisit.objects.filter(assignment=a, status="claimed").get()
    assert nxt.due_on == first.due_on + timedelta(days=7)  # the rhythm is kept
    assert services.visits_schedule_and_count_missed() == {"missed": 0, "scheduled": 0}  # idempotent
    # the grid member sees the missed visit in their work list and the coverage of their grid
    items = plugins.work_for(user=grid, scope=scope)
    assert any(i.kind == "volunteers.missed_visit" and resident.name in i.title for i in items)
    row = next(r for r in selectors.coverage(scope=scope) if r.grid.pk == g01().pk)
    assert (row.with_helper, row.missed) == (1, 1)
    # the helper records the next visit in a few taps: the page shows the outcome buttons
    page = client_for("grid").get(f"/volunteers/visits/{nxt.pk}/")
    assert page.status_code == 200 and b'name="outcome"' in page.content
    response = client_for("grid").post(f"/volunteers/visits/{nxt.pk}/record/", {"outcome": "well", "minutes": "30"})
    assert response.status_code == 302
    nxt.refresh_from_db()
    assert nxt.status == "done"
    assert not HoursEntry.objects.filter(source="care_visit", source_id=nxt.pk).exists()  # not a volunteer
    assert CareVisit.objects.filter(assignment=a, status="claimed", due_on=timezone.localdate() + timedelta(days=7)).exists()


def test_candidates_are_ranked_with_their_reasons() -> None:
    near = register_volunteer()
    care_course()
    visit = open_visit()
    director, scope = as_("director")
    found = selectors.candidates(scope=scope, visit=visit)
    mine = next(m for m in found if m.volunteer.pk == near.pk)
    assert mine.refusal and "course" in mine.refusal  # listed, with why they cannot take it yet
    assert any("elderly care" in r for r in mine.reasons)
    assert any(r in {"same building", "same grid"} for r in mine.reasons)
    assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)
