"""The normal -> emergency switch: one authorised, audited action; idempotent; one active emergency per
community and hazard; live tasks assigned as the plan's command structure says (checked against the
generated actors and posts); the opening alert; deactivation with its review; drills and their clocks;
editable plan templates."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.alerts.models import Alert
from civicgrid.core.models import AuditLog
from civicgrid.emergency import plan_format as pf
from civicgrid.emergency import services
from civicgrid.emergency.models import Emergency, LiveTask, PlanTemplate, SweepVisit
from civicgrid.emergency.selectors import modes
from civicgrid.registry.models import Household, Place
from tests.platform.factories import user

pytestmark = pytest.mark.django_db


def plan(code: str = "epidemic_lockdown") -> PlanTemplate:
    return PlanTemplate.objects.get(code=code)


def community() -> Place:
    return user("director").role.place


def _counts() -> tuple[int, int, int, int]:
    return (Emergency.objects.count(), LiveTask.objects.count(), Alert.objects.count(), AuditLog.objects.count())


def test_shipped_plans() -> None:
    assert set(PlanTemplate.objects.values_list("hazard", flat=True)) >= {"epidemic", "earthquake", "flood"}
    for template in PlanTemplate.objects.all():
        doc = pf.validate_plan(template.body)
        assert doc["command_structure"] and doc["tasks"] and doc["alert_texts"]["opening"]["headline"]["zh"]
    units = [u["key"] for u in plan().body["command_structure"]]
    assert {"leading_group", "headquarters", "grid_teams", "volunteer_teams", "residents_team"} <= set(units)


def test_activation_is_one_audited_idempotent_action(community_frames) -> None:
    director, place = user("director"), community()
    before = _counts()
    assert modes.community_modes(scope=_scope(director))[0].mode == "normal"
    result = services.emergency_activate(user=director, scope=scope_for(director), community=place, plan=plan())
    emergency = result.emergency
    assert result.created and emergency.status == "active" and emergency.level == plan().default_level
    assert {m.community.pk: m.mode for m in modes.community_modes(scope=_scope(director))}[place.pk] == "emergency"
    # live tasks: one per plan task, per-grid ones once per grid of the community
    grids = community_frames["grids"]
    doc = plan().body
    expected = sum(len(grids) if t["per_grid"] else 1 for t in doc["tasks"])
    assert emergency.tasks.count() == expected
    for task in emergency.tasks.filter(grid__isnull=False).select_related("grid", "person"):
        assert task.person.code == community_frames["grid_member_of"][task.grid.code]
    headquarters = next(u for u in emergency.command if u["key"] == "leading_group")
    assert headquarters["actor_name"] == community_frames["actor_name"][place.code + "-A01"]  # the party committee
    volunteers = next(u for u in emergency.command if u["key"] == "volunteer_teams")
    assert volunteers["actor_name"] == community_frames["actor_name"][place.code + "-A07"]
    # the opening alert, to everyone in the community, through the alerts app
    alert = emergency.opening_alert
    households = Household.objects.filter(place_path__startswith=place.path)
    assert (alert.area, alert.group, alert.status, alert.severity) == (place, "all", "Actual", "Severe")
    assert alert.n_households_targeted == households.count()
    assert alert.headline_zh == doc["alert_texts"]["opening"]["headline"]["zh"]
    # stock targets from the plan and the registry
    masks = next(s for s in emergency.stock_targets if s["key"] == "masks")
    n, nv = households.count(), households.filter(vulnerability_score__gte=settings.CIVICGRID_VULNERABLE_SCORE).count()
    assert masks["quantity"] == math.ceil(10 * n + 10 * nv)
    audit = AuditLog.objects.get(model="emergency.Emergency", object_id=str(emergency.pk))
    assert audit.new["live_tasks"] == expected and audit.user == director
    after = _counts()
    # repeating it changes nothing: same emergency, no new task, alert or audit row
    again = services.emergency_activate(user=director, scope=scope_for(director), community=place, plan=plan(), level="I")
    assert (again.created, again.emergency.pk, again.emergency.level) == (False, emergency.pk, emergency.level)
    assert _counts() == after and after[0] == before[0] + 1
    # another hazard is another emergency
    flood = services.emergency_activate(user=director, scope=scope_for(director), community=place, plan=plan("flood"))
    assert flood.created and Emergency.objects.filter(community=place, status="active").count() == 2


def test_one_active_emergency_per_community_and_hazard_is_a_database_rule() -> None:
    emergency = services.emergency_activate(user=user("director"), scope=scope_for(user("director")), community=community(), plan=plan()).emergency
    with pytest.raises(IntegrityError), transaction.atomic():
        Emergency.objects.create(community=community(), hazard="epidemic", level="I", plan=plan(), plan_version=1,
                                 plan_snapshot={}, activated_at=timezone.now())
    services.emergency_deactivate(user=user("director"), scope=scope_for(user("director")), emergency=emergency, summary="done")
    assert services.emergency_activate(user=user("director"), scope=scope_for(user("director")), community=community(), plan=plan()).created


def test_only_authorised_roles_activate() -> None:
    with pytest.raises(PermissionDenied):
        services.emergency_activate(user=user("grid"), scope=scope_for(user("grid")), community=community(), plan=plan())
    other = Place.objects.filter(level="community").exclude(pk=community().pk).first()
    with pytest.raises(ObjectDoesNotExist):  # another community is outside the director's scope
        services.emergency_activate(user=user("director"), scope=scope_for(user("director")), community=other,
                                    plan=plan())
    with pytest.raises(ValidationError):
        services.emergency_activate(user=user("district"), scope=scope_for(user("district")), community=other.parent, plan=plan())
    assert services.emergency_activate(user=user("district"), scope=scope_for(user("district")), community=other, plan=plan()).created
    client = Client(headers={"accept-language": "en"})
    client.force_login(user("grid"))
    assert client.post("/emergency/activate/", {"community": community().pk, "plan": plan().pk}).status_code == 403


def test_activation_api() -> None:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user("director"))
    payload = {"community_id": community().pk, "plan_code": "flood"}
    first = client.post("/api/emergency/activate", payload, content_type="application/json")
    again = client.post("/api/emergency/activate", payload, content_type="application/json")
    assert (first.status_code, first.json()["created"], again.json()["created"]) == (200, True, False)
    assert first.json()["emergency"]["id"] == again.json()["emergency"]["id"]
    modes_json = client.get("/api/emergency/modes").json()
    assert {m["community_id"]: m["mode"] for m in modes_json}[community().pk] == "emergency"
    grid_member = Client()
    grid_member.force_login(user("grid"))
    assert grid_member.post("/api/emergency/activate", payload, content_type="application/json").status_code == 403
    other = Place.objects.filter(level="community").exclude(pk=community().pk).first()
    assert client.post("/api/emergency/activate", {"community_id": other.pk, "plan_code": "flood"},
                       content_type="application/json").status_code == 404


def test_deactivation_records_the_review_and_sends_the_all_clear() -> None:
    director = user("director")
    t0 = timezone.now()
    emergency = services.emergency_activate(user=director, scope=scope_for(director), community=community(), plan=plan(), now=t0).emergency
    task = emergency.tasks.filter(grid__isnull=True).first()
    services.live_task_complete(user=director, scope=scope_for(director), task=task, now=t0 + timedelta(minutes=30))
    with pytest.raises(ValidationError) as no_review:
        services.emergency_deactivate(user=director, scope=scope_for(director), emergency=emergency, summary=" ")
    assert "review_summary" in no_review.value.message_dict
    closed = services.emergency_deactivate(user=director, scope=scope_for(director), emergency=emergency, summary="Two days of lockdown.",
                                           went_well="gates", to_improve="deliveries", now=t0 + timedelta(hours=48))
    assert closed.status == "closed" and closed.review_went_well == "gates"
    facts = closed.review_facts
    assert (facts["hours_active"], facts["tasks"], facts["tasks_done"], facts["tasks_done_on_time"]) == (
        48.0, emergency.tasks.count(), 1, 1)
    assert closed.closing_alert.msg_type == "Update" and closed.closing_alert.references == closed.opening_alert
    assert closed.closing_alert.urgency == "Past"
    with pytest.raises(ValidationError):
        services.emergency_deactivate(user=director, scope=scope_for(director), emergency=closed, summary="again")
    with pytest.raises(ValidationError):  # tasks of a closed emergency stay as they were
        services.live_task_complete(user=director, scope=scope_for(director), task=emergency.tasks.filter(state="open").first())
    assert {m.community.pk: m.mode for m in modes.community_modes(scope=_scope(director))}[community().pk] == "normal"
    audit = AuditLog.objects.filter(model="emergency.Emergency", object_id=str(emergency.pk)).order_by("id")
    assert [a.action for a in audit] == ["create", "update"] and audit[1].new["status"] == "closed"


def test_drill_records_its_timings() -> None:
    director, place = user("director"), community()
    t0 = timezone.now()
    drill = services.drill_start(user=director, scope=scope_for(director), community=place, plan=plan(), now=t0)
    emergency = services.emergency_activate(user=director, scope=scope_for(director), community=place, plan=plan(), drill=drill,
                                            now=t0 + timedelta(minutes=7)).emergency
    drill.refresh_from_db()
    assert emergency.is_drill and drill.time_to_activate == timedelta(minutes=7)
    assert emergency.opening_alert.status == "Exercise" and emergency.opening_alert.headline_zh.startswith("【演练】")
    again = services.emergency_activate(user=director, scope=scope_for(director), community=place, plan=plan(), drill=drill)
    assert not again.created and again.emergency.pk == emergency.pk
    sweep = services.sweep_start(user=director, scope=scope_for(director), emergency=emergency, now=t0 + timedelta(minutes=8))
    vulnerable = list(sweep.visits.filter(vulnerable=True).order_by("-priority"))
    assert vulnerable
    for i, visit in enumerate(vulnerable):
        assert drill.time_to_reach_vulnerable is None
        services.sweep_visit_record(user=director, scope=scope_for(director), visit=visit, outcome="safe", now=t0 + timedelta(minutes=10 + i))
        drill.refresh_from_db()
        drill.emergency.refresh_from_db()
    assert drill.time_to_reach_vulnerable == timedelta(minutes=10 + len(vulnerable) - 1)
    assert SweepVisit.objects.filter(sweep=sweep, vulnerable=False, state="pending").exists()  # others need not


def test_plan_editing_is_validated_and_versioned() -> None:
    director, template = user("district"), plan("flood")  # plans are district-wide
    doc = pf.load_yaml(pf.dump_yaml(template.body))
    doc["tasks"][0]["due_hours"] = 3
    edited = services.plan_update(user=director, scope=scope_for(director), plan=template, document_yaml=pf.dump_yaml(doc))
    assert edited.version == template.version + 1 and edited.body["tasks"][0]["due_hours"] == 3.0
    doc["tasks"][1]["unit"] = "nobody"
    doc["stock_targets"][0]["per_household"] = -1
    with pytest.raises(ValidationError) as bad:
        services.plan_update(user=director, scope=scope_for(director), plan=edited, document_yaml=pf.dump_yaml(doc))
    problems = bad.value.message_dict["document"]
    assert any(p.startswith("tasks[1].unit") for p in problems)
    assert any(p.startswith("stock_targets[0].per_household") for p in problems)
    with pytest.raises(ValidationError):
        services.plan_update(user=director, scope=scope_for(director), plan=edited, document_yaml="code: [unclosed")
    with pytest.raises(PermissionDenied):
        services.plan_update(user=user("grid"), scope=scope_for(user("grid")), plan=edited, document_yaml=pf.dump_yaml(edited.body))
    client = Client(headers={"accept-language": "en"})
    client.force_login(director)
    page = client.post(f"/emergency/plans/{edited.pk}/edit/", {"document": pf.dump_yaml(doc)})
    assert page.status_code == 400 and "tasks[1].unit" in page.content.decode()


def test_live_pages_show_what_matters(community_frames) -> None:
    director = user("director")
    emergency = services.emergency_activate(user=director, scope=scope_for(director), community=community(), plan=plan()).emergency
    services.sweep_start(user=director, scope=scope_for(director), emergency=emergency)
    client = Client(headers={"accept-language": "en"})
    client.force_login(director)
    detail = client.get(f"/emergency/{emergency.pk}/").content.decode()
    assert 'id="live-tasks"' in detail and emergency.opening_alert.headline_en in detail
    assert "Six dos and six don&#x27;ts&#x27; of home isolation" in detail
    chinese = Client(headers={"accept-language": "zh-hans"})
    chinese.force_login(director)
    zh_page = chinese.get(f"/emergency/{emergency.pk}/").content.decode()
    assert "实时任务" in zh_page and "居家隔离“六要六不要”" in zh_page and "应急看板" in zh_page
    assert emergency.opening_alert.headline_zh in zh_page
    now_page = client.get("/emergency/now/").content.decode()
    n_vulnerable = Household.objects.filter(place_path__startswith=community().path, vulnerability_score__gte=settings.CIVICGRID_VULNERABLE_SCORE).count()
    assert f'<b id="n-unreached">{n_vulnerable}</b>' in now_page
    grid_client = Client(headers={"accept-language": "en"})
    grid_client.force_login(user("grid"))
    grid_page = grid_client.get("/emergency/now/").content.decode()
    grid = user("resident").role.household.grid
    in_grid = Household.objects.filter(grid=grid, vulnerability_score__gte=settings.CIVICGRID_VULNERABLE_SCORE).count()
    assert f'<b id="n-unreached">{in_grid}</b>' in grid_page  # only the grid member's own grid
    other = Place.objects.filter(level="community").exclude(pk=community().pk).first()
    other_director = Client(headers={"accept-language": "en"})
    other_director.force_login(user("district"))
    assert other_director.get("/emergency/now/").status_code == 200
    assert Client(headers={"accept-language": "en"}).get("/emergency/now/").status_code == 302  # login first
    resident = Client(headers={"accept-language": "en"})
    resident.force_login(user("resident"))
    assert resident.get("/emergency/now/").status_code == 403
    assert other.pk  # the other community stays in normal mode
    assert not Emergency.objects.filter(community=other, status="active").exists()


def _scope(u):
    from civicgrid.accounts.roles import scope_for

    return scope_for(u)


@pytest.fixture(scope="module")
def community_frames(community):
    """What the generated tables say about the first community: its grids, their grid members, actors."""
    first = sorted(community.places.loc[community.places["level"] == "community", "code"])[0]
    posts = community.posts
    members = posts.loc[posts["role"] == "grid_member"]
    return {"grids": sorted(community.places.loc[community.places["parent_code"] == first, "code"]),
            "grid_member_of": dict(zip(members["place_code"], members["person_code"], strict=True)),
            "actor_name": dict(zip(community.actors["code"], community.actors["name"], strict=True))}
