"""Grievances under real concurrency (threads, their own connections, commits): handlers closing one
complaint at once leave one decision (the others are told it is no longer being handled); reviewers deciding
one appeal at once leave one outcome; the periodic job run twice at once escalates once; two pauses at once
leave one open pause. Transactional: builds its own small world (the database is emptied afterwards)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.accounts.services import DEMO_PASSWORD, role_assign
from civicgrid.core.errors import Conflict
from civicgrid.core.models import AuditLog
from civicgrid.core.scoping import PLATFORM
from civicgrid.grievances import conf, services
from civicgrid.grievances.models import Appeal, Grievance, Pause, Step
from civicgrid.registry import services as registry
from civicgrid.registry.models import Actor, Person, Place, Post
from tests.platform.transactional.racing import race

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 4


def _place(code: str, level: str, parent: Place | None) -> Place:
    return Place.objects.create(code=code, name=code, level=level, parent=parent,
                                path=(parent.path if parent else "") + code + "/")


def _world() -> dict[str, Any]:
    """A district with one community and grid, a grid member, a director, two district officials and a
    household with a resident's account."""
    tag = uuid.uuid4().hex[:6].upper()
    district = _place(f"GD{tag}", "district", None)
    community = _place(f"{district.code}-C", "community", _place(f"{district.code}-S", "subdistrict", district))
    committee = Actor.objects.create(code=f"{community.code}-A", name="committee", sector="society",
                                     kind="residents_committee", service_area=community)
    member = Person.objects.create(code=f"P{tag}", name="grid member")
    grid = _place(f"{community.code}-G", "grid", community)
    Post.objects.create(person=member, actor=committee, role="grid_member", place=grid)
    home = registry.household_create(user=None, scope=PLATFORM, code=f"{grid.code}-H", address="1-1",
                                     housing_type="commodity", building=_place(f"{grid.code}-B", "building", grid))
    specs = {"dir": {"role": "community_director", "place": community}, "grid": {"role": "grid_member", "person": member},
             "dist1": {"role": "district_official", "place": district},
             "dist2": {"role": "district_official", "place": district},
             "res": {"role": "resident", "household": home}}
    for name, kwargs in specs.items():
        role_assign(user=None, scope=PLATFORM, username=f"{name}{tag}", password=DEMO_PASSWORD, **kwargs)
    users = {name: get_user_model().objects.get(username=f"{name}{tag}") for name in specs}
    return {"home": home, **users}


def _file(w: dict[str, Any], now: Any = None) -> Grievance:
    return services.grievance_file(user=w["res"], scope=scope_for(w["res"]), kind="decision", subject_ref="车位",
                                   description="意见", now=now)


def test_handlers_closing_at_once_leave_one_decision() -> None:
    w = _world()
    g = _file(w)

    def close(name: str) -> Callable[[], Any]:
        return lambda: services.grievance_act(user=w[name], scope=scope_for(w[name]), grievance=g, action="close",
                                              note=f"decided by {name}")

    results = race([close("grid"), close("dir"), close("grid"), close("dist1")])
    done = [r for r in results if not isinstance(r, Exception)]
    assert len(done) == 1 and all(isinstance(r, Conflict) for r in results if isinstance(r, Exception)), results
    g.refresh_from_db()
    assert g.state == "closed" and g.reply == done[0].reply
    assert Step.objects.filter(grievance=g, action="close").count() == 1
    assert AuditLog.objects.filter(event="grievances.closed", object_id=str(g.pk)).count() == 1


def test_reviewers_deciding_one_appeal_at_once_leave_one_outcome() -> None:
    w = _world()
    g = _file(w)
    services.grievance_act(user=w["grid"], scope=scope_for(w["grid"]), grievance=g, action="close", note="不支持")
    appeal = services.grievance_appeal(user=w["res"], scope=scope_for(w["res"]), grievance=g, reason="不服")

    def decide(name: str, outcome: str) -> Callable[[], Any]:
        return lambda: services.appeal_decide(user=w[name], scope=scope_for(w[name]), appeal=appeal, outcome=outcome,
                                              decision=name)

    results = race([decide("dir", "upheld"), decide("dist1", "dismissed"), decide("dist2", "upheld")])
    assert sum(1 for r in results if not isinstance(r, Exception)) == 1, results
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, Exception)), results
    appeal.refresh_from_db()
    assert appeal.outcome in {"upheld", "dismissed"} and appeal.decision in {"dir", "dist1", "dist2"}
    assert Appeal.objects.filter(grievance=g).count() == 1
    assert AuditLog.objects.filter(event="grievances.appeal_decided", object_id=str(g.pk)).count() == 1


def test_pauses_and_the_job_at_once_leave_one_pause_and_one_escalation() -> None:
    w = _world()
    g = _file(w)

    def pause() -> Any:
        return services.grievance_act(user=w["grid"], scope=scope_for(w["grid"]), grievance=g, action="pause",
                                      reason="awaiting_complainant", note="等材料")

    results = race([pause, pause, pause])
    assert sum(1 for r in results if not isinstance(r, Exception)) == 1, results
    assert Pause.objects.filter(grievance=g, ended_at__isnull=True).count() == 1
    late = _file(w, now=timezone.now() - conf.hours("level_hours") - timedelta(hours=1))
    results = race([services.grievances_tick, services.grievances_tick, services.grievances_tick])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r["escalated"] for r in results) == 1
    late.refresh_from_db()
    assert late.level == "community" and Step.objects.filter(grievance=late, action="escalate").count() == 1
