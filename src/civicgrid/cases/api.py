"""The cases JSON API: the same selectors and services (so the same scoping and state machine) as the
pages. Refusals: 403 (role), 404 (outside the area), 400 (state does not allow the action)."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Router, Schema

from civicgrid.accounts.roles import scope_for
from civicgrid.cases import selectors, services
from civicgrid.cases.models import Case, CaseCategory
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
from civicgrid.registry.models import Actor, Household, Place

router = Router(tags=["cases"])


class CaseOut(Schema):
    id: int
    code: str
    category: str
    place_id: int
    grid_id: int
    household_id: int | None
    description: str
    state: str
    level: str
    handler_id: int | None
    reported_at: datetime
    due_at: datetime
    handled_at: datetime | None
    closed_at: datetime | None
    rating: int | None

    @staticmethod
    def resolve_category(obj: Case) -> str:
        return obj.category.code


class ReportIn(Schema):
    category: str = code_field()
    description: str = text_field(..., kind="text_chars", min_length=1)
    place_id: int | None = id_field(None)
    household_id: int | None = id_field(None)


class ActIn(Schema):
    action: str = code_field()
    note: str = text_field()
    handler_id: int | None = id_field(None)
    rating: int | None = Field(None, ge=1, le=5, description="satisfaction, 1 to 5 (action rate)")


class FiguresOut(Schema):
    key: str
    label: str
    cases: int
    handled: int
    on_time: int
    late: int
    on_time_rate: float | None
    closed: int
    mean_hours_to_close: float | None
    median_hours_to_close: float | None
    rated: int
    satisfaction: float | None


@router.get("/cases", response=responses(list[CaseOut]))
def list_cases(request: HttpRequest, state: str = code_query(), offset: int = offset_query()) -> object:
    return page(selectors.case_list(scope=scope_for(request.user), state=state), offset)


@router.get("/cases/{case_id}", response=responses(CaseOut))
def get_case(request: HttpRequest, case_id: int = id_path()) -> object:
    return selectors.case_get(scope=scope_for(request.user), case_id=case_id)


@router.post("/cases", response=responses(CaseOut, status=201), auth=requires("cases"))
def report_case(request: HttpRequest, payload: ReportIn) -> object:
    category = CaseCategory.objects.get(code=payload.category)
    place = Place.objects.get(pk=payload.place_id) if payload.place_id else None
    household = Household.objects.get(pk=payload.household_id) if payload.household_id else None
    case = services.case_report(user=request.user, scope=scope_for(request.user), category=category, description=payload.description,
                                place=place, household=household)
    return with_status(201, case)


@router.post("/cases/{case_id}/act", response=responses(CaseOut), auth=requires("cases"))
def act_on_case(request: HttpRequest, payload: ActIn, case_id: int = id_path()) -> object:
    case = selectors.case_get(scope=scope_for(request.user), case_id=case_id)
    handler = Actor.objects.get(pk=payload.handler_id) if payload.handler_id else None
    return services.case_act(user=request.user, scope=scope_for(request.user), case=case, action=payload.action, note=payload.note,
                             handler=handler, rating=payload.rating)


@router.get("/figures", response=responses(list[FiguresOut]))
def figures(request: HttpRequest, by: str = code_query("grid")) -> object:
    if by not in selectors.GROUPINGS:
        raise ValidationError(f"by must be one of {sorted(selectors.GROUPINGS)}")
    return selectors.case_figures(scope=scope_for(request.user), by=by)  # type: ignore[arg-type]
