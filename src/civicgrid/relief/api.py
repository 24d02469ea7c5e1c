"""The relief JSON API (mounted at /api/relief/): need intake, task claiming and delivery confirmation, and
allocation rounds (preview, confirm, a queued confirmation's progress, a round's summary), with the same
selectors and services, hence the same scoping, as the pages.

Refusals are 4xx with a reason: 400 for bad input (unknown household, quantity below 1, an item not in the
catalogue, an issue larger than the stock), 403 for a role that may not act, 404 outside the user's area,
409 when someone else got there first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Router, Schema
from pydantic import StrictInt

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
    with_status,
)
from civicgrid.core.limits import MAX_ID
from civicgrid.relief import jobs, rounds, selectors, services
from civicgrid.relief.models import (
    MAX_ROUND_DAYS,
    SEED_CEILING,
    AllocationRound,
    DeliveryStop,
    DeliveryTask,
    LedgerEntry,
    Need,
    RoundAllocation,
    RoundConfirmation,
)
from civicgrid.relief.preview import RECOMMENDED

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


def _stop(stop: DeliveryStop, lines: list[RoundAllocation] | None = None) -> dict[str, Any]:
    if lines is None:  # one stop: its own lines
        lines = selectors.stop_lines(task=stop.task, stops=[stop])[stop.pk]
    return {"id": stop.pk, "household_id": stop.household_id, "address": stop.household.address,
            "status": stop.status, "lines": [{"item": a.item.code, "quantity": a.quantity} for a in lines]}


def _stops(task: DeliveryTask, stops: list[DeliveryStop]) -> list[dict[str, Any]]:
    lines = selectors.stop_lines(task=task, stops=stops)  # one query for the task's stops
    return [_stop(s, lines[s.pk]) for s in stops]


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
    return with_status(201 if created else 200, {
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
    return {**_task(found), "stop_list": _stops(found, selectors.task_stops(scope=scope, task=found))}


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


# --- allocation rounds ----------------------------------------------------------------------------
# A district holds a few thousand grids and the catalogue a few dozen items: bounds far above a real selection
# that keep a request's list from costing the server more than the round itself.
MAX_ROUND_PLACES = 10_000
MAX_ROUND_ITEMS = 200
PlaceId = Annotated[int, Field(ge=1, le=MAX_ID)]
ItemCode = Annotated[str, Field(min_length=1, max_length=40)]


class RoundSelectionIn(Schema):
    places: list[PlaceId] = Field(..., min_length=1, max_length=MAX_ROUND_PLACES,
                                  description="ids of grids or communities in your area")
    items: list[ItemCode] = Field(..., min_length=1, max_length=MAX_ROUND_ITEMS,
                                  description="catalogue item codes")
    days: int = Field(..., ge=1, le=MAX_ROUND_DAYS, description="days the round covers")


class RoundPreviewIn(RoundSelectionIn):
    policy: str | None = code_field(None, max_length=16, description=(
        "the policy to confirm with (the recommended one when left out); every policy is previewed"))
    seed: int | None = Field(None, ge=0, lt=SEED_CEILING, description=(
        "the lottery's seed; left out, the day's seed of the selection (the same all day, as on the page)"))


class RoundConfirmIn(RoundSelectionIn):
    policy: str = code_field(max_length=16)
    seed: int = Field(..., ge=0, lt=SEED_CEILING, description="the preview's seed")
    fingerprint: str = Field(..., min_length=1, max_length=64, description=(
        "the preview's fingerprint: the confirmation is refused (409) when a need the preview read, a household's "
        "weight or the stock changed since"))
    needs_up_to: StrictInt | None = Field(None, ge=1, le=MAX_ID, description=(
        "the preview's needs_up_to: needs filed after the preview wait for the next round instead of refusing "
        "this one (left out, any new need in the selection refuses it)"))


class GroupOut(Schema):
    requests: int
    need: int
    allocated: int
    coverage: float | None
    unmet_share: float | None
    mean_satisfaction: float | None


class PolicyOut(Schema):
    """One policy's fairness figures, as the preview's table shows them (shares from 0 to 1, not sentences;
    None where a figure is undefined, e.g. no vulnerable household asked)."""

    policy: str
    requests: int = 0
    need: int = 0
    allocated: int = 0
    coverage: float | None = None
    unmet_share: float | None = None
    gini: float | None = None
    theil: float | None = None
    atkinson: float | None = None
    concentration_by_weight: float | None = None
    vulnerable_coverage_ratio: float | None = None
    vulnerable: GroupOut | None = None
    other: GroupOut | None = None


class ItemTotalOut(Schema):
    item: str
    requests: int
    need: int = Field(..., description="units asked")
    stock: int = Field(..., description="units in stock at the points serving the requests")
    allocated: dict[str, int] = Field(..., description="units each policy allocates")


class RoundPreviewOut(Schema):
    seed: int
    fingerprint: str
    needs_up_to: int | None = Field(..., description=(
        "the newest need the preview read (None when it read none): confirm with it, and needs filed since wait "
        "for the next round"))
    policy: str
    recommended: str
    n_requests: int
    need_units: int
    stock_units: int
    skipped_no_point: int = Field(..., description="open needs left out: no distribution point serves them")
    background: bool = Field(..., description="whether confirming queues a job (202) rather than confirming now")
    items: list[ItemTotalOut]
    policies: list[PolicyOut]


class ConfirmationOut(Schema):
    id: int
    status: Literal["queued", "running", "done", "failed"]
    progress: int = Field(..., description="0 to 100")
    places: list[int]
    items: list[str]
    days: int
    policy: str
    seed: int
    needs_up_to: int | None = Field(..., description="the preview's newest need: needs filed after it wait")
    n_requests: int
    requested_by: str | None
    created_at: datetime
    finished_at: datetime | None
    round_id: int | None
    reasons: list[str] = Field(..., description="why it failed, in the reader's language")
    url: str


class RoundOut(Schema):
    id: int
    place_id: int
    place: str
    items: list[str]
    policy: str
    seed: int
    days: int
    fingerprint: str
    n_requests: int
    units_allocated: int
    confirmed_at: datetime
    confirmed_by: str | None
    due_at: datetime
    tasks: dict[str, int] = Field(..., description="its delivery tasks in your area by status")


def _confirmation(confirmation: RoundConfirmation) -> dict[str, Any]:
    return {"id": confirmation.pk, "status": confirmation.status, "progress": confirmation.progress,
            "places": list(confirmation.place_ids), "items": list(confirmation.item_codes), "days": confirmation.days,
            "policy": confirmation.policy, "seed": confirmation.seed, "needs_up_to": confirmation.needs_up_to,
            "n_requests": confirmation.n_requests,
            "requested_by": confirmation.requested_by.username if confirmation.requested_by else None,
            "created_at": confirmation.created_at, "finished_at": confirmation.finished_at,
            "round_id": confirmation.round_id, "reasons": jobs.reasons(confirmation),
            "url": reverse("api:relief_round_confirmation", kwargs={"confirmation_id": confirmation.pk})}


def _round(request: HttpRequest, round: AllocationRound) -> dict[str, Any]:
    return {"id": round.pk, "place_id": round.place_id, "place": round.place.name, "items": list(round.item_codes),
            "policy": round.policy, "seed": round.seed, "days": round.days, "fingerprint": round.fingerprint,
            "n_requests": round.n_requests, "units_allocated": round.units_allocated,
            "confirmed_at": round.confirmed_at, "due_at": round.due_at,
            "confirmed_by": round.confirmed_by.username if round.confirmed_by else None,  # as the round's page
            "tasks": selectors.round_task_counts(scope=scope_for(request.user), round=round)}


def _policy(policy: str, metrics: dict[str, Any]) -> dict[str, Any]:
    groups = metrics.get("groups", {})
    return {**{k: v for k, v in metrics.items() if k != "groups"}, "policy": policy,
            "vulnerable": groups.get("vulnerable"), "other": groups.get("other")}


@router.post("/rounds/preview", response=responses(RoundPreviewOut), auth=requires("relief_manage"))
def round_preview(request: HttpRequest, body: RoundPreviewIn) -> dict[str, Any]:
    """Every policy on the selection's open needs and stock now, as the allocation page previews it: the totals
    per item and the fairness figures per policy, with the seed and fingerprint to confirm with. No allocation
    rows: a district's preview has a million, under five policies, each naming a household; a preview decides
    nothing, and a confirmed round's allocations are read where they are delivered (its tasks and stops)."""
    scope = scope_for(request.user)
    policy = selectors.round_policy(body.policy) if body.policy is not None else RECOMMENDED
    preview = selectors.round_preview(scope=scope, place_ids=body.places, item_codes=body.items, days=body.days,
                                      seed=body.seed)
    inputs = preview.inputs
    n_requests = len(inputs.requests)
    return {"seed": preview.seed, "fingerprint": inputs.fingerprint, "needs_up_to": inputs.last_need_id,
            "policy": policy, "recommended": RECOMMENDED,
            "n_requests": n_requests, "need_units": int(inputs.requests["need"].sum()) if n_requests else 0,
            "stock_units": int(inputs.stock["quantity"].sum()) if len(inputs.stock) else 0,
            "skipped_no_point": inputs.skipped_no_point,
            "background": services.confirms_in_background(n_requests + inputs.skipped_no_point),
            "items": rounds.item_totals(inputs, preview.outcomes),
            "policies": [_policy(o.policy, o.metrics) for o in preview.outcomes]}


@router.post("/rounds/confirm", response=responses(RoundOut, 201, s202=ConfirmationOut),
             auth=requires("relief_manage"))
def round_confirm(request: HttpRequest, body: RoundConfirmIn) -> Any:
    """Confirm the previewed round: within the request (201, the round), or, when the preview said
    ``background`` (the needs waiting are counted again here), queued as a job (202, the confirmation: follow its
    ``url``). 409 when a need the preview read, a household's weight or the stock changed since, when a
    life-critical need was filed since, or while a confirmation of the same selection is queued or running (needs
    filed after ``needs_up_to`` otherwise wait for the next round)."""
    made = services.round_confirm_or_queue(
        user=request.user, scope=scope_for(request.user), place_ids=body.places, item_codes=body.items,
        days=body.days, policy=body.policy, seed=body.seed, fingerprint=body.fingerprint, needs_up_to=body.needs_up_to)
    if isinstance(made, RoundConfirmation):
        return with_status(202, _confirmation(made))
    return with_status(201, _round(request, made))


@router.get("/rounds/confirmations", response=responses(list[ConfirmationOut]))
def round_confirmations(request: HttpRequest, offset: int = offset_query()) -> list[dict[str, Any]]:
    """Confirmations queued as jobs in your area, newest first."""
    found = selectors.confirmation_list(scope=scope_for(request.user))
    return [_confirmation(c) for c in page(found, offset)]


@router.get("/rounds/confirmations/{confirmation_id}", response=responses(ConfirmationOut),
            url_name="relief_round_confirmation")
def round_confirmation(request: HttpRequest, confirmation_id: int = id_path()) -> dict[str, Any]:
    """A queued confirmation: its status and progress, then its round, or why it was refused."""
    return _confirmation(selectors.confirmation_get(scope=scope_for(request.user), confirmation_id=confirmation_id))


@router.get("/rounds/{round_id}", response=responses(RoundOut))
def round_detail(request: HttpRequest, round_id: int = id_path()) -> dict[str, Any]:
    """A confirmed round's summary (its frozen inputs and allocations are not sent)."""
    return _round(request, selectors.round_get(scope=scope_for(request.user), round_id=round_id, frozen=False))
