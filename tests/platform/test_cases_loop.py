"""Grid cases: the state machine (every state x action pair), the closed loop with its audit trail,
who may act, escalation level by level with an injected clock, and the figures for the analytics
(checked against values worked out by hand from the cases' times)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone, translation
from PIL import Image

from civicgrid.accounts.roles import scope_for
from civicgrid.alerts.models import Notice
from civicgrid.cases import selectors, services
from civicgrid.cases import transitions as tx
from civicgrid.cases.models import Case, CaseCategory, CaseEvent
from civicgrid.core.models import AuditLog
from civicgrid.core.places import ancestor_at
from civicgrid.core.scoping import PLATFORM
from civicgrid.registry.models import Actor, Household, Place
from tests.platform.factories import user

pytestmark = pytest.mark.django_db

# The loop as the issue states it, written out independently of transitions.py.
EXPECTED_ALLOWED = {
    ("reported", "register"), ("reported", "dismiss"), ("registered", "dispatch"), ("registered", "dismiss"),
    ("dispatched", "transfer"), ("dispatched", "handle"), ("handled", "verify"), ("handled", "reopen"),
    ("verified", "close"), ("closed", "rate"),
    ("reported", "escalate"), ("registered", "escalate"), ("dispatched", "escalate"),
}


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (1, 1), (255, 200, 0, 128)).save(out, format="PNG")
    return out.getvalue()


PNG = _png()


@pytest.fixture
def world():
    resident = user("resident")
    household = resident.role.household
    orgstaff = user("orgstaff")
    other_actor = Actor.objects.filter(service_area__path__in=["D01/", "D01/D01-S01/", household.place_path[:20]]) \
        .exclude(pk=orgstaff.role.actor_id).exclude(kind="volunteer_team").order_by("code").first()
    return {"resident": resident, "household": household, "director": user("director"), "grid": user("grid"),
            "orgstaff": orgstaff, "handler": orgstaff.role.actor, "other_actor": other_actor,
            "district": user("district"), "category": CaseCategory.objects.get(code="facility_repair")}


def _case(w, *, state: str = "reported", now: datetime | None = None) -> Case:
    case = services.case_report(user=w["resident"], scope=scope_for(w["resident"]), category=w["category"], description="lamp broken", now=now)
    if state != "reported":  # put the case straight into the state under test
        Case.objects.filter(pk=case.pk).update(state=state, handler=w["handler"])
        case.refresh_from_db()
    return case


# who may take each action in the fixture world, and what it needs
ACTORS = {"register": "director", "dismiss": "director", "dispatch": "director", "transfer": "director",
          "close": "director", "escalate": "director", "handle": "orgstaff", "verify": "grid", "reopen": "grid",
          "rate": "resident"}


def test_transition_table_is_the_issue_loop() -> None:
    assert set(tx.TRANSITIONS) == EXPECTED_ALLOWED
    assert tx.TRANSITIONS[("handled", "reopen")] == "dispatched"
    assert {s for (_, a), s in tx.TRANSITIONS.items() if a == "escalate"} == {"reported", "registered", "dispatched"}


@pytest.mark.parametrize("state", tx.STATES)
@pytest.mark.parametrize("action", tx.ACTIONS)
def test_every_state_action_pair_is_allowed_or_refused(world, state: str, action: str) -> None:
    case = _case(world, state=state)
    kwargs = {"note": "because", "rating": 4,
              "handler": world["other_actor"] if action == "transfer" else world["handler"]}
    if (state, action) in EXPECTED_ALLOWED:
        after = services.case_act(user=user(ACTORS[action]), scope=scope_for(user(ACTORS[action])), case=case, action=action, **kwargs)
        assert after.state == tx.TRANSITIONS[(state, action)]
        assert CaseEvent.objects.filter(case=case, action=action, from_state=state).count() == 1
    else:
        # the director sees every case of the community, so the state machine alone refuses (a
        # handler who cannot see an undispatched case is told "not found" before any state check)
        with pytest.raises(tx.InvalidTransition) as refused:
            services.case_act(user=user("director"), scope=scope_for(user("director")), case=case, action=action,
                              **kwargs)
        assert str(tx.ACTION_LABELS[action]) in refused.value.messages[0]
        case.refresh_from_db()
        assert case.state == state
        assert not CaseEvent.objects.filter(case=case, action=action).exists()


def test_closed_loop_with_photo_audit_and_notices(world) -> None:
    client = Client(headers={"accept-language": "en"})
    client.force_login(world["resident"])
    photo = io.BytesIO(PNG)
    photo.name = "lamp.png"
    response = client.post("/cases/new/", {"category": world["category"].pk, "description": "楼道灯坏了",
                                           "photo": photo})
    assert response.status_code == 302
    case = Case.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    assert (case.household, case.place, case.grid) == (world["household"], world["household"].building,
                                                      world["household"].grid)
    assert case.due_at - case.reported_at == timedelta(hours=world["category"].time_limit_hours)
    served = Image.open(io.BytesIO(client.get(f"/cases/{case.pk}/photo/").getvalue()))  # stored re-encoded
    assert (served.format, served.size, served.getpixel((0, 0))) == ("PNG", (1, 1), (255, 200, 0, 128))
    case.photo.delete(save=False)  # the file would outlive the rolled-back row

    services.case_act(user=world["director"], scope=scope_for(world["director"]), case=case, action="register")
    services.case_act(user=world["director"], scope=scope_for(world["director"]), case=case, action="dispatch", handler=world["handler"])
    assert Notice.objects.filter(user=world["orgstaff"], link=f"/cases/{case.pk}/").exists()
    services.case_act(user=world["orgstaff"], scope=scope_for(world["orgstaff"]), case=case, action="handle", note="replaced the bulb")
    assert Notice.objects.filter(user=world["grid"], link=f"/cases/{case.pk}/").exists()
    services.case_act(user=world["grid"], scope=scope_for(world["grid"]), case=case, action="verify")
    services.case_act(user=world["director"], scope=scope_for(world["director"]), case=case, action="close")
    services.case_act(user=world["resident"], scope=scope_for(world["resident"]), case=case, action="rate", rating=5, note="fast")
    case.refresh_from_db()
    assert (case.state, case.rating, case.handler) == ("closed", 5, world["handler"])
    assert list(case.events.values_list("action", flat=True)) == [
        "report", "register", "dispatch", "handle", "verify", "close", "rate"]
    audit = AuditLog.objects.filter(model="cases.Case", object_id=str(case.pk)).order_by("id")
    assert [row.new.get("action") for row in audit[1:]] == ["register", "dispatch", "handle", "verify", "close",
                                                              "rate"]
    assert all(row.place_path == case.place_path for row in audit)


def test_who_may_act(world) -> None:
    case = _case(world)
    with pytest.raises(PermissionDenied):  # grid members report and verify; the community registers
        services.case_act(user=world["grid"], scope=scope_for(world["grid"]), case=case, action="register")
    with pytest.raises(PermissionDenied):
        services.case_act(user=world["resident"], scope=scope_for(world["resident"]), case=case, action="register")
    services.case_act(user=world["director"], scope=scope_for(world["director"]), case=case, action="register")
    services.case_act(user=world["director"], scope=scope_for(world["director"]), case=case, action="dispatch", handler=world["other_actor"])
    with pytest.raises(ObjectDoesNotExist):  # not the handler: the case is outside the organisation's scope
        services.case_act(user=world["orgstaff"], scope=scope_for(world["orgstaff"]), case=case, action="handle")
    with pytest.raises(ValidationError) as no_reason:
        services.case_act(user=world["director"], scope=scope_for(world["director"]), case=case, action="transfer", handler=world["handler"])
    assert "note" in no_reason.value.message_dict
    with pytest.raises(ValidationError):  # one handler at a time: not to the same one
        services.case_act(user=world["director"], scope=scope_for(world["director"]), case=case, action="transfer", handler=world["other_actor"],
                          note="x")
    services.case_act(user=world["director"], scope=scope_for(world["director"]), case=case, action="transfer", handler=world["handler"],
                      note="the social organisation runs elderly visits")
    case.refresh_from_db()
    assert case.handler == world["handler"]
    assert case.events.get(action="transfer").note == "the social organisation runs elderly visits"
    services.case_act(user=world["orgstaff"], scope=scope_for(world["orgstaff"]), case=case, action="handle")
    with pytest.raises(PermissionDenied):  # the handler does not verify its own work
        services.case_act(user=world["orgstaff"], scope=scope_for(world["orgstaff"]), case=case, action="verify")
    services.case_act(user=world["resident"], scope=scope_for(world["resident"]), case=case, action="verify")  # the reporter may
    services.case_act(user=world["director"], scope=scope_for(world["director"]), case=case, action="close")
    with pytest.raises(ValidationError):
        services.case_act(user=world["resident"], scope=scope_for(world["resident"]), case=case, action="rate", rating=6)
    services.case_act(user=world["resident"], scope=scope_for(world["resident"]), case=case, action="rate", rating=2)
    with pytest.raises(ValidationError):
        services.case_act(user=world["resident"], scope=scope_for(world["resident"]), case=case, action="rate", rating=5)
    with pytest.raises(ValidationError):
        services.case_act(user=world["director"], scope=scope_for(world["director"]), case=case, action="fly")


def test_scoping_of_cases(world) -> None:
    case = _case(world)
    other = Household.objects.exclude(grid=world["household"].grid).filter(
        place_path__startswith=world["household"].place_path[:20]).first()
    assert selectors.case_list(scope=scope_for(world["grid"])).filter(pk=case.pk).exists()
    assert selectors.case_list(scope=scope_for(world["director"])).filter(pk=case.pk).exists()
    assert not selectors.case_list(scope=scope_for(world["orgstaff"])).filter(pk=case.pk).exists()
    other_case = services.case_report(user=world["director"], scope=scope_for(world["director"]), category=world["category"], household=other,
                                      description="elsewhere")
    with pytest.raises(ObjectDoesNotExist):
        selectors.case_get(scope=scope_for(world["resident"]), case_id=other_case.pk)
    with pytest.raises(PermissionDenied):  # a resident reports for their own household only
        services.case_report(user=world["resident"], scope=scope_for(world["resident"]), category=world["category"], household=other, description="x")
    client = Client(headers={"accept-language": "en"})
    client.force_login(world["resident"])
    assert client.get(f"/cases/{other_case.pk}/").status_code == 404
    assert client.get(f"/cases/{case.pk}/").status_code == 200


def test_escalation_level_by_level(world) -> None:
    t0 = timezone.now().replace(microsecond=0) + timedelta(days=400)  # after any other case in the DB
    limit = timedelta(hours=world["category"].time_limit_hours)
    case = _case(world, now=t0)
    handled = _case(world, now=t0)
    Case.objects.filter(pk=handled.pk).update(state="handled", handled_at=t0 + limit * 2)
    assert services.cases_escalate_overdue(now=t0 + limit - timedelta(minutes=1)) == []
    steps = [("community", "director"), ("subdistrict", None), ("district", "district")]
    now = t0
    for i, (level, notified) in enumerate(steps, start=1):
        now = t0 + limit * i + timedelta(minutes=i)
        assert [c.pk for c in services.cases_escalate_overdue(now=now)] == [case.pk]
        case.refresh_from_db()
        assert (case.level, case.level_due_at) == (level, now + limit)
        assert services.cases_escalate_overdue(now=now) == []  # once per window
        if notified:
            assert Notice.objects.filter(user=user(notified), source=f"case:{case.pk}:escalate:{level}").exists()
    assert services.cases_escalate_overdue(now=now + limit * 5) == []  # the district is the top
    out = io.StringIO()
    call_command("cases_escalate", stdout=out)  # the scheduler's entry point, on the real clock
    assert "case(s) escalated" in out.getvalue()
    case.refresh_from_db()
    assert case.level == "district" and handled.level == "grid"
    assert list(case.events.filter(action="escalate").values_list("level", flat=True)) == [
        "community", "subdistrict", "district"]
    assert selectors.case_list(scope=scope_for(world["district"]), overdue=True, now=now).filter(pk=case.pk).exists()
    client = Client(headers={"accept-language": "en"})
    client.force_login(world["director"])
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="case-level"' in page


def _escalation_trail(case: Case) -> dict:
    """What escalating ``case`` wrote, without its ids: the case's level and time limit, its event, its audit
    row's old and new values and the notices' readers, titles and sources (the case's id spelled as ``#``)."""
    case.refresh_from_db()
    (event,) = case.events.filter(action="escalate").values("from_state", "to_state", "level", "note", "at")
    (row,) = AuditLog.objects.filter(event="cases.escalate", model="cases.Case", object_id=str(case.pk)).values(
        "user_id", "action", "old", "new", "place_path")
    notices = sorted((n.user_id, n.title_en.replace(case.code, "#"), n.title_zh.replace(case.code, "#"),
                      n.source.replace(str(case.pk), "#"), n.link.replace(str(case.pk), "#"))
                     for n in Notice.objects.filter(source__startswith=f"case:{case.pk}:escalate"))
    return {"level": (case.level, case.level_due_at, case.state), "event": event, "audit": row, "notices": notices}


def test_a_batched_escalation_run_writes_what_escalating_each_case_alone_writes(world, monkeypatch) -> None:
    """The job escalates in batches (several cases a transaction, users at a place read once a run); each case
    must come out exactly as the one-case action (case_act, the scheduler's user-less escalation) makes it."""
    t0 = timezone.now().replace(microsecond=0) + timedelta(days=800)  # after any other case in the DB
    limit = timedelta(hours=world["category"].time_limit_hours)
    batched = [_case(world, now=t0 + timedelta(minutes=i)) for i in range(5)]
    alone = [_case(world, now=t0 + timedelta(minutes=i)) for i in range(5)]
    waiting = _case(world, now=t0 + limit)  # not overdue yet at `now`
    handled = _case(world, state="handled", now=t0)  # no longer waiting for handling
    community = ancestor_at(world["household"].place_path, "community")  # the director's
    elsewhere = Place.objects.filter(level="grid").exclude(path__startswith=community).order_by("path").first()
    for pair in (batched, alone):  # one in another community, one dispatched, two at the community level already
        Case.objects.filter(pk=pair[1].pk).update(place=elsewhere, place_path=elsewhere.path, grid=elsewhere)
        Case.objects.filter(pk=pair[2].pk).update(state="dispatched", handler=world["handler"])
        Case.objects.filter(pk__in=[c.pk for c in pair[3:]]).update(level="community")
    now = t0 + limit + timedelta(hours=1)
    # the one-case action on `alone`, first: the job below then has only `batched` left to escalate
    for case in alone:
        late = timezone.localtime(Case.objects.get(pk=case.pk).level_due_at).strftime("%Y-%m-%d %H:%M")
        with translation.override("en"):
            note = f"Overdue since {late} at the {Case.objects.get(pk=case.pk).get_level_display()} level."
        services.case_act(user=None, scope=PLATFORM, case=case, action="escalate", note=note, now=now)
    monkeypatch.setattr(services, "ESCALATION_BATCH", 2)  # three transactions for five cases
    with translation.override("en"):
        got = services.cases_escalate_overdue(now=now)
    assert [c.pk for c in got] == [c.pk for c in batched]  # by time limit, then id
    for one, other in zip(batched, alone, strict=True):
        assert _escalation_trail(one) == _escalation_trail(other)
    assert {c.level for c in Case.objects.filter(pk__in=[c.pk for c in batched])} == {"community", "subdistrict"}
    for untouched in (waiting, handled):
        assert not untouched.events.filter(action="escalate").exists()
        assert Case.objects.get(pk=untouched.pk).level == "grid"
    assert services.cases_escalate_overdue(now=now) == []  # once per window


def test_figures_match_hand_computation(world) -> None:
    t0 = datetime(2031, 3, 1, 8, 0, tzinfo=timezone.get_current_timezone())
    limit = world["category"].time_limit_hours  # 72 h
    director, org, other = world["director"], world["handler"], world["other_actor"]
    h = timedelta(hours=1)

    def loop(handler, handled_after: float | None, closed_after: float | None, rating: int | None) -> Case:
        case = services.case_report(user=world["resident"], scope=scope_for(world["resident"]), category=world["category"], description="x", now=t0)
        services.case_act(user=director, scope=scope_for(director), case=case, action="register", now=t0 + h)
        if handler is None:
            return case
        services.case_act(user=director, scope=scope_for(director), case=case, action="dispatch", handler=handler, now=t0 + 2 * h)
        if handled_after is None:
            return case
        services.case_act(user=director, scope=scope_for(director), case=case, action="handle", now=t0 + handled_after * h)
        services.case_act(user=world["grid"], scope=scope_for(world["grid"]), case=case, action="verify", now=t0 + handled_after * h)
        services.case_act(user=director, scope=scope_for(director), case=case, action="close", now=t0 + closed_after * h)
        if rating:
            services.case_act(user=world["resident"], scope=scope_for(world["resident"]), case=case, action="rate", rating=rating, now=t0 + 300 * h)
        return case

    loop(org, 10, 20, 5)            # on time, 20 h to close
    loop(org, limit + 8, 100, 3)    # late, 100 h to close
    loop(other, None, None, None)   # dispatched, never handled: late by `now`
    loop(None, None, None, None)    # registered only: no handler
    now = t0 + (limit + 100) * h
    scope = scope_for(director)
    window = {"since": t0, "until": t0 + h, "now": now}
    (grid,) = selectors.case_figures(scope=scope, by="grid", **window)
    assert (grid.key, grid.cases, grid.handled, grid.on_time, grid.late) == (world["household"].grid.code, 4, 2, 1, 3)
    assert grid.on_time_rate == pytest.approx(1 / 4)
    assert (grid.closed, grid.mean_hours_to_close, grid.median_hours_to_close) == (2, 60.0, 60.0)
    assert (grid.rated, grid.satisfaction) == (2, 4.0)
    by_handler = {f.key: f for f in selectors.case_figures(scope=scope, by="handler", **window)}
    assert set(by_handler) == {org.code, other.code}
    assert (by_handler[org.code].cases, by_handler[org.code].on_time_rate) == (2, 0.5)
    assert (by_handler[other.code].cases, by_handler[other.code].on_time_rate) == (1, 0.0)
    by_sector = {f.key: f.cases for f in selectors.case_figures(scope=scope, by="sector", **window)}
    assert by_sector == ({org.sector: 3} if org.sector == other.sector else {org.sector: 2, other.sector: 1})
    with pytest.raises(ValueError):
        selectors.case_figures(scope=scope, by="colour")
    # dismissed cases count nowhere
    dismissed = services.case_report(user=world["resident"], scope=scope_for(world["resident"]), category=world["category"], description="dup", now=t0)
    services.case_act(user=director, scope=scope_for(director), case=dismissed, action="dismiss", note="duplicate", now=t0)
    assert selectors.case_figures(scope=scope, by="grid", **window)[0].cases == 4


def test_pages_and_api_refusals(world) -> None:
    case = _case(world)
    client = Client(headers={"accept-language": "en"})
    client.force_login(world["director"])
    assert client.get("/cases/").status_code == 200
    assert client.get("/cases/figures/?by=sector").status_code == 200
    detail = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'data-action="register"' in detail and 'data-action="close"' not in detail
    response = client.post(f"/api/cases/cases/{case.pk}/act", {"action": "close"}, content_type="application/json")
    assert response.status_code == 409 and "cannot be given the action" in response.json()["detail"]
    response = client.post(f"/api/cases/cases/{case.pk}/act", {"action": "register"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["state"] == "registered"
    grid_client = Client(headers={"accept-language": "en"})
    grid_client.force_login(world["grid"])
    response = grid_client.post(f"/api/cases/cases/{case.pk}/act", {"action": "dispatch",
                                                                      "handler_id": world["handler"].pk},
                                content_type="application/json")
    assert response.status_code == 403
    # a form error for a bad photo shows next to the field
    bad = io.BytesIO(b"not an image at all")
    bad.name = "x.png"
    page = grid_client.post("/cases/new/", {"category": world["category"].pk, "description": "d",
                                             "place": world["household"].building_id, "photo": bad})
    assert page.status_code == 200 and "JPEG, PNG, GIF or WebP" in page.content.decode()
    outside = Place.objects.filter(level="building").exclude(parent=world["household"].grid).first()
    page = grid_client.post("/cases/new/", {"category": world["category"].pk, "description": "d",
                                             "place": outside.pk})
    assert page.status_code == 200 and 'id="field-place"' in page.content.decode()
