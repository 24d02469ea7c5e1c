"""Issue 10 §5, home isolation: find the person by name, the day filled in, the temperature checked
against a human range, and a fever (>= 37.3 °C) or a listed symptom alerts the grid member and opens a
case at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.alerts.models import Notice
from civicgrid.cases.models import Case
from civicgrid.emergency import services
from civicgrid.emergency.forms import IsolationForm
from civicgrid.registry.models import Resident
from tests.platform.factories import user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def isolated():
    resident = Resident.objects.filter(household=user("resident").role.household).first()
    start = timezone.localdate() - timedelta(days=2)
    return services.isolation_start(user=user("grid"), scope=scope_for(user("grid")), resident=resident,
                                    start_date=start, end_date=start + timedelta(days=13), reason="close contact")


def _record(isolated, temperature: str, symptoms: list[str] | None = None, day=None):
    return services.checkin_record(user=user("resident"), scope=scope_for(user("resident")), isolation=isolated,
                                   day=day or timezone.localdate(), temperature=temperature, symptoms=symptoms)


def _fever_cases(isolated) -> list[Case]:
    return list(Case.objects.filter(source__startswith=f"isolation:{isolated.pk}:", source__endswith=":fever"))


@pytest.mark.parametrize(("temperature", "symptoms", "alerted"), [
    ("37.2", [], False), ("37.3", [], True), ("36.6", ["cough"], True), ("39.0", ["fever", "taste_smell"], True)])
def test_a_fever_or_a_symptom_opens_a_case_and_alerts_the_grid_member(isolated, temperature, symptoms,
                                                                      alerted) -> None:
    _record(isolated, temperature, symptoms)
    cases = _fever_cases(isolated)
    notices = Notice.objects.filter(user=user("grid"), source__endswith=":fever",
                                    source__startswith=f"isolation:{isolated.pk}:")
    assert (len(cases), notices.count()) == ((1, 1) if alerted else (0, 0))
    if alerted:
        case = cases[0]
        assert case.category.code == "epidemic_prevention"
        assert case.household == isolated.household and case.reporter is None  # the platform filed it
        assert isolated.resident.name in case.description and temperature in case.description


def test_a_corrected_check_in_opens_no_second_case(isolated) -> None:
    _record(isolated, "38.0")
    _record(isolated, "38.4", ["cough"])
    assert len(_fever_cases(isolated)) == 1
    _record(isolated, "37.5", day=timezone.localdate() - timedelta(days=1))  # another day: its own case
    assert len(_fever_cases(isolated)) == 2


@pytest.mark.parametrize("temperature", ["33.9", "43.1", "98.6", "abc"])
def test_temperatures_outside_a_human_range_are_refused(isolated, temperature) -> None:
    with pytest.raises(ValidationError):
        _record(isolated, temperature)
    assert not _fever_cases(isolated)


def test_find_the_person_by_name_and_the_day_is_filled_in(isolated) -> None:
    scope = scope_for(user("grid"))
    (grid_path,) = scope.area_paths
    residents = Resident.objects.filter(household__place_path__startswith=grid_path)
    names = [n for n in residents.values_list("name", flat=True) if residents.filter(name=n).count() == 1]
    target = residents.get(name=names[0])
    today = timezone.localdate()
    form = IsolationForm(data={"resident": target.name, "start_date": today, "end_date": today + timedelta(days=13)},
                         scope=scope)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["resident"] == target
    outsider = Resident.objects.exclude(household__place_path__startswith=grid_path).exclude(
        name__in=residents.values("name")).first()
    assert outsider is not None
    form = IsolationForm(data={"resident": outsider.name, "start_date": today, "end_date": today}, scope=scope)
    assert not form.is_valid() and "No resident" in str(form.errors["resident"])
    surname = target.name[0]
    if residents.filter(name__icontains=surname).count() > 1:
        form = IsolationForm(data={"resident": surname, "start_date": today, "end_date": today}, scope=scope)
        assert not form.is_valid() and "Several residents match" in str(form.errors["resident"])
    client = Client()
    assert client.login(username="grid", password="civicgrid-demo")
    page = client.get(f"/emergency/isolation/{isolated.pk}/").content.decode()
    assert f'value="{today.isoformat()}"' in page and 'min="34.0"' in page and 'max="43.0"' in page
