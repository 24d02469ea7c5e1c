"""What the volunteers app feeds: the CREI's three indicators against plain counts, governance work by
sector, the care-visit deliverable, and the demo year sized by the social-growth profiles."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from civicgrid.core import plugins, tallies
from civicgrid.registry.models import Household, Place, Resident
from civicgrid.volunteers import services
from civicgrid.volunteers.crei import INDICATORS
from civicgrid.volunteers.demo import demo_load
from civicgrid.volunteers.governance import contributions
from civicgrid.volunteers.models import (
    CareVisit,
    Certificate,
    HelperAssignment,
    HoursEntry,
    Volunteer,
)
from tests.platform.volunteers_support import (
    as_,
    care_course,
    open_visit,
    register_volunteer,
    vulnerable_resident,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def _units() -> dict[str, list[int]]:
    return {c.code: list(Place.objects.filter(level="grid", parent=c).values_list("pk", flat=True))
            for c in Place.objects.filter(level="community")}


def _records() -> Volunteer:
    volunteer = register_volunteer()
    course = care_course()
    director, scope = as_("director")
    services.certificate_grant(user=director, scope=scope, volunteer_id=volunteer.pk, course_id=course.pk)
    grid, g_scope = as_("grid")
    for n in range(3):
        services.helper_assign(user=grid, scope=g_scope, resident_id=vulnerable_resident(n=n).pk,
                               helper_person_id=volunteer.person_id, kind="volunteer", every_days=7)
    user, v_scope = as_("volunteer")
    visit = open_visit()
    services.care_visit_claim(user=user, scope=v_scope, visit_id=visit.pk)
    services.care_visit_record(user=user, scope=v_scope, visit_id=visit.pk, outcome="well", minutes=90)
    services.hours_enter(user=user, scope=v_scope, volunteer_id=volunteer.pk, hours="3", on=timezone.localdate(),
                         note="not approved: must not count")
    return volunteer


def test_nothing_recorded_is_missing_not_zero() -> None:
    assert all(provider(_units()) is None for provider in INDICATORS.values())


def test_the_indicators_match_plain_counts() -> None:
    _records()
    units = _units()
    residents = {c.code: Resident.objects.filter(household__place_path__startswith=c.path).count()
                 for c in Place.objects.filter(level="community")}
    c01 = Place.objects.get(level="community", code__endswith="C01")
    for counted in (False, True):  # never counted (read from the records), then from the job's count
        if counted:
            tallies.rebuild_stale(force=True)
        _check_plain_counts(units, residents, c01)


def _check_plain_counts(units: dict[str, list[int]], residents: dict[str, int], c01: Place) -> None:
    values = {name: provider(units) for name, provider in INDICATORS.items()}
    # hours: the one care visit of 90 minutes (the unapproved 3 hours do not count), per resident of C01
    assert values["volunteer_hours"][c01.code] == pytest.approx(1.5 / residents[c01.code])
    # helpers: 3 paired residents among the vulnerable residents of C01
    vulnerable = Resident.objects.filter(household__in=Household.objects.vulnerable(),
                                         household__place_path__startswith=c01.path).count()
    assert values["vulnerable_with_helper"][c01.code] == pytest.approx(3 / vulnerable)
    # trainings: one attendance per 1,000 residents
    assert values["training_attendance"][c01.code] == pytest.approx(1000 / residents[c01.code])
    other = next(code for code in units if code != c01.code)
    assert values["volunteer_hours"][other] == 0 and values["vulnerable_with_helper"][other] == 0


def test_work_is_credited_to_the_volunteers_organisation_and_visits_are_a_deliverable() -> None:
    volunteer = _records()
    c01 = Place.objects.get(level="community", code__endswith="C01")
    team = volunteer.person.posts.order_by("id").first().actor
    found = contributions(community=c01)
    assert [(c.actor_id, c.kind, c.amount, c.basis) for c in found] == [(team.code, "work", 1.5, "recorded")]
    count = plugins.deliverable("care_visits").count
    now = timezone.now()
    assert count(place_path=c01.path, start=now - timedelta(days=1), end=now + timedelta(seconds=1), actor_id=None) == 1
    assert count(place_path=c01.path, start=now - timedelta(days=1), end=now + timedelta(seconds=1),
                 actor_id=team.pk) == 1
    assert count(place_path=c01.path, start=now - timedelta(days=1), end=now - timedelta(hours=1), actor_id=None) == 0


def _demo_summary() -> dict[str, tuple[int, int, Decimal, int]]:
    out = {}
    for c in Place.objects.filter(level="community").order_by("code"):
        out[c.code] = (Volunteer.objects.filter(place_path__startswith=c.path).count(),
                       HelperAssignment.objects.filter(place_path__startswith=c.path).count(),
                       HoursEntry.objects.filter(place_path__startswith=c.path).aggregate(s=Sum("hours"))["s"]
                       or Decimal(0),
                       CareVisit.objects.filter(place_path__startswith=c.path, status="missed").count())
    return out


def test_the_demo_year_contrasts_the_hub_and_the_fused_community_and_repeats() -> None:
    with transaction.atomic():
        lines = demo_load(households=700, seed=3)
        first = _demo_summary()
        certificates = Certificate.objects.count()
        transaction.set_rollback(True)
    assert lines and demo_load.__module__  # it said what it loaded
    with transaction.atomic():
        demo_load(households=700, seed=3)
        again = _demo_summary()
        assert Certificate.objects.count() == certificates
        assert demo_load(households=700, seed=3) == []  # idempotent
        transaction.set_rollback(True)
    assert first == again
    hub, fused = (first[c] for c in sorted(first))
    assert hub[0] > 2 * fused[0] and hub[2] > 2 * fused[2] and hub[1] > fused[1]
