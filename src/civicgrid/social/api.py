"""The social app's JSON API (mounted at /api/social/): the register of organisations, admission to an
emergency and the who-does-what-where board, with the same selectors and services (hence the same scoping)
as the pages. Refusals: 400 bad input (an invalid credit code), 403 a role that may not act, 404 outside
the user's area (an unknown organisation), 409 the state refuses (already decided by another coordinator).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

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
from civicgrid.social import board as threew
from civicgrid.social import selectors, services
from civicgrid.social.models import Admission, Organisation

router = Router(tags=["social"])


class OrganisationOut(Schema):
    id: int
    actor_id: int
    name: str
    credit_code: str
    verification: str
    verification_reason: str
    stage: str
    stage_since: date | None
    score: float | None


class ChangeOut(Schema):
    at: date | datetime
    from_state: str
    to_state: str
    reason: str


class OrganisationDetailOut(OrganisationOut):
    verification_history: list[ChangeOut]
    stage_history: list[ChangeOut]
    scores: list[tuple[date, float]]
    trainings: int
    funding_fen: int
    open_complaints: int


class RegisterIn(Schema):
    actor_id: int = id_field()
    credit_code: str = Field(..., max_length=40)
    hub_id: int | None = id_field(None)


class VerifyIn(Schema):
    state: Literal["applied", "verified", "suspended"]
    reason: str = text_field()


class StageIn(Schema):
    to_stage: Literal["incubating", "growing", "independent"]
    on: date
    reason: str = text_field()


class ApplyIn(Schema):
    emergency_id: int = id_field()
    actor_id: int = id_field()
    grid_ids: list[int] = Field(..., min_length=1, max_length=50)
    service_kinds: list[str] = Field(..., min_length=1, max_length=10)
    note: str = text_field()


class AdmissionOut(Schema):
    id: int
    emergency_id: int
    actor_id: int
    grid_id: int
    service_kind: str
    status: str
    reason: str


class DecideIn(Schema):
    admit: bool
    reason: str = text_field()


class BoardOrg(Schema):
    actor_id: int
    name: str
    sector: str
    what: str


class BoardCellOut(Schema):
    grid_id: int
    grid_code: str
    service_kind: str
    organisations: list[BoardOrg]
    open_need: int
    gap: bool
    overlap: bool


def _organisation(o: Organisation) -> dict[str, Any]:
    return {"id": o.pk, "actor_id": o.actor_id, "name": o.actor.name, "credit_code": o.credit_code,
            "verification": o.verification, "verification_reason": o.verification_reason, "stage": o.stage,
            "stage_since": o.stage_since, "score": float(o.score) if o.score is not None else None}


def _admission(a: Admission) -> dict[str, Any]:
    return {"id": a.pk, "emergency_id": a.emergency_id, "actor_id": a.actor_id, "grid_id": a.grid_id,
            "service_kind": a.service_kind, "status": a.status, "reason": a.reason}


@router.get("/organisations", response=responses(list[OrganisationOut]), auth=requires("social"))
def organisations(request: HttpRequest, verification: str = code_query(), stage: str = code_query(),
                  offset: int = offset_query()) -> list[dict[str, Any]]:
    found = selectors.organisations(scope=scope_for(request.user), verification=verification, stage=stage)
    return [_organisation(o) for o in page(found, offset)]


@router.get("/organisations/{organisation_id}", response=responses(OrganisationDetailOut), auth=requires("social"))
def organisation(request: HttpRequest, organisation_id: int = id_path()) -> dict[str, Any]:
    from django.utils import timezone

    o = selectors.organisation_get(scope=scope_for(request.user), organisation_id=organisation_id)
    _latest, trainings, funding = services.evidence(o, until=timezone.localdate())
    return {**_organisation(o),
            "verification_history": [{"at": c.at, "from_state": c.from_state, "to_state": c.to_state,
                                      "reason": c.reason} for c in o.verification_changes.all()[:PAGE]],
            "stage_history": [{"at": c.on, "from_state": c.from_stage, "to_state": c.to_stage, "reason": c.reason}
                              for c in o.stage_changes.all()[:PAGE]],
            "scores": [(a.assessed_on, float(a.score)) for a in o.assessments.order_by("assessed_on", "id")[:PAGE]],
            "trainings": trainings, "funding_fen": funding,
            "open_complaints": o.complaints.filter(status="open").count()}


@router.post("/organisations", response=responses(OrganisationOut, 201), auth=requires("social_manage"))
def register(request: HttpRequest, body: RegisterIn) -> Any:
    o = services.organisation_register(user=request.user, scope=scope_for(request.user), actor_id=body.actor_id,
                                       credit_code=body.credit_code, hub_id=body.hub_id)
    return with_status(201, _organisation(o))


@router.post("/organisations/{organisation_id}/verification", response=responses(OrganisationOut),
             auth=requires("social_manage"))
def verify(request: HttpRequest, body: VerifyIn, organisation_id: int = id_path()) -> dict[str, Any]:
    scope = scope_for(request.user)
    selectors.organisation_get(scope=scope, organisation_id=organisation_id)
    return _organisation(services.organisation_verify(user=request.user, scope=scope, organisation_id=organisation_id,
                                                      state=body.state, reason=body.reason))


@router.post("/organisations/{organisation_id}/stage", response=responses(OrganisationOut),
             auth=requires("social_manage"))
def stage(request: HttpRequest, body: StageIn, organisation_id: int = id_path()) -> dict[str, Any]:
    scope = scope_for(request.user)
    selectors.organisation_get(scope=scope, organisation_id=organisation_id)
    services.stage_change(user=request.user, scope=scope, organisation_id=organisation_id, to_stage=body.to_stage,
                          on=body.on, reason=body.reason)
    return _organisation(selectors.organisation_get(scope=scope, organisation_id=organisation_id))


@router.post("/admissions", response=responses(list[AdmissionOut]), auth=requires("social"))
def apply(request: HttpRequest, body: ApplyIn) -> list[dict[str, Any]]:
    rows = services.admission_apply(user=request.user, scope=scope_for(request.user), emergency_id=body.emergency_id,
                                    actor_id=body.actor_id, grid_ids=body.grid_ids, service_kinds=body.service_kinds,
                                    note=body.note)
    return [_admission(a) for a in rows]


@router.post("/admissions/{admission_id}/decision", response=responses(AdmissionOut), auth=requires("social_manage"))
def decide(request: HttpRequest, body: DecideIn, admission_id: int = id_path()) -> dict[str, Any]:
    return _admission(services.admission_decide(user=request.user, scope=scope_for(request.user),
                                                admission_id=admission_id, admit=body.admit, reason=body.reason))


@router.get("/board", response=responses(list[BoardCellOut]), auth=requires("social"))
def board(request: HttpRequest, kind: str = code_query(), offset: int = offset_query()) -> list[dict[str, Any]]:
    found = threew.board(scope=scope_for(request.user), kind=kind)
    # paged as every API list: a district's board has 8,000 cells at 1M households
    shown = page(found.cells, offset)
    found.load(shown)
    return [{"grid_id": c.grid.pk, "grid_code": c.grid.code, "service_kind": c.kind, "open_need": c.need,
             "gap": c.gap, "overlap": c.overlap,
             "organisations": [{"actor_id": a.pk, "name": a.name, "sector": a.sector, "what": what}
                               for a, what in found.rows(c)]} for c in shown]
