"""The procurement JSON API (mounted at /api/procurement/): calls, applications, scores, milestone decisions,
payments and the OCDS release package, through the same selectors and services (hence scoping) as the pages.
Amounts are integer fen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from civicgrid.accounts.roles import scope_for
from civicgrid.core.apischema import (
    PAGE,
    code_query,
    id_field,
    id_path,
    offset_query,
    page,
    requires,
    responses,
    text_field,
    with_status,
)
from civicgrid.procurement import selectors, services
from civicgrid.procurement.conf import conf
from civicgrid.procurement.models import RUBRIC, Application, Call, Milestone, Payment
from civicgrid.procurement.ocds import release_package

router = Router(tags=["procurement"])


class CallOut(Schema):
    id: int
    title: str
    service_kind: str
    place: str
    budget_fen: int
    deadline: datetime
    status: str


class ApplyIn(Schema):
    organisation_id: int = id_field(description="the organisation's actor id (its staff: their own)")
    amount_fen: int = Field(..., ge=1, le=conf("max_amount_fen"), description="amount asked, in fen (1/100 yuan)")
    proposal: str = text_field(..., kind="text_chars", min_length=1)


class ApplicationOut(Schema):
    id: int
    call_id: int
    organisation_id: int
    amount_fen: int
    status: str


class ScoreIn(Schema):
    marks: dict[str, int] = Field(..., description="every rubric criterion: " + ", ".join(
        f"{k} 0-{m}" for k, (_label, m) in RUBRIC.items()))
    comment: str = text_field()


class ScoreOut(Schema):
    id: int
    application_id: int
    total: int


class DecideIn(Schema):
    accept: bool
    reason: str = text_field()


class MilestoneOut(Schema):
    id: int
    contract_id: int
    number: int
    title: str
    amount_fen: int
    status: str
    target: int
    counted: int | None
    reason: str
    overridden: bool


class PayIn(Schema):
    reference: str = Field("", max_length=64)


class PaymentOut(Schema):
    id: int
    milestone_id: int
    amount_fen: int
    paid_at: datetime


def _call(c: Call) -> dict[str, Any]:
    return {"id": c.pk, "title": c.title, "service_kind": c.service_kind, "place": c.place.code,
            "budget_fen": c.budget_fen, "deadline": c.deadline, "status": c.status}


def _application(a: Application) -> dict[str, Any]:
    return {"id": a.pk, "call_id": a.call_id, "organisation_id": a.organisation.actor_id, "amount_fen": a.amount_fen,
            "status": a.status}


def _milestone(m: Milestone) -> dict[str, Any]:
    return {"id": m.pk, "contract_id": m.contract_id, "number": m.number, "title": m.title, "amount_fen": m.amount_fen,
            "status": m.status, "target": m.target, "counted": m.counted, "reason": m.reason, "overridden": m.overridden}


def _payment(p: Payment) -> dict[str, Any]:
    return {"id": p.pk, "milestone_id": p.milestone_id, "amount_fen": p.amount_fen, "paid_at": p.paid_at}


@router.get("/calls", response=responses(list[CallOut]))
def calls(request: HttpRequest, status: str = code_query(), offset: int = offset_query()) -> list[dict[str, Any]]:
    found = selectors.calls(scope=scope_for(request.user), status=status).order_by("-published_at", "-id")
    return [_call(c) for c in page(found, offset)]


@router.get("/calls/{call_id}", response=responses(CallOut))
def call(request: HttpRequest, call_id: int = id_path()) -> dict[str, Any]:
    return _call(selectors.call_get(scope=scope_for(request.user), call_id=call_id))


@router.get("/calls/{call_id}/ocds", response=responses(dict[str, Any]))
def call_ocds(request: HttpRequest, call_id: int = id_path()) -> dict[str, Any]:
    found = selectors.call_get(scope=scope_for(request.user), call_id=call_id)
    return release_package(call=found, uri=request.build_absolute_uri(), publisher="civicgrid")


@router.get("/calls/{call_id}/applications", response=responses(list[ApplicationOut]))
def applications(request: HttpRequest, call_id: int = id_path()) -> list[dict[str, Any]]:
    scope = scope_for(request.user)
    found = selectors.call_get(scope=scope, call_id=call_id)
    return [_application(a) for a in selectors.applications(scope=scope, user=request.user, call=found)[:PAGE]]


@router.post("/calls/{call_id}/applications", response=responses(ApplicationOut, s201=ApplicationOut),
             auth=requires("procurement"))
def apply(request: HttpRequest, body: ApplyIn, call_id: int = id_path()) -> Any:
    found = services.application_submit(user=request.user, scope=scope_for(request.user), call_id=call_id,
                                        organisation_id=body.organisation_id, amount_fen=body.amount_fen,
                                        proposal=body.proposal)
    return with_status(201, _application(found))


@router.post("/applications/{application_id}/score", response=responses(ScoreOut, s201=ScoreOut),
             auth=requires("procurement"))
def score(request: HttpRequest, body: ScoreIn, application_id: int = id_path()) -> Any:
    found = services.application_score(user=request.user, scope=scope_for(request.user), application_id=application_id,
                                       marks=body.marks, comment=body.comment)
    return with_status(201, {"id": found.pk, "application_id": found.application_id, "total": found.total})


@router.post("/milestones/{milestone_id}/decide", response=responses(MilestoneOut), auth=requires("procurement"))
def decide(request: HttpRequest, body: DecideIn, milestone_id: int = id_path()) -> dict[str, Any]:
    return _milestone(services.milestone_decide(user=request.user, scope=scope_for(request.user),
                                                milestone_id=milestone_id, accept=body.accept, reason=body.reason))


@router.post("/milestones/{milestone_id}/pay", response=responses(PaymentOut, s201=PaymentOut),
             auth=requires("procurement_manage"))
def pay(request: HttpRequest, body: PayIn, milestone_id: int = id_path()) -> Any:
    found = services.payment_make(user=request.user, scope=scope_for(request.user), milestone_id=milestone_id,
                                  reference=body.reference)
    return with_status(201, _payment(found))
