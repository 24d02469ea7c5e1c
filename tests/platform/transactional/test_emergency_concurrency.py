"""Emergency and cases under real concurrency: threads with their own database connections and commits
(SQLite and PostgreSQL alike). These need committed data, so the tests are transactional (the database
is emptied afterwards); the module runs last (transactional/, ordered by tests/conftest.py) and builds the small world it uses itself."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from civicgrid.accounts.roles import scope_for
from civicgrid.accounts.services import DEMO_PASSWORD, role_assign
from civicgrid.alerts.models import Alert
from civicgrid.cases import services as cases
from civicgrid.cases.models import CaseCategory, CaseEvent
from civicgrid.cases.shipped import categories_install
from civicgrid.cases.transitions import InvalidTransition
from civicgrid.core.scoping import PLATFORM
from civicgrid.emergency import services
from civicgrid.emergency.models import (
    ChecklistItem,
    ChecklistTemplate,
    Emergency,
    LiveTask,
    PlanTemplate,
)
from civicgrid.emergency.shipped import templates_install
from civicgrid.registry import services as registry
from civicgrid.registry.models import Actor, Person, Place, Post
from tests.platform.transactional.racing import race

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 4


def _place(code: str, level: str, parent: Place | None) -> Place:
    return Place.objects.create(code=code, name=code, level=level, parent=parent,
                                path=(parent.path if parent else "") + code + "/")


def _world() -> dict[str, Any]:
    """A community of its own: two grids with two households each, a residents' committee with a grid
    member, a director; the shipped templates (the flush of earlier transactional tests removes them)."""
    templates_install(plan_model=PlanTemplate, checklist_model=ChecklistTemplate, item_model=ChecklistItem)
    categories_install(CaseCategory)
    tag = uuid.uuid4().hex[:6].upper()
    district = _place(f"ED{tag}", "district", None)
    community = _place(f"{district.code}-C", "community", _place(f"{district.code}-S", "subdistrict", district))
    committee = Actor.objects.create(code=f"{community.code}-A02", name="committee", sector="society",
                                     kind="residents_committee", service_area=community)
    member = Person.objects.create(code=f"P{tag}", name="grid member")
    households = []
    for g in range(2):
        grid = _place(f"{community.code}-G{g}", "grid", community)
        Post.objects.create(person=member, actor=committee, role="grid_member", place=grid)
        for b in range(2):
            households.append(registry.household_create(
                user=None, scope=PLATFORM, code=f"{grid.code}-H{b}", address=f"{g}-{b}", housing_type="commodity",
                building=_place(f"{grid.code}-B{b}", "building", grid)))
    role_assign(user=None, scope=PLATFORM, username=f"dir{tag}", password=DEMO_PASSWORD, role="community_director", place=community)
    role_assign(user=None, scope=PLATFORM, username=f"grid{tag}", password=DEMO_PASSWORD, role="grid_member", person=member)
    users = get_user_model().objects
    return {"community": community, "households": households, "director": users.get(username=f"dir{tag}"),
            "grid": users.get(username=f"grid{tag}"), "plan": PlanTemplate.objects.get(code="epidemic_lockdown")}


def test_simultaneous_activations_make_one_emergency() -> None:
    w = _world()
    results = race([lambda: services.emergency_activate(user=w["director"], scope=scope_for(w["director"]), community=w["community"],
                                                        plan=w["plan"])] * THREADS)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.created for r in results) == [False] * (THREADS - 1) + [True]
    assert len({r.emergency.pk for r in results}) == 1
    emergency = Emergency.objects.get(community=w["community"], status="active")
    per_grid = sum(1 for t in w["plan"].body["tasks"] if t["per_grid"])
    assert LiveTask.objects.filter(emergency=emergency).count() == per_grid * 2 + len(w["plan"].body["tasks"]) - per_grid
    assert Alert.objects.filter(source=f"emergency:{emergency.pk}").count() == 1


def test_one_visit_recorded_once_and_one_case_acted_on_once() -> None:
    w = _world()
    emergency = services.emergency_activate(user=w["director"], scope=scope_for(w["director"]), community=w["community"], plan=w["plan"]).emergency
    sweep = services.sweep_start(user=w["director"], scope=scope_for(w["director"]), emergency=emergency)
    visit = sweep.visits.first()
    results = race([lambda: services.sweep_visit_record(user=w["grid"], scope=scope_for(w["grid"]), visit=visit, outcome="safe")] * THREADS)
    recorded = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    # the others waited for the first and were refused as already visited (not "database is locked")
    assert len(recorded) == 1 and all(isinstance(e, ValidationError) for e in refused), results
    visit.refresh_from_db()
    assert (visit.state, visit.attempts) == ("safe", 1)
    case = cases.case_report(user=w["grid"], scope=scope_for(w["grid"]), category=CaseCategory.objects.get(code="sanitation"),
                             description="rubbish", household=w["households"][0])
    results = race([lambda: cases.case_act(user=w["director"], scope=scope_for(w["director"]), case=case, action="register")] * THREADS)
    assert sum(1 for r in results if not isinstance(r, Exception)) == 1, results
    assert all(isinstance(r, InvalidTransition) for r in results if isinstance(r, Exception)), results
    assert CaseEvent.objects.filter(case=case, action="register").count() == 1


def test_a_late_check_in_and_the_missed_check_ins_job_at_once_leave_no_day_flagged_that_was_checked_in() -> None:
    """The grid member records yesterday's check-in late while the job runs. The check-in's transaction is held
    open (2 s) after it resolved yesterday's flags; the job must not flag yesterday meanwhile and leave that flag
    unresolved once the check-in commits (PostgreSQL: both lock the isolation; SQLite: one writer at a time)."""
    import threading
    import time
    from datetime import timedelta

    from django.db import connections, transaction
    from django.utils import timezone

    from civicgrid.emergency.models import MissedCheckIn
    from civicgrid.registry.models import Resident

    w = _world()
    home = w["households"][0]
    resident = Resident.objects.create(code=f"{home.code}-R", household=home, name="居民", sex="F",
                                       birth_date=timezone.localdate().replace(year=1950), relation="head")
    today = timezone.localdate()
    isolation = services.isolation_start(user=w["grid"], scope=scope_for(w["grid"]), resident=resident,
                                         start_date=today - timedelta(days=1), end_date=today + timedelta(days=12))
    recorded, errors = threading.Event(), []

    def late_check_in() -> None:
        try:
            with transaction.atomic():
                services.checkin_record(user=w["grid"], scope=scope_for(w["grid"]), isolation=isolation,
                                        day=today - timedelta(days=1), temperature="36.6")
                recorded.set()
                time.sleep(2)  # the job runs now
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            recorded.set()
            connections.close_all()

    def job() -> None:
        try:
            recorded.wait(timeout=30)
            services.isolation_flag_missed(today=today)
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=late_check_in), threading.Thread(target=job)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert not MissedCheckIn.objects.filter(isolation=isolation, day=today - timedelta(days=1),
                                            resolved_at__isnull=True).exists()
