"""The relief JSON API (mounted at /api/relief/): need intake, task claiming and delivery confirmation, with
the same selectors and services, hence the same scoping, as the pages.

Refusals are 4xx with a reason: 400 for bad input (unknown household, quantity below 1, an item not in the
catalogue, an issue larger than the stock), 403 for a role that may not act, 404 outside the user's area,
409 when someone else got there first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import ninja
from django.http import HttpRequest
from ninja import Field, Router, Schema

from civicgrid.accounts.roles import scope_for, scope_forget
from civicgrid.core.apischema import (
    PAGE,
    code_field,
    code_query,
    id_field,
    id_path,
    offset_query,
    page,
    quantity_field,
    requires,
    responses,
    text_field,
)
from civicgrid.relief import selectors, services
from civicgrid.relief.models import DeliveryStop, DeliveryTask, LedgerEntry, Need

# django-ninja >= 1.5 wants an explicit Status; older ones take a (status, body) tuple
_STATUS: Any = getattr(ninja, "Status", None)

router = Router(tags=["relief"])


class NeedIn(Schema):
    household_id: int | None = id_field(None, description="a resident's own household when left out")
    category: str = code_field("", max_length=20)
    item: str = code_field(max_length=40, description="a catalogue item code")
    quantity: int = quantity_field(description="units asked, at least 1; an item with a standard amount per "
                                               "person is also capped at what the household needs in 30 days")
    urgency: Literal["critical", "urgent", "normal"] = "normal"
    channel: Literal["", "self", "phone", "visit"] = Field("", description="residents: always self")
    note: str = text_field()
    idempotency_key: str = Field("", pattern=r"^(|\S[\s\S]{6,62}\S)$", description=(
        "8 to 64 characters (or the Idempotency-Key header): resending it makes no second record"))


class NeedOut(Schema):
    id: int
    household_id: int
    category: str
    item: str
    quantity: int
    urgency: str
    status: str
    allocated_quantity: int
    delivered_quantity: int
    filed_at: datetime
    progress: str
    expected_at: datetime | None


class FilingOut(Schema):
    need: NeedOut
    filing_id: int
    merged: bool
    replayed: bool
    quantity_before: int
    quantity_after: int


class LineOut(Schema):
    item: str
    quantity: int


class StopOut(Schema):
    id: int
    household_id: int
    address: str
    status: str
    lines: list[LineOut]


class TaskOut(Schema):
    id: int
    round_id: int
    building: str
    point: str
    status: str
    due_at: datetime
    claim_expires_at: datetime | None
    stops: int


class TaskDetailOut(TaskOut):
    stop_list: list[StopOut]


class TasksOut(Schema):
    held: list[TaskOut]
    claimable: list[TaskOut]


class DeliverIn(Schema):
    code: str = code_field(max_length=32)


class FailIn(Schema):
    reason: Literal["not_home", "refused", "wrong_address"]
    note: str = text_field(max_length=200)


class IssueIn(Schema):
    item: str = code_field(max_length=40)
    point_id: int = id_field()
    quantity: int = quantity_field()
    reason: str = text_field(..., max_length=200, min_length=1)


class LedgerOut(Schema):
    id: int
    at: datetime
    kind: str
    item: str
    point_id: int
    lot_id: int
    quantity: int
    balance_after: int


def _status(code: int, body: Any) -> Any:
    return _STATUS(code, body) if _STATUS is not None else (code, body)


def _need(request: HttpRequest, need: Need, progress: selectors.NeedProgress | None = None) -> dict[str, Any]:
    progress = progress or selectors.need_progress(scope=scope_for(request.user), needs=[need])[0]
    return {"id": need.pk, "household_id": need.household_id, "category": need.category, "item": need.item.code,
            "quantity": need.quantity, "urgency": need.urgency, "status": need.status,
            "allocated_quantity": need.allocated_quantity, "delivered_quantity": need.delivered_quantity,
            "filed_at": need.filed_at, "progress": progress.label, "expected_at": progress.expected_at}


def _task(task: DeliveryTask, stops: int | None = None) -> dict[str, Any]:
    return {"id": task.pk, "round_id": task.round_id, "building": task.building.name, "point": task.point.name,
            "status": task.status, "due_at": task.due_at, "claim_expires_at": task.claim_expires_at,
            "stops": selectors.task_stop_count(task) if stops is None else stops}


def _stop(stop: DeliveryStop) -> dict[str, Any]:
    return {"id": stop.pk, "household_id": stop.household_id, "address": stop.household.address,
            "status": stop.status, "lines": [{"item": a.item.code, "quantity": a.quantity}
                                             for a in stop.allocations.all()]}


@router.post("/needs", response=responses(FilingOut, s201=FilingOut), auth=requires("relief"))
def need_file(request: HttpRequest, body: NeedIn) -> Any:
    scope = scope_for(request.user)
    household_id = body.household_id
    if household_id is None and scope.role == "resident":
        household_id = next(iter(scope.household_ids), None)
    filing = services.need_file(
        user=request.user, scope=scope, household_id=household_id, item=body.item, quantity=body.quantity,
        category=body.category, urgency=body.urgency, channel=body.channel, note=body.note,
        key=body.idempotency_key or request.headers.get("Idempotency-Key", ""))
    created = not filing.merged and not filing.replayed
    return _status(201 if created else 200, {
        "need": _need(request, filing.need), "filing_id": filing.filing.pk, "merged": filing.merged,
        "replayed": filing.replayed, "quantity_before": filing.filing.quantity_before,
        "quantity_after": filing.filing.quantity_after})


@router.get("/needs", response=responses(list[NeedOut]))
def needs(request: HttpRequest, status: str = code_query(), offset: int = offset_query()
          ) -> list[dict[str, Any]]:
    scope = scope_for(request.user)
    shown = list(page(selectors.need_list(scope=scope, status=status).select_related("item")
                      .order_by("-filed_at", "-id"), offset))
    # the progress of the whole page at once (one query for its allocations), not one query per need
    return [_need(request, n, p) for n, p in zip(shown, selectors.need_progress(scope=scope, needs=shown), strict=True)]


@router.get("/needs/{need_id}", response=responses(NeedOut))
def need(request: HttpRequest, need_id: int = id_path()) -> dict[str, Any]:
    return _need(request, selectors.need_get(scope=scope_for(request.user), need_id=need_id))


@router.get("/tasks", response=responses(TasksOut))
def tasks(request: HttpRequest) -> dict[str, Any]:
    scope = scope_for(request.user)
    held = list(selectors.task_held(scope=scope, user=request.user))
    claimable = list(selectors.task_claimable(scope=scope)[:PAGE])
    stops = selectors.stop_counts([t.pk for t in held + claimable])  # one query, not one per task
    return {"held": [_task(t, stops.get(t.pk, 0)) for t in held],
            "claimable": [_task(t, stops.get(t.pk, 0)) for t in claimable]}


@router.get("/tasks/{task_id}", response=responses(TaskDetailOut))
def task(request: HttpRequest, task_id: int = id_path()) -> dict[str, Any]:
    scope = scope_for(request.user)
    found = selectors.task_get(scope=scope, user=request.user, task_id=task_id)
    return {**_task(found), "stop_list": [_stop(s) for s in selectors.task_stops(scope=scope, task=found)]}


@router.post("/tasks/{task_id}/claim", response=responses(TaskDetailOut))
def task_claim(request: HttpRequest, task_id: int = id_path()) -> Any:
    scope = scope_for(request.user)
    services.delivery_task_claim(user=request.user, scope=scope, task_id=task_id)
    scope_forget(request.user)  # the claim gives access to the task's households
    return task(request, task_id)


@router.post("/tasks/{task_id}/release", response=responses(TaskOut))
def task_release(request: HttpRequest, task_id: int = id_path()) -> Any:
    return _task(services.delivery_task_release(user=request.user, scope=scope_for(request.user), task_id=task_id))


@router.post("/stops/{stop_id}/deliver", response=responses(StopOut), auth=requires("relief"))
def stop_deliver(request: HttpRequest, body: DeliverIn, stop_id: int = id_path()) -> Any:
    return _stop(services.delivery_stop_deliver(user=request.user, scope=scope_for(request.user), stop_id=stop_id, code=body.code))


@router.post("/stops/{stop_id}/fail", response=responses(StopOut), auth=requires("relief"))
def stop_fail(request: HttpRequest, body: FailIn, stop_id: int = id_path()) -> Any:
    return _stop(services.delivery_stop_fail(user=request.user, scope=scope_for(request.user), stop_id=stop_id, reason=body.reason,
                                             note=body.note))


@router.post("/stock/issue", response=responses(list[LedgerOut]), auth=requires("relief_manage"))
def stock_issue(request: HttpRequest, body: IssueIn) -> list[dict[str, Any]]:
    entries: list[LedgerEntry] = services.stock_issue(
        user=request.user, scope=scope_for(request.user), item=body.item, point_id=body.point_id,
        quantity=body.quantity, reason=body.reason)
    return [{"id": e.pk, "at": e.at, "kind": e.kind, "item": e.item.code, "point_id": e.point_id,
             "lot_id": e.lot_id, "quantity": e.quantity, "balance_after": e.balance_after} for e in entries]
