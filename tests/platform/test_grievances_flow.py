"""Grievances and appeals against their rules: the subject checked against the records that exist, the clock
stopped only for a stated reason, the decision on time or late by the clock, the appeal window, a reviewer
outside the handling chain, escalation and reminders by the periodic job, the sensitive track hidden from the
grid it concerns (services, pages and API), and the published monthly rates and the CREI indicator against
plain counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.alerts.models import Notice
from civicgrid.core.errors import Conflict, Forbidden, Invalid, NotFound
from civicgrid.core.models import AuditLog
from civicgrid.grievances import conf, selectors, services
from civicgrid.grievances.models import Appeal, Grievance, Pause, Step
from civicgrid.registry.models import Actor, Person, Place
from tests.platform.factories import user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
T0 = timezone.now().replace(microsecond=0) - timedelta(days=60)


def _file(kind: str = "decision", ref: str = "停车位分配", now=T0, **kw) -> Grievance:
    resident = user("resident")
    return services.grievance_file(user=resident, scope=scope_for(resident), kind=kind, subject_ref=ref,
                                   description="我家的意见没有被听取。", now=now, **kw)


def _act(username: str, g: Grievance, action: str, now, **kw) -> Grievance:
    u = user(username)
    return services.grievance_act(user=u, scope=scope_for(u), grievance=g, action=action, now=now, **kw)


def test_the_subject_is_checked_against_the_records_that_exist() -> None:
    before = Grievance.objects.count()
    for kind, ref in (("case", "C1999-999999"), ("organisation", "no such actor"), ("decision", ""),
                      ("grid_member", "nobody")):
        with pytest.raises(Invalid):
            _file(kind, ref)
    assert Grievance.objects.count() == before
    team = Actor.objects.get(pk=user("volunteer").role.person.posts.get().actor_id)  # serves the resident
    g = _file("organisation", team.code)
    assert (g.subject_label, g.subject_path, g.level, g.sensitive) == (team.name, team.service_area.path, "grid", False)
    assert g.place_path == user("resident").role.household.place_path
    assert g.due_at == T0 + conf.hours("resolve_hours") and g.level_due_at == T0 + conf.hours("level_hours")


def test_the_clock_pauses_only_for_a_stated_reason_and_the_deadline_moves_by_the_pause() -> None:
    g = _file()
    due = g.due_at
    audit_rows = AuditLog.objects.count()
    for reason, note in (("", "等材料"), ("because", "等材料"), ("awaiting_complainant", "")):
        with pytest.raises(Invalid):
            _act("grid", g, "pause", T0 + timedelta(hours=1), reason=reason, note=note)
    g.refresh_from_db()
    assert (Pause.objects.filter(grievance=g).count(), g.paused_since, AuditLog.objects.count()) == (0, None, audit_rows)
    _act("grid", g, "pause", T0 + timedelta(hours=1), reason="awaiting_complainant", note="等居民补充材料")
    g.refresh_from_db()
    assert g.paused_since is not None and g.due_at is None and g.level_due_at is None
    with pytest.raises(Conflict):
        _act("grid", g, "pause", T0 + timedelta(hours=2), reason="awaiting_third_party", note="again")
    _act("grid", g, "resume", T0 + timedelta(days=2, hours=1))
    g.refresh_from_db()
    assert g.due_at == due + timedelta(days=2)  # exactly the length of the pause
    assert AuditLog.objects.filter(event="grievances.paused", object_id=str(g.pk)).get().new["reason"] == \
        "awaiting_complainant"


def test_a_decision_is_on_time_by_the_clock_and_rated_once_by_the_complainant() -> None:
    early, late = _file(), _file()
    _act("grid", early, "close", T0 + timedelta(days=3), note="已核实，重新分配。")
    _act("grid", late, "close", T0 + conf.hours("resolve_hours") + timedelta(minutes=1), note="已答复。")
    early.refresh_from_db(), late.refresh_from_db()
    assert (early.closed_on_time, late.closed_on_time) == (True, False)
    with pytest.raises(Forbidden):
        _act("grid", early, "rate", T0 + timedelta(days=4), rating=5)
    _act("resident", early, "rate", T0 + timedelta(days=4), rating=4)
    with pytest.raises(Conflict):
        _act("resident", early, "rate", T0 + timedelta(days=4), rating=5)
    with pytest.raises(Conflict):  # two closings: the second finds it closed
        _act("director", early, "close", T0 + timedelta(days=5), note="again")


def test_an_appeal_after_its_window_is_refused_and_writes_nothing() -> None:
    g = _file()
    _act("grid", g, "close", T0 + timedelta(days=1), note="不予支持。")
    resident = user("resident")
    late = T0 + timedelta(days=1 + conf.value("appeal_window_days"), minutes=1)
    with pytest.raises(Conflict, match="window"):
        services.grievance_appeal(user=resident, scope=scope_for(resident), grievance=g, reason="不服", now=late)
    g.refresh_from_db()
    assert (g.state, Appeal.objects.filter(grievance=g).count()) == ("closed", 0)
    with pytest.raises(Forbidden):  # only the complainant appeals
        services.grievance_appeal(user=user("grid"), scope=scope_for(user("grid")), grievance=g, reason="x",
                                  now=T0 + timedelta(days=2))


def test_a_reviewer_in_the_chain_is_refused_and_one_outside_upholds() -> None:
    g = _file()
    _act("director", g, "respond", T0 + timedelta(hours=3), note="已受理。")  # the director joins the chain
    _act("grid", g, "close", T0 + timedelta(days=2), note="不予支持。")
    resident = user("resident")
    appeal = services.grievance_appeal(user=resident, scope=scope_for(resident), grievance=g, reason="答复不公",
                                       now=T0 + timedelta(days=3))
    assert appeal.due_at == T0 + timedelta(days=3) + conf.hours("appeal_hours")
    for name in ("director", "grid"):  # in the chain (and the grid member may not review at all)
        with pytest.raises(Forbidden):
            services.appeal_decide(user=user(name), scope=scope_for(user(name)), appeal=appeal, outcome="upheld",
                                   decision="支持", now=T0 + timedelta(days=4))
    appeal.refresh_from_db()
    assert appeal.outcome == "pending" and not Step.objects.filter(grievance=g, action__startswith="appeal_").exists()
    district = user("district")
    services.appeal_decide(user=district, scope=scope_for(district), appeal=appeal, outcome="upheld",
                           decision="原答复依据不足，重新处理。", now=T0 + timedelta(days=4))
    g.refresh_from_db()
    assert (g.state, g.level, g.closed_at) == ("open", "community", None)
    dismissed = _file()
    _act("grid", dismissed, "close", T0 + timedelta(days=1), note="不予支持。")
    second = services.grievance_appeal(user=resident, scope=scope_for(resident), grievance=dismissed, reason="不服",
                                       now=T0 + timedelta(days=2))
    services.appeal_decide(user=district, scope=scope_for(district), appeal=second, outcome="dismissed",
                           decision="维持原答复。", now=T0 + timedelta(days=3))
    with pytest.raises(Conflict):  # one appeal per decision
        services.grievance_appeal(user=resident, scope=scope_for(resident), grievance=dismissed, reason="再次",
                                  now=T0 + timedelta(days=4))
    assert g.level_due_at == T0 + timedelta(days=4) + conf.hours("level_hours")


def test_the_job_reminds_before_a_breach_and_escalates_after_it() -> None:
    g, paused = _file(), _file()
    _act("grid", paused, "pause", T0 + timedelta(hours=1), reason="complainant_request", note="居民要求暂缓")
    grid_user = user("grid")
    before_breach = T0 + conf.hours("level_hours") - timedelta(hours=2)
    services.grievances_tick(now=before_breach)
    assert Notice.objects.filter(user=grid_user, source__startswith=f"grievance:{g.pk}:remind").exists()
    assert not Notice.objects.filter(source__startswith=f"grievance:{paused.pk}:remind").exists()
    g.refresh_from_db()
    assert g.level == "grid"
    services.grievances_tick(now=T0 + conf.hours("level_hours") + timedelta(minutes=1))
    g.refresh_from_db(), paused.refresh_from_db()
    assert (g.level, paused.level) == ("community", "grid")  # a paused clock does not run out
    assert Notice.objects.filter(user=user("director"), source=f"grievance:{g.pk}:escalate:community").exists()
    assert g.due_at == T0 + conf.hours("resolve_hours")  # the business clock is never reset


def test_the_sensitive_track_is_hidden_from_the_grid_it_concerns() -> None:
    grid_person = Person.objects.get(pk=user("grid").role.person_id)
    g = _file("grid_member", grid_person.code)
    assert g.sensitive and g.level == "community" and "~/" in g.visible_path
    grid, director, district = user("grid"), user("director"), user("district")
    assert not selectors.grievance_list(scope=scope_for(grid)).filter(pk=g.pk).exists()
    with pytest.raises(NotFound):
        services.grievance_act(user=grid, scope=scope_for(grid), grievance=g, action="respond", note="x")
    for name, status in (("grid", 404), ("director", 200), ("district", 200), ("resident", 200)):
        client = Client()
        client.force_login(user(name))
        assert client.get(f"/grievances/{g.pk}/").status_code == status, name
        assert client.get(f"/api/grievances/grievances/{g.pk}").status_code == status, name
        listed = [row["id"] for row in client.get("/api/grievances/grievances").json()]
        assert (g.pk in listed) == (status == 200), name
    assert selectors.grievance_list(scope=scope_for(director)).filter(pk=g.pk).exists()
    assert selectors.grievance_list(scope=scope_for(district)).filter(pk=g.pk).exists()
    assert not Notice.objects.filter(user=grid, source__startswith=f"grievance:{g.pk}").exists()
    _act("director", g, "close", T0 + timedelta(days=2), note="已调查处理。")  # the director handles it


def _load_demo() -> list[str]:
    from civicgrid.grievances.demo import demo_load

    return demo_load(households=700, seed=5)


def test_the_demo_year_is_deterministic_and_has_pauses_appeals_and_upheld_ones() -> None:
    def fingerprint() -> list[tuple]:
        return list(Grievance.objects.order_by("code").values_list("code", "kind", "filed_at", "closed_on_time", "state"))

    with transaction.atomic():
        _load_demo()
        first = fingerprint()
        transaction.set_rollback(True)
    _load_demo()
    assert fingerprint() == first and len(first) > 20
    assert Pause.objects.exists() and Appeal.objects.filter(outcome="upheld").exists()
    assert Grievance.objects.filter(state="appealed").exists() or Appeal.objects.filter(outcome="dismissed").exists()


def test_the_published_rates_and_the_crei_indicator_match_plain_counts() -> None:
    from civicgrid.grievances.crei import grievance_on_time

    _load_demo()
    community = Place.objects.filter(level="community").order_by("code").first()
    rows = Grievance.objects.filter(place_path__startswith=community.path)
    months = selectors.monthly_rates(community=community)
    assert sum(m.filed for m in months) == rows.count()
    assert sum(m.responded for m in months) == rows.filter(responded_at__isnull=False).count()
    assert sum(m.on_time for m in months) == rows.filter(closed_on_time=True).count()
    assert sum(m.rated for m in months) == rows.filter(rating__isnull=False).count()
    assert sum(m.satisfied for m in months) == rows.filter(rating__gte=4).count()
    appeals = Appeal.objects.filter(grievance__place_path__startswith=community.path, decided_at__isnull=False)
    assert sum(m.appeals_decided for m in months) == appeals.count()
    assert sum(m.appeals_upheld for m in months) == appeals.filter(outcome="upheld").count()
    # the page a resident of the community reads shows the same counts
    client = Client()
    client.force_login(user("resident"))
    page = client.get("/grievances/rates/").content.decode()
    newest = months[0]
    assert f'data-month="{newest.month:%Y-%m}"' in page and f'class="filed">{newest.filed}</td>' in page
    # CREI: decided on time / decided, last 12 months, by the grids of each unit
    grids = list(Place.objects.filter(level="grid", parent=community).values_list("pk", flat=True))
    year = Grievance.objects.filter(grid_id__in=grids, closed_at__gte=timezone.now() - timedelta(days=365))
    decided = year.filter(closed_on_time__isnull=False)
    value = grievance_on_time({"C": grids})
    assert value is not None
    assert value["C"] == pytest.approx(decided.filter(closed_on_time=True).count() / decided.count())


def test_pages_for_each_role() -> None:
    g = _file()
    for name, status in (("resident", 200), ("grid", 200), ("director", 200), ("orgstaff", 403), ("volunteer", 403)):
        client = Client()
        client.force_login(user(name))
        assert client.get("/grievances/").status_code == status, name
        if status == 200:
            assert client.get(f"/grievances/{g.pk}/").status_code == 200
            assert client.get("/grievances/rates/").status_code == 200
    client = Client()
    client.force_login(user("grid"))
    response = client.post(f"/grievances/{g.pk}/act/", {"action": "pause", "reason": "", "note": "x"})
    assert response.status_code == 400 and not Pause.objects.filter(grievance=g).exists()


def test_the_demo_follows_each_community_profile() -> None:
    from civicgrid.engine.social_growth import growth_profiles

    _load_demo()
    codes = sorted(Place.objects.filter(level="community").values_list("code", flat=True))
    shares = []
    for code in codes[:2]:
        decided = Grievance.objects.filter(place_path__startswith=Place.objects.get(code=code).path,
                                           closed_on_time__isnull=False)
        shares.append(decided.filter(closed_on_time=True).count() / decided.count())
    profiles = growth_profiles(codes)
    assert profiles[codes[0]].grievance_on_time > profiles[codes[1]].grievance_on_time
    assert shares[0] > shares[1]  # the hub community answers on time more often than the fused one


def test_the_api_files_and_refuses_bad_input() -> None:
    client = Client()
    client.force_login(user("resident"))
    created = client.post("/api/grievances/grievances", {"kind": "decision", "subject_ref": "x", "description": "意见"},
                          content_type="application/json")
    assert created.status_code == 201 and created.json()["level"] == "grid"
    gid = created.json()["id"]
    assert client.post("/api/grievances/grievances", {"kind": "case", "subject_ref": "nope", "description": "x"},
                       content_type="application/json").status_code == 400
    grid = Client()
    grid.force_login(user("grid"))
    assert grid.post(f"/api/grievances/grievances/{gid}/act", {"action": "pause", "note": "x"},
                     content_type="application/json").status_code == 400
    paused = grid.post(f"/api/grievances/grievances/{gid}/act",
                       {"action": "pause", "reason": "awaiting_third_party", "note": "等鉴定"},
                       content_type="application/json")
    assert paused.status_code == 200 and paused.json()["paused"] and paused.json()["due_at"] is None


def test_staff_file_on_behalf_of_a_household_in_their_area_only() -> None:
    from civicgrid.registry.models import Household

    client = Client()
    client.force_login(user("grid"))
    home = user("resident").role.household
    response = client.post("/grievances/new/", {"kind": "other", "subject_ref": "电梯", "description": "电梯常坏",
                                                "household_code": home.code})
    assert response.status_code == 302
    g = Grievance.objects.get(subject_ref="电梯")
    assert (g.household, g.filed_by) == (home, user("grid"))
    outside = Household.objects.exclude(grid_id=home.grid_id).order_by("code").first()
    response = client.post("/grievances/new/", {"kind": "other", "subject_ref": "路灯", "description": "路灯坏了",
                                                "household_code": outside.code})
    assert response.status_code == 200 and not Grievance.objects.filter(subject_ref="路灯").exists()
    assert "No such household in your area." in response.content.decode() or "您的范围内没有这一户" in response.content.decode()


def test_a_pause_for_mediation_names_a_mediation_of_the_community() -> None:
    from civicgrid.mediation.services import case_open

    g = _file()
    with pytest.raises(Invalid):
        _act("grid", g, "pause", T0 + timedelta(hours=1), reason="in_mediation", note="转调解", mediation="M0000-000000")
    director = user("director")
    case = case_open(user=director, scope=scope_for(director), category="neighbour",
                     place=Place.objects.get(pk=g.grid_id), summary="邻里纠纷")
    _act("grid", g, "pause", T0 + timedelta(hours=1), reason="in_mediation", note="转调解", mediation=case.code)
    assert Pause.objects.get(grievance=g).mediation_code == case.code
