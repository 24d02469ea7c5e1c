"""Covenants: a draft open for comment per clause, adoption by a decision taken by vote, versions frozen once
in force, a new version as a new draft, one signature per household and version, the version in force
shown to residents."""

from __future__ import annotations

import pytest
from django.test import Client

from civicgrid.core.errors import Conflict, Forbidden, Invalid
from civicgrid.core.models import AuditLog
from civicgrid.council import selectors, services
from civicgrid.council.checkin import checkin_code
from civicgrid.council.models import (
    Clause,
    ClauseComment,
    Covenant,
    CovenantVersion,
    Decision,
    Signature,
)
from tests.platform.council_support import as_user, c01, meeting
from tests.platform.factories import user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
CLAUSES = ["爱护公共设施。", "垃圾分类投放。", "文明养犬。"]


def _voted_decision(title: str = "通过居民公约") -> Decision:
    """A decision of C01 taken by a poll the resident's household passed."""
    m = meeting()
    director, scope = as_user("director")
    resident, r_scope = as_user("resident")
    services.meeting_check_in(user=resident, scope=r_scope, code=checkin_code(meeting_id=m.pk, nonce=m.checkin_nonce))
    poll = services.poll_open(user=director, scope=scope, meeting=m, question=title)
    services.vote_cast(user=resident, scope=r_scope, poll=poll, choice="yes")
    services.poll_close(user=director, scope=scope, poll=poll)
    return services.decision_record(user=director, scope=scope, meeting=m, title=title, text=title, poll=poll)


def _covenant() -> Covenant:
    director, scope = as_user("director")
    return services.covenant_create(user=director, scope=scope, community=c01(), title="居民公约", clauses=CLAUSES)


def _state() -> tuple[int, int, int, int]:
    return (CovenantVersion.objects.filter(state="in_force").count(), Clause.objects.count(),
            Signature.objects.count(), AuditLog.objects.count())


def test_draft_comment_adopt_freeze_redraft_and_supersede() -> None:
    covenant = _covenant()
    director, scope = as_user("director")
    resident, r_scope = as_user("resident")
    draft = covenant.versions.get()
    clause = draft.clauses.get(number=2)
    services.clause_comment(user=resident, scope=r_scope, clause=clause, text="建议写明投放时间。")
    services.clause_save(user=director, scope=scope, version=draft, number=2, text="垃圾分类，定时定点投放。")
    assert ClauseComment.objects.filter(clause=clause).count() == 1
    other = meeting()
    services.attendance_mark(user=director, scope=scope, meeting=other, household_id=resident.role.household_id)
    consensus = services.decision_record(user=director, scope=scope, meeting=other, title="t", text="t")
    with pytest.raises(Invalid, match="taken by vote"):
        services.version_adopt(user=director, scope=scope, version=draft, decision=consensus)
    decision = _voted_decision()
    services.version_adopt(user=director, scope=scope, version=draft, decision=decision)
    draft.refresh_from_db()
    assert draft.state == "in_force" and draft.adopted_by == decision
    before = _state()
    with pytest.raises(Conflict, match="no longer change"):
        services.clause_save(user=director, scope=scope, version=draft, number=1, text="改")
    with pytest.raises(Conflict):
        services.clause_comment(user=resident, scope=r_scope, clause=clause, text="晚了")
    with pytest.raises(Conflict):  # the decision has adopted a version already; the version is no draft
        services.version_adopt(user=director, scope=scope, version=draft, decision=decision)
    assert _state() == before
    second = services.version_draft(user=director, scope=scope, covenant=covenant)
    assert second.number == 2 and second.based_on == draft
    assert [c.text for c in second.clauses.all()] == [c.text for c in draft.clauses.all()]
    with pytest.raises(Conflict):  # one draft at a time
        services.version_draft(user=director, scope=scope, covenant=covenant)
    services.clause_save(user=director, scope=scope, version=second, text="邻里互助。")
    services.version_adopt(user=director, scope=scope, version=second, decision=_voted_decision("修订公约"))
    draft.refresh_from_db()
    assert draft.state == "superseded" and selectors.in_force(covenant) == second
    assert second.clauses.count() == 4 and draft.clauses.count() == 3  # the old text is kept as it was


def test_a_draft_overtaken_by_another_adoption_is_refused() -> None:
    covenant = _covenant()
    director, scope = as_user("director")
    first = covenant.versions.get()
    services.version_adopt(user=director, scope=scope, version=first, decision=_voted_decision())
    stale = services.version_draft(user=director, scope=scope, covenant=covenant)
    # a second draft based on the same version, as if started before `stale` was adopted
    rival = CovenantVersion.objects.create(covenant=covenant, number=3, based_on=first)
    Clause.objects.create(version=rival, number=1, text="另一稿")
    services.version_adopt(user=director, scope=scope, version=stale, decision=_voted_decision("a"))
    before = _state()
    with pytest.raises(Conflict, match="Another version was adopted"):
        services.version_adopt(user=director, scope=scope, version=rival, decision=_voted_decision("b"))
    assert _state()[:3] == before[:3] and selectors.in_force(covenant) == stale


def test_one_signature_per_household_and_version() -> None:
    covenant = _covenant()
    director, scope = as_user("director")
    resident, r_scope = as_user("resident")
    version = covenant.versions.get()
    with pytest.raises(Conflict, match="version in force"):
        services.covenant_sign(user=resident, scope=r_scope, version=version)
    services.version_adopt(user=director, scope=scope, version=version, decision=_voted_decision())
    services.covenant_sign(user=resident, scope=r_scope, version=version)
    before = _state()
    with pytest.raises(Conflict, match="already signed"):
        services.covenant_sign(user=resident, scope=r_scope, version=version)
    with pytest.raises(Conflict, match="already signed"):  # nor on paper by staff
        services.covenant_sign(user=director, scope=scope, version=version, household_id=resident.role.household_id)
    with pytest.raises(Forbidden):
        services.covenant_sign(user=resident, scope=r_scope, version=version,
                               household_id=resident.role.household_id + 1)
    assert _state() == before
    other = resident.role.household.grid.grid_households.exclude(pk=resident.role.household_id).first()
    services.covenant_sign(user=director, scope=scope, version=version, household_id=other.pk)
    assert Signature.objects.filter(version=version).count() == 2


def test_residents_read_the_version_in_force_and_sign_in_chinese() -> None:
    covenant = _covenant()
    director, scope = as_user("director")
    version = covenant.versions.get()
    client = Client()
    client.force_login(user("resident"))
    page = client.get(f"/council/versions/{version.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "征求意见" in page and CLAUSES[0] in page
    clause = version.clauses.get(number=1)
    client.post(f"/council/clauses/{clause.pk}/comment/", {"text": "同意这一条"})
    assert clause.comments.get().text == "同意这一条"
    services.version_adopt(user=director, scope=scope, version=version, decision=_voted_decision())
    page = client.get(f"/council/covenants/{covenant.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "第 1 版" in page and "代表我家签署" in page
    client.post(f"/council/versions/{version.pk}/sign/")
    again = client.post(f"/council/versions/{version.pk}/sign/", follow=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "已签署过" in again.content.decode()
    assert Signature.objects.filter(version=version).count() == 1
    api = client.get(f"/api/council/covenants/{covenant.pk}").json()
    assert api["version_in_force"] == 1 and api["clauses"] == CLAUSES and api["signatures"] == 1
