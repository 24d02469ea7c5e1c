"""Dangerous emergency acts ask first and say the consequence: activating shows how many households the
opening alert reaches (equal to a plain count of the community's households, and to what the alert then
targets) and writes nothing until confirmed; closing with open tasks or people in isolation lists them and is
refused until the box is ticked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.alerts.models import Alert
from civicgrid.emergency import services
from civicgrid.emergency.models import Emergency, LiveTask, PlanTemplate
from civicgrid.registry.models import Household, Place, Resident
from tests.platform.factories import user

pytestmark = pytest.mark.django_db


def _client(language: str = "en") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user("director"))
    return client


def _community() -> Place:
    return user("director").role.place


def _plan() -> PlanTemplate:
    return PlanTemplate.objects.get(code="epidemic_lockdown")


def test_activating_asks_first_with_the_number_of_households_alerted() -> None:
    community, plan = _community(), _plan()
    households = Household.objects.filter(grid__parent=community).count()  # every grid's households, counted
    assert households > 0
    client = _client()
    asked = client.post("/emergency/activate/", {"community": community.pk, "plan": plan.pk})
    assert asked.status_code == 200 and not Emergency.objects.exists() and not Alert.objects.exists()
    assert asked.context["reach"].households == households
    html = asked.content.decode()
    assert f"sends the opening alert to {households} households" in html
    assert 'name="confirmed" value="1"' in html
    zh = _client("zh-hans").post("/emergency/activate/", {"community": community.pk, "plan": plan.pk})
    assert f"{households} 户" in zh.content.decode()
    done = client.post("/emergency/activate/", {"community": community.pk, "plan": plan.pk, "confirmed": "1"})
    emergency = Emergency.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/emergency/{emergency.pk}/"
    assert emergency.opening_alert.n_households_targeted == households  # the number shown is the one alerted


def test_closing_with_open_work_lists_it_and_needs_a_tick() -> None:
    director = user("director")
    emergency = services.emergency_activate(user=director, scope=scope_for(director), community=_community(),
                                            plan=_plan()).emergency
    resident = Resident.objects.filter(household=user("resident").role.household).first()
    start = timezone.localdate() - timedelta(days=1)
    services.isolation_start(user=user("grid"), scope=scope_for(user("grid")), resident=resident, start_date=start,
                             end_date=start + timedelta(days=13), reason="close contact")
    open_tasks = LiveTask.objects.filter(emergency=emergency, state="open").count()
    assert open_tasks > 0
    client = _client()
    page = client.get(f"/emergency/{emergency.pk}/").content.decode()
    assert f"{open_tasks} live tasks not done" in page and "1 person in home isolation today" in page
    review = {"summary": "One day.", "went_well": "", "to_improve": ""}
    refused = client.post(f"/emergency/{emergency.pk}/deactivate/", review)
    assert refused.status_code == 400
    assert "Tick this box" in refused.content.decode().split('id="field-confirm_open"')[1].split("</div>")[0]
    emergency.refresh_from_db()
    assert emergency.status == "active"
    closed = client.post(f"/emergency/{emergency.pk}/deactivate/", {**review, "confirm_open": "on"})
    assert closed.status_code == 302
    emergency.refresh_from_db()
    assert emergency.status == "closed"


def test_closing_with_nothing_open_asks_for_no_tick() -> None:
    director = user("director")
    emergency = services.emergency_activate(user=director, scope=scope_for(director), community=_community(),
                                            plan=_plan()).emergency
    LiveTask.objects.filter(emergency=emergency).update(state="done", done_at=timezone.now())
    client = _client()
    assert 'name="confirm_open"' not in client.get(f"/emergency/{emergency.pk}/").content.decode()
    closed = client.post(f"/emergency/{emergency.pk}/deactivate/", {"summary": "Quiet."})
    assert closed.status_code == 302


def test_a_drill_says_how_many_households_its_alert_reaches_before_activating() -> None:
    community, plan = _community(), _plan()
    director = user("director")
    drill = services.drill_start(user=director, scope=scope_for(director), community=community, plan=plan)
    households = Household.objects.filter(grid__parent=community).count()
    page = _client().get(f"/emergency/drills/{drill.pk}/")
    assert page.status_code == 200
    assert f"(marked as an exercise) to {households} households" in page.content.decode()
