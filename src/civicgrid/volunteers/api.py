"""The volunteers JSON API (mounted at /api/volunteers/): care visits to claim and record, the hours ledger
and its approvals, coverage of paired help, with the same selectors and services as the pages.

Refusals: 400 bad input (hours without a record, an unknown outcome), 403 a role or person that may not
act (a volunteer without the course, an approver deciding their own hours), 404 outside the user's area,
409 when the state refuses it (a visit taken, hours already decided, a transfer overdrawing).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema

from civicgrid.accounts.roles import scope_for, scope_forget
from civicgrid.core.apischema import (
    id_field,
    id_path,
    offset_query,
    page,
    requires,
    responses,
    text_field,
    with_status,
)
from civicgrid.volunteers import selectors, services
from civicgrid.volunteers.models import CareVisit, HoursEntry

router = Router(tags=["volunteers"])


class VisitOut(Schema):
    id: int
    resident: str
    grid: str
    due_on: date
    status: str
    outcome: str
    minutes: int | None


class VisitsOut(Schema):
    mine: list[VisitOut]
    claimable: list[VisitOut]


class RecordIn(Schema):
    outcome: Literal["well", "needs_help", "not_home"]
    minutes: int = Field(..., ge=1, le=480)
    note: str = text_field(max_length=200)


class EntryOut(Schema):
    id: int
    volunteer_id: int
    volunteer: str
    source: str
    hours: Decimal
    on: date
    state: str
    note: str


class EntryIn(Schema):
    volunteer_id: int = id_field()
    hours: Decimal = Field(..., gt=0, le=24, max_digits=5, decimal_places=2)
    on: date
    note: str = text_field(max_length=200)


class DecisionIn(Schema):
    approved: bool
    reason: str = text_field(max_length=200)


class CoverageOut(Schema):
    grid: str
    vulnerable: int
    with_helper: int
    visits_due: int
    visits_on_time: int
    visits_missed: int


class TransferIn(Schema):
    kind: Literal["earned", "spent"]
    person_id: int = id_field()
    counterpart_id: int | None = id_field(None)
    minutes: int = Field(..., ge=1, le=6000)
    note: str = text_field(max_length=200)


class TransferOut(Schema):
    id: int
    from_account: int
    to_account: int
    minutes: int
    kind: str


def _visit(v: CareVisit) -> dict[str, Any]:
    return {"id": v.pk, "resident": v.resident.name, "grid": v.grid.name, "due_on": v.due_on, "status": v.status,
            "outcome": v.outcome, "minutes": v.minutes}


def _entry(e: HoursEntry) -> dict[str, Any]:
    return {"id": e.pk, "volunteer_id": e.volunteer_id, "volunteer": e.volunteer.person.name, "source": e.source,
            "hours": e.hours, "on": e.on, "state": selectors.entry_state(e), "note": e.note}


@router.get("/visits", response=responses(VisitsOut), auth=requires("volunteers"))
def visits(request: HttpRequest) -> dict[str, Any]:
    scope = scope_for(request.user)
    return {"mine": [_visit(v) for v in selectors.visits_mine(user=request.user)[:100]],
            "claimable": [_visit(v) for v in selectors.visits_claimable(scope=scope, user=request.user)[:100]]}


@router.post("/visits/{visit_id}/claim", response=responses(VisitOut), auth=requires("volunteers"))
def visit_claim(request: HttpRequest, visit_id: int = id_path()) -> dict[str, Any]:
    visit = services.care_visit_claim(user=request.user, scope=scope_for(request.user), visit_id=visit_id)
    scope_forget(request.user)
    return _visit(visit)


@router.post("/visits/{visit_id}/record", response=responses(VisitOut), auth=requires("volunteers"))
def visit_record(request: HttpRequest, body: RecordIn, visit_id: int = id_path()) -> dict[str, Any]:
    return _visit(services.care_visit_record(user=request.user, scope=scope_for(request.user), visit_id=visit_id,
                                             outcome=body.outcome, minutes=body.minutes, note=body.note))


@router.get("/hours", response=responses(list[EntryOut]), auth=requires("volunteers"))
def hours(request: HttpRequest, offset: int = offset_query()) -> list[dict[str, Any]]:
    scope = scope_for(request.user)
    me = selectors.volunteer_of(request.user)
    if scope.role == "volunteer":
        rows = selectors.hours_list(scope=scope, volunteer=me) if me else HoursEntry.objects.none()
    else:
        rows = selectors.hours_list(scope=scope)
    return [_entry(e) for e in page(rows, offset)]


@router.post("/hours", response=responses(EntryOut, s201=EntryOut), auth=requires("volunteers"))
def hours_enter(request: HttpRequest, body: EntryIn) -> Any:
    entry = services.hours_enter(user=request.user, scope=scope_for(request.user), volunteer_id=body.volunteer_id,
                                 hours=body.hours, on=body.on, note=body.note)
    return with_status(201, _entry(entry))


@router.post("/hours/{entry_id}/decide", response=responses(EntryOut), auth=requires("volunteers_manage"))
def hours_decide(request: HttpRequest, body: DecisionIn, entry_id: int = id_path()) -> dict[str, Any]:
    decision = services.hours_decide(user=request.user, scope=scope_for(request.user), entry_id=entry_id,
                                     approved=body.approved, reason=body.reason)
    return _entry(HoursEntry.objects.select_related("volunteer__person", "approval").get(pk=decision.entry_id))


@router.get("/coverage", response=responses(list[CoverageOut]), auth=requires("volunteers_manage"))
def coverage(request: HttpRequest, offset: int = offset_query()) -> list[dict[str, Any]]:
    # paged as every API list: a row per grid, 3,600 in a district at 1M households
    return [{"grid": r.grid.name, "vulnerable": r.vulnerable, "with_helper": r.with_helper, "visits_due": r.due,
             "visits_on_time": r.on_time, "visits_missed": r.missed}
            for r in page(selectors.coverage(scope=scope_for(request.user)), offset)]


@router.post("/time-transfers", response=responses(TransferOut, s201=TransferOut), auth=requires("volunteers_manage"))
def time_transfer(request: HttpRequest, body: TransferIn) -> Any:
    t = services.time_transfer(user=request.user, scope=scope_for(request.user), kind=body.kind,
                               person_id=body.person_id, counterpart_id=body.counterpart_id, minutes=body.minutes,
                               note=body.note)
    return with_status(201, {"id": t.pk, "from_account": t.from_account_id, "to_account": t.to_account_id, "minutes": t.minutes,
                 "kind": t.kind})
