"""The council JSON API (mounted at /api/council/): meetings, check-in, votes, decisions, covenants, with the
same selectors and services, hence the same scoping, as the pages.

Refusals: 400 bad input, 403 a role that may not act (or a household not invited), 404 outside the user's
area, 409 when the state refuses (the poll closed, already checked in or voted or signed, no quorum, a
version adopted meanwhile).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema

from civicgrid.accounts.roles import scope_for
from civicgrid.cases.models import CaseCategory
from civicgrid.core.apischema import (
    code_field,
    id_field,
    id_path,
    offset_query,
    page,
    requires,
    responses,
)
from civicgrid.core.errors import Invalid, NotFound
from civicgrid.core.scoping import get_in_scope
from civicgrid.council import selectors, services
from civicgrid.council.models import Decision, Meeting
from civicgrid.registry.models import Place

router = Router(tags=["council"])


class MeetingOut(Schema):
    id: int
    title: str
    community: str
    body: str
    body_kind: str
    sector: str
    starts_at: datetime
    state: str
    quorum: int
    invited: int
    present: int
    quorum_met: bool


class PollOut(Schema):
    id: int
    question: str
    state: str
    yes: int
    no: int
    abstain: int
    passed: bool


class DecisionOut(Schema):
    id: int
    meeting_id: int
    title: str
    text: str
    body: str
    body_kind: str
    sector: str
    residents_body: bool
    taken_at: datetime
    published_at: datetime | None
    case_id: int | None


class MeetingDetailOut(MeetingOut):
    agenda: list[str]
    polls: list[PollOut]
    decisions: list[DecisionOut]


class CheckInIn(Schema):
    code: str = code_field(max_length=200)


class AttendanceOut(Schema):
    meeting_id: int
    household_id: int
    attended_at: datetime


class VoteIn(Schema):
    choice: Literal["yes", "no", "abstain"]
    household_id: int | None = id_field(None, description="staff entering a present household's vote; "
                                                          "residents: their own household")


class CaseIn(Schema):
    category_id: int = id_field()
    place_id: int = id_field(description="a grid or building of the meeting's community")


class CovenantOut(Schema):
    id: int
    title: str
    community: str
    version_in_force: int | None
    version_id: int | None
    clauses: list[str]
    signatures: int


class SignIn(Schema):
    household_id: int | None = id_field(None, description="staff entering a paper form; residents: their own")


class SignatureOut(Schema):
    version_id: int
    household_id: int
    channel: str
    at: datetime


class AdoptIn(Schema):
    decision_id: int = id_field()


def _meeting(m: Meeting, attendance: tuple[int, int] | None = None) -> dict[str, Any]:
    invited, present = attendance or (m.invitations.count(), selectors.present(m))
    return {"id": m.pk, "title": m.title, "community": m.community.name, "body": m.body.actor.name,
            "body_kind": m.body.kind, "sector": m.body.actor.sector, "starts_at": m.starts_at, "state": m.state,
            "quorum": m.quorum, "invited": invited, "present": present, "quorum_met": present >= m.quorum}


def _decision(d: Decision) -> dict[str, Any]:
    return {"id": d.pk, "meeting_id": d.meeting_id, "title": d.title, "text": d.text, "body": d.body.actor.name,
            "body_kind": d.body_kind, "sector": d.sector, "residents_body": d.residents_body, "taken_at": d.taken_at,
            "published_at": d.published_at, "case_id": d.case_id}


@router.get("/meetings", response=responses(list[MeetingOut]), auth=requires("council"))
def meetings(request: HttpRequest, offset: int = offset_query()) -> list[dict[str, Any]]:
    shown = list(page(selectors.meeting_list(scope=scope_for(request.user)), offset))
    counts = selectors.attendance_counts([m.pk for m in shown])  # one grouped query, not two per meeting
    return [_meeting(m, counts.get(m.pk, (0, 0))) for m in shown]


@router.get("/meetings/{meeting_id}", response=responses(MeetingDetailOut), auth=requires("council"))
def meeting(request: HttpRequest, meeting_id: int = id_path()) -> dict[str, Any]:
    scope = scope_for(request.user)
    m = selectors.meeting_get(scope=scope, meeting_id=meeting_id)
    polls = [{"id": p.poll.pk, "question": p.poll.question, "state": p.poll.state, **p.counts, "passed": p.passed}
             for p in selectors.polls(scope=scope, meeting=m)]
    return {**_meeting(m), "agenda": [a.title for a in m.agenda.all()], "polls": polls,
            "decisions": [_decision(d) for d in selectors.decisions(scope=scope, meeting=m)]}


@router.post("/checkin", response=responses(AttendanceOut), auth=requires("council"))
def checkin(request: HttpRequest, body: CheckInIn) -> dict[str, Any]:
    inv = services.meeting_check_in(user=request.user, scope=scope_for(request.user), code=body.code)
    return {"meeting_id": inv.meeting_id, "household_id": inv.household_id, "attended_at": inv.attended_at}


@router.post("/polls/{poll_id}/vote", response=responses(PollOut), auth=requires("council"))
def vote(request: HttpRequest, body: VoteIn, poll_id: int = id_path()) -> dict[str, Any]:
    scope = scope_for(request.user)
    poll = selectors.poll_get(scope=scope, poll_id=poll_id)
    services.vote_cast(user=request.user, scope=scope, poll=poll, choice=body.choice, household_id=body.household_id)
    counts = selectors.tally(poll)
    return {"id": poll.pk, "question": poll.question, "state": poll.state, **counts,
            "passed": selectors.passed(counts)}


@router.get("/decisions", response=responses(list[DecisionOut]), auth=requires("council"))
def decisions(request: HttpRequest, offset: int = offset_query()) -> list[dict[str, Any]]:
    scope = scope_for(request.user)
    found = selectors.decisions(scope=scope, published_only=not scope.may("council_manage"))
    return [_decision(d) for d in page(found, offset)]


@router.post("/decisions/{decision_id}/case", response=responses(DecisionOut), auth=requires("council_manage"))
def decision_case(request: HttpRequest, body: CaseIn, decision_id: int = id_path()) -> dict[str, Any]:
    scope = scope_for(request.user)
    decision = selectors.decision_get(scope=scope, decision_id=decision_id)
    category = CaseCategory.objects.filter(pk=body.category_id, active=True).first()
    if category is None:
        raise Invalid({"category_id": str(_("Choose a category."))})
    place = get_in_scope(Place.objects.all(), scope, pk=body.place_id)
    return _decision(services.decision_case_open(user=request.user, scope=scope, decision=decision,
                                                 category=category, place=place))


@router.get("/covenants/{covenant_id}", response=responses(CovenantOut), auth=requires("council"))
def covenant(request: HttpRequest, covenant_id: int = id_path()) -> dict[str, Any]:
    c = selectors.covenant_get(scope=scope_for(request.user), covenant_id=covenant_id)
    current = selectors.in_force(c)
    return {"id": c.pk, "title": c.title, "community": c.community.name,
            "version_in_force": current.number if current else None, "version_id": current.pk if current else None,
            "clauses": [cl.text for cl in current.clauses.all()] if current else [],
            "signatures": selectors.signed_households(current) if current else 0}


@router.post("/versions/{version_id}/sign", response=responses(SignatureOut), auth=requires("council"))
def sign(request: HttpRequest, body: SignIn, version_id: int = id_path()) -> dict[str, Any]:
    scope = scope_for(request.user)
    version = selectors.version_get(scope=scope, version_id=version_id)
    s = services.covenant_sign(user=request.user, scope=scope, version=version, household_id=body.household_id)
    return {"version_id": s.version_id, "household_id": s.household_id, "channel": s.channel, "at": s.at}


@router.post("/versions/{version_id}/adopt", response=responses(CovenantOut), auth=requires("council_manage"))
def adopt(request: HttpRequest, body: AdoptIn, version_id: int = id_path()) -> dict[str, Any]:
    scope = scope_for(request.user)
    version = selectors.version_get(scope=scope, version_id=version_id)
    try:
        decision = selectors.decision_get(scope=scope, decision_id=body.decision_id)
    except NotFound:
        raise Invalid({"decision_id": str(_("Choose a decision taken by vote."))}) from None
    services.version_adopt(user=request.user, scope=scope, version=version, decision=decision)
    return covenant(request, version.covenant_id)
