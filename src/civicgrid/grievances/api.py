"""The grievances JSON API: the same selectors and services (scoping, clock, chain) as the pages."""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema

from civicgrid.accounts.roles import scope_for
from civicgrid.core.apischema import (
    code_field,
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
from civicgrid.core.errors import Invalid
from civicgrid.grievances import selectors, services
from civicgrid.registry.models import Household

router = Router(tags=["grievances"])


class GrievanceOut(Schema):
    id: int
    code: str
    kind: str
    subject_ref: str
    description: str
    sensitive: bool
    state: str
    level: str
    filed_at: datetime
    paused: bool
    response_due_at: datetime | None
    due_at: datetime | None
    level_due_at: datetime | None
    responded_at: datetime | None
    closed_at: datetime | None
    closed_on_time: bool | None
    reply: str
    rating: int | None

    @staticmethod
    def resolve_paused(obj: object) -> bool:
        return getattr(obj, "paused_since", None) is not None


class FileIn(Schema):
    kind: str = code_field()
    subject_ref: str = code_field("")
    description: str = text_field(..., kind="text_chars", min_length=1)
    sensitive: bool = False
    household_id: int | None = id_field(None)


class ActIn(Schema):
    action: str = code_field()
    note: str = text_field("", kind="text_chars")
    reason: str = code_field("")
    rating: int | None = Field(None, ge=1, le=5)
    mediation: str = code_field("", max_length=24)


class RatesOut(Schema):
    month: date
    filed: int
    responded: int
    on_time: int
    late: int
    rated: int
    satisfied: int
    appeals_decided: int
    appeals_upheld: int


@router.get("/grievances", response=responses(list[GrievanceOut]))
def list_grievances(request: HttpRequest, state: str = code_query(), offset: int = offset_query()) -> object:
    return page(selectors.grievance_list(scope=scope_for(request.user), state=state), offset)


@router.get("/grievances/{grievance_id}", response=responses(GrievanceOut))
def get_grievance(request: HttpRequest, grievance_id: int = id_path()) -> object:
    return selectors.grievance_get(scope=scope_for(request.user), grievance_id=grievance_id)


@router.post("/grievances", response=responses(GrievanceOut, status=201), auth=requires("grievances"))
def file_grievance(request: HttpRequest, payload: FileIn) -> object:
    household = Household.objects.filter(pk=payload.household_id).first() if payload.household_id else None
    if payload.household_id and household is None:
        raise Invalid({"household_id": "no such household"})
    g = services.grievance_file(user=request.user, scope=scope_for(request.user), kind=payload.kind,
                                subject_ref=payload.subject_ref, description=payload.description,
                                sensitive=payload.sensitive, household=household)
    return with_status(201, g)


@router.post("/grievances/{grievance_id}/act", response=responses(GrievanceOut), auth=requires("grievances"))
def act_on_grievance(request: HttpRequest, payload: ActIn, grievance_id: int = id_path()) -> object:
    scope = scope_for(request.user)
    g = selectors.grievance_get(scope=scope, grievance_id=grievance_id)
    return services.grievance_act(user=request.user, scope=scope, grievance=g, action=payload.action,
                                  note=payload.note, reason=payload.reason, rating=payload.rating,
                                  mediation=payload.mediation)


@router.get("/rates", response=responses(list[RatesOut]))
def rates(request: HttpRequest) -> object:
    communities = list(selectors.rate_communities(scope=scope_for(request.user)))
    return [m for c in communities[:1] for m in selectors.monthly_rates(community=c)]
