"""The emergency JSON API: modes, an emergency with its tasks, the one-step activation, sweep progress."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema

from civicgrid.accounts.roles import scope_for
from civicgrid.core.apischema import code_field, id_field, id_path, requires, responses
from civicgrid.emergency import services
from civicgrid.emergency.selectors import modes
from civicgrid.emergency.selectors import sweeps as sw

router = Router(tags=["emergency"])


class ModeOut(Schema):
    community_id: int
    community_code: str
    mode: str
    emergencies: list[int]


class TaskOut(Schema):
    id: int
    key: str
    title_en: str
    title_zh: str
    actor_id: int | None
    person_id: int | None
    grid_id: int | None
    due_at: datetime
    state: str


class EmergencyOut(Schema):
    id: int
    community_id: int
    hazard: str
    level: str
    is_drill: bool
    status: str
    activated_at: datetime
    opening_alert_id: int | None
    vulnerable_reached_at: datetime | None


class ActivateIn(Schema):
    community_id: int = id_field()
    plan_code: str = code_field()
    level: str | None = code_field(None)


class ActivateOut(Schema):
    created: bool
    emergency: EmergencyOut


class ProgressOut(Schema):
    grid_id: int
    grid_code: str
    total: int
    safe: int
    needs_help: int
    not_home: int
    pending: int
    vulnerable: int
    vulnerable_reached: int


@router.get("/modes", response=responses(list[ModeOut]))
def list_modes(request: HttpRequest) -> object:
    return [{"community_id": m.community.pk, "community_code": m.community.code, "mode": m.mode,
             "emergencies": [e.pk for e in m.emergencies]} for m in modes.community_modes(scope=scope_for(request.user))]


@router.get("/emergencies/{emergency_id}", response=responses(EmergencyOut))
def get_emergency(request: HttpRequest, emergency_id: int = id_path()) -> object:
    return modes.emergency_get(scope=scope_for(request.user), emergency_id=emergency_id)


@router.get("/emergencies/{emergency_id}/tasks", response=responses(list[TaskOut]))
def get_tasks(request: HttpRequest, emergency_id: int = id_path()) -> object:
    scope = scope_for(request.user)
    return modes.live_tasks(scope=scope, emergency=modes.emergency_get(scope=scope, emergency_id=emergency_id))


@router.post("/activate", response=responses(ActivateOut), auth=requires("emergency_manage"))
def activate(request: HttpRequest, payload: ActivateIn) -> object:
    scope = scope_for(request.user)
    community = modes.communities(scope=scope).get(pk=payload.community_id)
    result = services.emergency_activate(user=request.user, scope=scope_for(request.user), community=community,
                                         plan=modes.plans().get(code=payload.plan_code), level=payload.level)
    return {"created": result.created, "emergency": result.emergency}


@router.get("/sweeps/{sweep_id}/progress", response=responses(list[ProgressOut]))
def sweep_progress(request: HttpRequest, sweep_id: int = id_path()) -> object:
    scope = scope_for(request.user)
    return sw.sweep_progress(scope=scope, sweep=sw.sweep_get(scope=scope, sweep_id=sweep_id))
