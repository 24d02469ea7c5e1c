"""Builders shared by the volunteers tests (no tests here). The demo ``volunteer`` login's person holds a
post in the volunteer team of community C01; the director and grid member (grid G01) serve C01."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.registry.models import Household, Place, Resident
from civicgrid.volunteers import services
from civicgrid.volunteers.models import CareVisit, Course, Volunteer
from tests.platform.factories import user


def as_(name: str) -> tuple[Any, Any]:
    found = user(name)
    return found, scope_for(found)


def g01() -> Place:
    return Place.objects.get(level="grid", code__endswith="C01-G01")


def register_volunteer(username: str = "volunteer") -> Volunteer:
    """The login's person registered as a volunteer living (or serving) in grid G01 of C01."""
    director, scope = as_("director")
    person = user(username).role.person
    home = person.resident.household.building if person.resident_id and \
        person.resident.household.place_path.startswith(g01().path) else g01()
    return services.volunteer_save(user=director, scope=scope, person_id=person.pk, home_id=home.pk,
                                   skills=["elderly_care"])


def care_course() -> Course:
    director, scope = as_("director")
    return services.course_create(user=director, scope=scope, code="t-elderly", name="Elderly care basics",
                                  required_for="care_visit", valid_months=12)


def vulnerable_resident(grid_suffix: str = "C01-G01", n: int = 0) -> Resident:
    homes = Household.objects.vulnerable().filter(grid__code__endswith=grid_suffix).order_by("code")
    return Resident.objects.filter(household__in=homes).order_by("id")[n]


def other_resident(grid_suffix: str = "C01-G01") -> Resident:
    homes = Household.objects.exclude(pk__in=Household.objects.vulnerable()).filter(grid__code__endswith=grid_suffix)
    return Resident.objects.filter(household__in=homes).order_by("id")[0]


def open_visit(resident: Resident | None = None, due: date | None = None) -> CareVisit:
    director, scope = as_("district")
    return services.care_visit_open(user=director, scope=scope, resident_id=(resident or vulnerable_resident()).pk,
                                    due_on=due or timezone.localdate() + timedelta(days=1))
