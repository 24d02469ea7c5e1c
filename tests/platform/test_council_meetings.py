"""Council meetings: invitations, QR check-in and hand-marked attendance, quorum, polls (one vote per
invitee, none after closing), decisions recorded with the sector of the body that took them, published to
residents, and the case a decision opens. Each refusal leaves nothing written."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from civicgrid.cases.models import Case, CaseCategory
from civicgrid.core.errors import Conflict, Forbidden, Invalid, NotFound
from civicgrid.core.models import AuditLog
from civicgrid.council import selectors, services
from civicgrid.council.checkin import checkin_code
from civicgrid.council.models import Body, Decision, Invitation, Vote
from civicgrid.registry.models import Household
from tests.platform.council_support import as_user, body, c01, meeting
from tests.platform.factories import user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def _code(m) -> str:  # type: ignore[no-untyped-def]
    return checkin_code(meeting_id=m.pk, nonce=m.checkin_nonce)


def _writes() -> tuple[int, int, int, int]:
    return Invitation.objects.filter(attended_at__isnull=False).count(), Vote.objects.count(), \
        Decision.objects.count(), AuditLog.objects.count()


def test_invitation_by_grid_reaches_exactly_the_grids_households() -> None:
    m = meeting()
    grid = user("resident").role.household.grid
    assert set(m.invitations.values_list("household_id", flat=True)) == set(
        Household.objects.filter(grid=grid).values_list("id", flat=True))
    director, scope = as_user("director")
    assert services.meeting_invite(user=director, scope=scope, meeting=m, place=grid) == 0  # already invited
    vulnerable = services.meeting_invite(user=director, scope=scope, meeting=m, group="vulnerable")
    assert vulnerable == Household.objects.vulnerable().filter(place_path__startswith=c01().path).exclude(
        grid=grid).count()


def test_resident_checks_in_with_the_code_once_and_staff_mark_others() -> None:
    m = meeting(quorum=2)
    resident, r_scope = as_user("resident")
    invitation = services.meeting_check_in(user=resident, scope=r_scope, code=_code(m))
    assert invitation.attended_how == "qr" and invitation.household_id == resident.role.household_id
    before = _writes()
    with pytest.raises(Conflict, match="already checked in"):
        services.meeting_check_in(user=resident, scope=r_scope, code=_code(m))
    assert _writes() == before
    with pytest.raises(NotFound):  # a forged or altered code
        services.meeting_check_in(user=resident, scope=r_scope, code=_code(m)[:-2] + "xx")
    director, d_scope = as_user("director")
    other = m.invitations.exclude(household_id=resident.role.household_id).first()
    services.attendance_mark(user=director, scope=d_scope, meeting=m, household_id=other.household_id)
    with pytest.raises(Conflict):
        services.attendance_mark(user=director, scope=d_scope, meeting=m, household_id=other.household_id)
    assert selectors.present(m) == 2


def test_an_uninvited_household_cannot_check_in() -> None:
    m = meeting(invite_resident=False)
    resident, r_scope = as_user("resident")
    with pytest.raises(Conflict, match="not invited"):
        services.meeting_check_in(user=resident, scope=r_scope, code=_code(m))
    assert not m.invitations.exists()


def test_no_decision_without_quorum_and_nothing_written() -> None:
    m = meeting(quorum=3)
    director, scope = as_user("director")
    for inv in m.invitations.all()[:2]:
        services.attendance_mark(user=director, scope=scope, meeting=m, household_id=inv.household_id)
    before = _writes()
    with pytest.raises(Conflict, match="No quorum: 2 of 3"):
        services.decision_record(user=director, scope=scope, meeting=m, title="加装电梯", text="同意")
    assert _writes() == before
    services.attendance_mark(user=director, scope=scope, meeting=m, household_id=m.invitations.filter(
        attended_at__isnull=True).first().household_id)
    decision = services.decision_record(user=director, scope=scope, meeting=m, title="加装电梯", text="同意")
    assert decision.present == 3


def test_one_vote_per_present_invitee_and_none_after_closing() -> None:
    m = meeting()
    resident, r_scope = as_user("resident")
    director, d_scope = as_user("director")
    poll = services.poll_open(user=director, scope=d_scope, meeting=m, question="是否加装电梯？")
    with pytest.raises(Conflict, match="Check in first"):
        services.vote_cast(user=resident, scope=r_scope, poll=poll, choice="yes")
    services.meeting_check_in(user=resident, scope=r_scope, code=_code(m))
    services.vote_cast(user=resident, scope=r_scope, poll=poll, choice="yes")
    before = _writes()
    with pytest.raises(Conflict, match="already voted"):
        services.vote_cast(user=resident, scope=r_scope, poll=poll, choice="no")
    with pytest.raises(Forbidden):  # a resident votes for their own household only
        services.vote_cast(user=resident, scope=r_scope, poll=poll, choice="no",
                           household_id=m.invitations.exclude(household_id=resident.role.household_id).first().household_id)
    assert _writes() == before
    other = m.invitations.exclude(household_id=resident.role.household_id).first()
    services.attendance_mark(user=director, scope=d_scope, meeting=m, household_id=other.household_id)
    services.vote_cast(user=director, scope=d_scope, poll=poll, choice="no", household_id=other.household_id)
    services.poll_close(user=director, scope=d_scope, poll=poll)
    third = m.invitations.filter(attended_at__isnull=True).first()
    services.attendance_mark(user=director, scope=d_scope, meeting=m, household_id=third.household_id)
    before = _writes()
    with pytest.raises(Conflict, match="poll is closed"):
        services.vote_cast(user=director, scope=d_scope, poll=poll, choice="yes", household_id=third.household_id)
    assert _writes() == before
    assert selectors.tally(poll) == {"yes": 1, "no": 1, "abstain": 0}
    with pytest.raises(Conflict, match="did not pass"):  # a tie: more yes than no is the rule
        services.decision_record(user=director, scope=d_scope, meeting=m, title="t", text="t", poll=poll)


def test_decision_records_the_bodys_sector_and_opens_a_linked_case() -> None:
    enterprise = body("A06", Body.Kind.ENTERPRISE_BOARD)
    m = meeting(b=enterprise)
    director, scope = as_user("director")
    resident, r_scope = as_user("resident")
    services.meeting_check_in(user=resident, scope=r_scope, code=_code(m))
    poll = services.poll_open(user=director, scope=scope, meeting=m, question="清理楼道")
    services.vote_cast(user=resident, scope=r_scope, poll=poll, choice="yes")
    services.poll_close(user=director, scope=scope, poll=poll)
    decision = services.decision_record(user=director, scope=scope, meeting=m, title="清理楼道", text="本周清理",
                                        poll=poll)
    assert (decision.sector, decision.residents_body) == (enterprise.actor.sector, False) == ("capital", False)
    assert not selectors.decisions(scope=r_scope).filter(pk=decision.pk).exists()  # not published yet
    services.decision_publish(user=director, scope=scope, decision=decision)
    assert selectors.decisions(scope=r_scope).filter(pk=decision.pk).exists()
    category = CaseCategory.objects.filter(active=True).order_by("code").first()
    grid = resident.role.household.grid
    decision = services.decision_case_open(user=director, scope=scope, decision=decision, category=category,
                                           place=grid)
    case = Case.objects.get(pk=decision.case_id)
    assert case.source == f"council:{decision.pk}" and case.grid_id == grid.pk and "本周清理" in case.description
    with pytest.raises(Conflict):
        services.decision_case_open(user=director, scope=scope, decision=decision, category=category, place=grid)
    assert Case.objects.filter(source=f"council:{decision.pk}").count() == 1


def test_only_managers_run_meetings_and_out_of_area_looks_absent() -> None:
    grid_user, g_scope = as_user("grid")
    with pytest.raises(Forbidden):
        services.meeting_create(user=grid_user, scope=g_scope, community=c01(), body=body(), title="t",
                                starts_at="2026-01-01T10:00:00Z", quorum=1)
    from civicgrid.registry.models import Place

    c02 = Place.objects.get(level="community", code__endswith="C02")
    director, scope = as_user("director")
    with pytest.raises(NotFound):
        services.meeting_create(user=director, scope=scope, community=c02, body=body(), title="t",
                                starts_at="2026-01-01T10:00:00Z", quorum=1)
    with pytest.raises(Invalid):
        services.meeting_create(user=director, scope=scope, community=c01(), body=body(), title="", quorum=1,
                                starts_at="2026-01-01T10:00:00Z")


def test_pages_in_chinese_meeting_checkin_vote_decide_and_create_a_case() -> None:
    m = meeting()
    director = Client()
    director.force_login(user("director"))
    page = director.get(f"/council/meetings/{m.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "<svg" in page and "法定人数" in page
    url = re.search(r'(/council/checkin/[^/"<\s]+/)', page).group(1)
    resident = Client()
    resident.force_login(user("resident"))
    shown = resident.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert shown.status_code == 200 and "签到" in shown.content.decode()
    assert not Invitation.objects.filter(meeting=m, attended_at__isnull=False).exists()  # no write on GET
    assert resident.post(url).status_code == 302
    assert Invitation.objects.filter(meeting=m, attended_at__isnull=False).count() == 1
    director.post(f"/council/meetings/{m.pk}/polls/", {"question": "加装电梯"})
    poll = m.polls.get()
    resident.post(f"/council/polls/{poll.pk}/vote/", {"choice": "yes"})
    second = resident.post(f"/council/polls/{poll.pk}/vote/", {"choice": "no"}, follow=True)
    assert "已经投过票" in second.content.decode() or "already" in second.content.decode()
    director.post(f"/council/polls/{poll.pk}/close/")
    director.post(f"/council/meetings/{m.pk}/decide/", {"poll": poll.pk, "title": "加装电梯", "text": "同意加装"})
    decision = Decision.objects.get(meeting=m)
    category = CaseCategory.objects.filter(active=True).order_by("code").first()
    director.post(f"/council/decisions/{decision.pk}/publish/")
    director.post(f"/council/decisions/{decision.pk}/case/", {"category": category.pk,
                                                             "place": user("resident").role.household.grid_id})
    decision.refresh_from_db()
    assert decision.case_id and decision.published_at
    published = resident.get("/council/decisions/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "同意加装" in published


def test_api_vote_and_refusals() -> None:
    import json

    m = meeting()
    director, scope = as_user("director")
    poll = services.poll_open(user=director, scope=scope, meeting=m, question="q")
    client = Client()
    client.force_login(user("resident"))
    post = lambda path, body: client.post(path, json.dumps(body), content_type="application/json")  # noqa: E731
    assert post(f"/api/council/polls/{poll.pk}/vote", {"choice": "yes"}).status_code == 409  # not checked in
    assert post("/api/council/checkin", {"code": _code(m)}).status_code == 200
    assert post("/api/council/checkin", {"code": _code(m)}).status_code == 409
    assert post(f"/api/council/polls/{poll.pk}/vote", {"choice": "yes"}).json()["yes"] == 1
    assert post(f"/api/council/polls/{poll.pk}/vote", {"choice": "yes"}).status_code == 409
    assert post(f"/api/council/polls/{poll.pk}/vote", {"choice": "maybe"}).status_code == 400
    detail = client.get(f"/api/council/meetings/{m.pk}").json()
    assert detail["present"] == 1 and detail["polls"][0]["yes"] == 1


def test_residents_see_only_published_decisions_through_the_api() -> None:
    m = meeting()
    director, scope = as_user("director")
    services.attendance_mark(user=director, scope=scope, meeting=m, household_id=user("resident").role.household_id)
    kept = services.decision_record(user=director, scope=scope, meeting=m, title="内部", text="未公布")
    shown = services.decision_record(user=director, scope=scope, meeting=m, title="公布", text="已公布")
    services.decision_publish(user=director, scope=scope, decision=shown)
    client = Client()
    client.force_login(user("resident"))
    ids = {d["id"] for d in client.get("/api/council/decisions").json()}
    assert shown.pk in ids and kept.pk not in ids
    staff = Client()
    staff.force_login(user("director"))
    rows = {d["id"]: d for d in staff.get("/api/council/decisions").json()}
    assert {shown.pk, kept.pk} <= set(rows) and rows[kept.pk]["sector"] == body().actor.sector
