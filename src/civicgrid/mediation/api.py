"""The mediation JSON API: cases in the caller's area; the parties and the confidential texts only for the
case's mediator and its community's director (the same rule as the pages)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema

from civicgrid.accounts.roles import scope_for
from civicgrid.core.apischema import code_query, id_path, offset_query, page, responses
from civicgrid.mediation import selectors
from civicgrid.mediation.models import MediationCase

router = Router(tags=["mediation"])


class CaseOut(Schema):
    id: int
    code: str
    category: str
    grid_id: int
    state: str
    opened_at: datetime
    agreed_at: datetime | None
    follow_up_state: str
    follow_up_due_at: datetime | None


class PartyOut(Schema):
    id: int
    side: str
    name: str
    phone: str
    signed_at: datetime | None


class CaseDetailOut(CaseOut):
    confidential: bool  # true: the parties and texts below are withheld from this user
    summary: str
    parties: list[PartyOut]


@router.get("/cases", response=responses(list[CaseOut]))
def list_cases(request: HttpRequest, state: str = code_query(), offset: int = offset_query()) -> object:
    return page(selectors.case_list(scope=scope_for(request.user), state=state), offset)


@router.get("/cases/{case_id}", response=responses(CaseDetailOut))
def get_case(request: HttpRequest, case_id: int = id_path()) -> object:
    case: MediationCase = selectors.case_get(scope=scope_for(request.user), case_id=case_id)
    privileged = selectors.may_see_parties(request.user, case)
    return {**{f: getattr(case, f) for f in CaseOut.model_fields}, "confidential": not privileged,
            "summary": case.summary if privileged else "", "parties": selectors.parties(user=request.user, case=case)}
