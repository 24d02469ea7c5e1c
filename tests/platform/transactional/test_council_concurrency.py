"""Council and covenants under real concurrency: threads with their own connections and commits. Two votes
of one household, two check-ins of one household, two staff adopting covenant versions at once, two
signatures of one household: one result, the other refused with nothing written.

The module builds a community of its own (the transactional tests empty the database afterwards)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from civicgrid.accounts.models import Role
from civicgrid.accounts.roles import scope_for
from civicgrid.core.errors import Conflict
from civicgrid.core.models import AuditLog
from civicgrid.core.scoping import PLATFORM
from civicgrid.council import services
from civicgrid.council.checkin import checkin_code
from civicgrid.council.models import (
    Body,
    CovenantVersion,
    Decision,
    Invitation,
    Meeting,
    Signature,
    Vote,
)
from civicgrid.registry import services as registry
from civicgrid.registry.models import Actor, Household, Place
from tests.platform.transactional.racing import race

pytestmark = pytest.mark.django_db(transaction=True)


def _place(code: str, level: str, parent: Place | None) -> Place:
    return Place.objects.create(code=code, name=code, level=level, parent=parent,
                                path=(parent.path if parent else "") + code + "/")


class World:
    def __init__(self, households: int = 3) -> None:
        tag = uuid.uuid4().hex[:6].upper()
        district = _place(f"ZD{tag}", "district", None)
        self.community = _place(f"{district.code}-C", "community", _place(f"{district.code}-S", "subdistrict", district))
        self.grid = _place(f"{self.community.code}-G", "grid", self.community)
        building = _place(f"{self.grid.code}-B", "building", self.grid)
        self.households = [registry.household_create(user=None, scope=PLATFORM, code=f"{tag}-H{i}", address=f"{i}",
                                                     building=building, housing_type="commodity")
                           for i in range(households)]
        users = get_user_model().objects
        self.director = users.create(username=f"{tag}-director")
        Role.objects.create(user=self.director, role="community_director", place=self.community)
        self.staff = users.create(username=f"{tag}-director2")
        Role.objects.create(user=self.staff, role="community_director", place=self.community)
        self.resident = users.create(username=f"{tag}-resident")
        Role.objects.create(user=self.resident, role="resident", household=self.households[0])
        actor = Actor.objects.create(code=f"{tag}-RC", name="居委会", sector="society", kind="residents_committee",
                                     service_area=self.community)
        self.body = services.body_register(user=None, scope=PLATFORM, actor=actor, kind=Body.Kind.RESIDENTS_COMMITTEE)

    def scope(self, user: Any) -> Any:
        return scope_for(get_user_model().objects.get(pk=user.pk))

    def meeting(self) -> Meeting:
        m = services.meeting_create(user=self.director, scope=self.scope(self.director), community=self.community,
                                    body=self.body, title="议事", starts_at=timezone.now() + timedelta(hours=1), quorum=1)
        services.meeting_invite(user=self.director, scope=self.scope(self.director), meeting=m, place=self.grid)
        return m

    def voted_decision(self) -> Decision:
        m = self.meeting()
        scope = self.scope(self.director)
        h = self.households[1].pk
        services.attendance_mark(user=self.director, scope=scope, meeting=m, household_id=h)
        poll = services.poll_open(user=self.director, scope=scope, meeting=m, question="通过公约")
        services.vote_cast(user=self.director, scope=scope, poll=poll, choice="yes", household_id=h)
        services.poll_close(user=self.director, scope=scope, poll=poll)
        return services.decision_record(user=self.director, scope=scope, meeting=m, title="通过", text="通过",
                                        poll=poll)


def _one_won(results: list[Any]) -> None:
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == len(results) - 1, results
    assert all(isinstance(e, Conflict) for e in errors), errors


def test_one_household_voting_twice_at_once_counts_once() -> None:
    w = World()
    m = w.meeting()
    services.meeting_check_in(user=w.resident, scope=w.scope(w.resident),
                              code=checkin_code(meeting_id=m.pk, nonce=m.checkin_nonce))
    poll = services.poll_open(user=w.director, scope=w.scope(w.director), meeting=m, question="q")
    h = w.households[0].pk
    audit_before = AuditLog.objects.count()
    results = race([
        lambda: services.vote_cast(user=w.resident, scope=w.scope(w.resident), poll=poll, choice="yes"),
        lambda: services.vote_cast(user=w.staff, scope=w.scope(w.staff), poll=poll, choice="no", household_id=h),
        lambda: services.vote_cast(user=w.director, scope=w.scope(w.director), poll=poll, choice="no", household_id=h),
    ])
    _one_won(results)
    assert Vote.objects.filter(poll=poll).count() == 1
    assert AuditLog.objects.count() == audit_before + 1


def test_a_double_check_in_at_once_records_one_attendance() -> None:
    w = World()
    m = w.meeting()
    code = checkin_code(meeting_id=m.pk, nonce=m.checkin_nonce)
    h = w.households[0].pk
    results = race([
        lambda: services.meeting_check_in(user=w.resident, scope=w.scope(w.resident), code=code),
        lambda: services.meeting_check_in(user=w.resident, scope=w.scope(w.resident), code=code),
        lambda: services.attendance_mark(user=w.staff, scope=w.scope(w.staff), meeting=m, household_id=h),
    ])
    _one_won(results)
    assert Invitation.objects.filter(meeting=m, attended_at__isnull=False).count() == 1


def test_two_staff_publishing_versions_at_once_leave_one_in_force() -> None:
    w = World()
    scope = w.scope(w.director)
    covenant = services.covenant_create(user=w.director, scope=scope, community=w.community, title="公约",
                                        clauses=["一", "二"])
    first = covenant.versions.get()
    decisions = [w.voted_decision(), w.voted_decision()]
    # the same draft, by two staff with two decisions
    results = race([lambda d=d, u=u: services.version_adopt(user=u, scope=w.scope(u), version=first, decision=d)
                     for d, u in zip(decisions, (w.director, w.staff), strict=True)])
    _one_won(results)
    assert CovenantVersion.objects.filter(covenant=covenant, state="in_force").count() == 1
    assert CovenantVersion.objects.filter(adopted_by__isnull=False).count() == 1
    # two drafts of the same covenant, both based on the version in force
    a = services.version_draft(user=w.director, scope=scope, covenant=covenant)
    b = CovenantVersion.objects.create(covenant=covenant, number=a.number + 1, based_on=first)
    b.clauses.create(number=1, text="另一稿")
    decisions = [w.voted_decision(), w.voted_decision()]
    results = race([lambda v=v, d=d, u=u: services.version_adopt(user=u, scope=w.scope(u), version=v, decision=d)
                     for v, d, u in zip((a, b), decisions, (w.director, w.staff), strict=True)])
    _one_won(results)
    assert CovenantVersion.objects.filter(covenant=covenant, state="in_force").count() == 1
    assert CovenantVersion.objects.filter(covenant=covenant, state="superseded").get() == first


def test_a_household_signing_twice_at_once_signs_once() -> None:
    w = World()
    scope = w.scope(w.director)
    covenant = services.covenant_create(user=w.director, scope=scope, community=w.community, title="公约",
                                        clauses=["一"])
    version = covenant.versions.get()
    services.version_adopt(user=w.director, scope=scope, version=version, decision=w.voted_decision())
    h = w.households[0].pk
    results = race([
        lambda: services.covenant_sign(user=w.resident, scope=w.scope(w.resident), version=version),
        lambda: services.covenant_sign(user=w.resident, scope=w.scope(w.resident), version=version),
        lambda: services.covenant_sign(user=w.staff, scope=w.scope(w.staff), version=version, household_id=h),
    ])
    _one_won(results)
    assert Signature.objects.filter(version=version, household_id=h).count() == 1
    assert not Household.objects.filter(pk=h, covenant_signatures__isnull=True).exists()
