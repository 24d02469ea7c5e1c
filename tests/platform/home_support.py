"""A small world for the home pages, built through the apps' services on the demo logins: the director's
community in emergency mode with a sweep; a live task given to the staff's organisation; an overdue case
in the grid member's grid and a case dispatched to the organisation; a life-critical need for the
resident's household and a normal one next door; a home isolation in the resident's household (today's
check-in due) and one next door with missed check-ins; a confirmed relief round whose delivery tasks the
volunteer may claim. Used by test_home_work.py (inside the test's transaction) and by the browser test
(committed, see transactional/test_home_browser.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.cases import services as cases
from civicgrid.cases.models import Case, CaseCategory
from civicgrid.core.places import ancestors
from civicgrid.emergency import services as emergency
from civicgrid.emergency.models import Emergency, LiveTask, PlanTemplate
from civicgrid.registry.models import Household, Place, Resident
from civicgrid.relief import services as relief
from tests.platform.factories import user
from tests.platform.relief_support import catalogue, point_for, receive


@dataclass
class HomeWorld:
    emergency: Emergency
    org_task: LiveTask
    overdue_case: Case
    dispatched_case: Case


def _key() -> str:
    return uuid.uuid4().hex


def build() -> HomeWorld:
    director, grid, staff, resident = user("director"), user("grid"), user("orgstaff"), user("resident")
    d_scope, g_scope = scope_for(director), scope_for(grid)
    community = director.role.place
    household = resident.role.household
    now, today = timezone.now(), timezone.localdate()
    result = emergency.emergency_activate(user=director, scope=d_scope, community=community,
                                          plan=PlanTemplate.objects.get(code="epidemic_lockdown"))
    e = result.emergency
    emergency.sweep_start(user=director, scope=d_scope, emergency=e)
    # a live task given to the staff's organisation (the plan gives the community's tasks to the best-placed
    # actor; the demo's organisation serves its sub-district, so it takes one, as a coordinator would assign)
    org = staff.role.actor
    assert community.path.startswith(org.service_area.path) or org.service_area.path in ancestors(community.path)
    task = LiveTask.objects.filter(emergency=e, grid__isnull=True).order_by("id").first()
    assert task is not None
    LiveTask.objects.filter(pk=task.pk).update(actor=org, person=None)
    task.refresh_from_db()
    # cases: overdue in the grid member's grid; dispatched to the organisation
    category = CaseCategory.objects.get(code="facility_repair")
    overdue = cases.case_report(user=grid, scope=g_scope, category=category, description="Broken stair rail",
                                place=household.grid, now=now - timedelta(days=10))
    dispatched = cases.case_report(user=grid, scope=g_scope, category=category, description="Blocked drain",
                                   place=household.grid)
    cases.case_act(user=director, scope=d_scope, case=dispatched, action="register")
    cases.case_act(user=director, scope=d_scope, case=Case.objects.get(pk=dispatched.pk), action="dispatch",
                   handler=org)
    # needs: life-critical for the resident's household, normal next door
    items = catalogue()
    # the last household of the grid: the emergency browser test isolates someone of the first ones
    neighbour = Household.objects.filter(grid_id=household.grid_id).exclude(pk=household.pk).order_by("-code").first()
    assert neighbour is not None
    relief.need_file(user=grid, scope=g_scope, household_id=household.pk, item=items["insulin"], quantity=2,
                     key=_key(), urgency="critical", channel="visit")
    relief.need_file(user=grid, scope=g_scope, household_id=neighbour.pk, item=items["water"], quantity=7,
                     key=_key(), channel="visit")
    # isolations: the resident's own household (check-in due today), next door (two days missed)
    mine = Resident.objects.filter(household=household).order_by("code").first()
    other = Resident.objects.filter(household=neighbour).order_by("code").first()
    emergency.isolation_start(user=grid, scope=g_scope, resident=mine, start_date=today, end_date=today + timedelta(days=6),
                              emergency=e)
    emergency.isolation_start(user=grid, scope=g_scope, resident=other, start_date=today - timedelta(days=2),
                              end_date=today + timedelta(days=5), emergency=e)
    emergency.isolation_flag_missed(today=today)
    # a relief round over the resident's grid (food for the resident's household and six others):
    # delivery tasks the volunteer's team may claim, a one-time code for the resident
    fed = Household.objects.filter(grid_id=household.grid_id).exclude(pk__in=[household.pk, neighbour.pk])
    for other_household in [household, *fed.order_by("code")[:6]]:
        relief.need_file(user=grid, scope=g_scope, household_id=other_household.pk, item=items["food"], quantity=7,
                         key=_key(), channel="visit")
    point = point_for(community)
    receive(items["food"], point, 500)
    relief.round_confirm(user=director, scope=d_scope, place_ids=[household.grid_id], item_codes=["t-food"], days=3,
                         policy="equity", seed=5)
    return HomeWorld(e, task, Case.objects.get(pk=overdue.pk), Case.objects.get(pk=dispatched.pk))


def community_of(username: str) -> Place:
    return user(username).role.place


def client_home(client: Any, username: str, language: str = "zh-hans") -> str:
    client.force_login(user(username))
    client.cookies["django_language"] = language
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()
