"""Allocation rounds through the JSON API: the preview is the page's preview (the same seed and fingerprint,
its counts those of a plain count of the selection's open needs and stock), the confirmation below
``background_requests`` makes exactly the round the service makes, and from it on is queued and followed to
its round through the status endpoint; a preview gone stale, a double confirmation, bad input, another
community's confirmation and a role without the right are refused with a reason, never a 500."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from civicgrid.engine.allocation import POLICIES
from civicgrid.registry.models import Household, Place
from civicgrid.relief import jobs, selectors, services
from civicgrid.relief.models import (
    AllocationRound,
    DeliveryTask,
    Lot,
    Need,
    RoundAllocation,
    RoundConfirmation,
)
from tests.platform.relief_support import catalogue, client_for, community, key, login, point_for
from tests.platform.test_relief_round_bulk import DAYS, _random_world, _written

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
SEED = 7
PREVIEW, CONFIRM = "/api/relief/rounds/preview", "/api/relief/rounds/confirm"


class _Rollback(Exception):
    pass


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> Any:
    """One clock for the service's round and the API's, so that their rows can be compared whole."""
    now = timezone.now().replace(microsecond=0) + timedelta(minutes=5)
    monkeypatch.setattr(timezone, "now", lambda: now)
    return now


def _body(places: list[Place], items: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"places": [p.pk for p in places], "items": [i.code for i in items.values()], "days": DAYS, **more}


def _selection(places: list[Place], items: dict[str, Any]) -> dict[str, Any]:
    return {"place_ids": [p.pk for p in places], "item_codes": [i.code for i in items.values()], "days": DAYS}


def _post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


def _confirm_body(preview: dict[str, Any], places: list[Place], items: dict[str, Any], **more: Any) -> dict[str, Any]:
    return _body(places, items, policy=preview["policy"], seed=preview["seed"], fingerprint=preview["fingerprint"],
                 **more)


def _open_needs(places: list[Place], items: dict[str, Any]) -> Any:
    """The selection's open needs with units still to give, counted plainly (every household of the test world is
    served by its community's point)."""
    area = Q()
    for place in places:
        area |= Q(household__place_path__startswith=place.path)
    return Need.objects.filter(area, status=Need.Status.OPEN, item__in=list(items.values()),
                               quantity__gt=F("allocated_quantity"))


def test_the_api_preview_is_the_pages_preview_and_counts_the_selection() -> None:
    places, items = _random_world(21)
    client = client_for("district")
    answer = _post(client, PREVIEW, _body(places, items))
    assert answer.status_code == 200, answer.content
    preview = answer.json()

    # the page's preview of the same selection, no seed given: the same day's seed and the same fingerprint
    page = client.get("/relief/rounds/preview/", {"places": [p.pk for p in places],
                                                  "items": [i.code for i in items.values()], "days": DAYS})
    text = page.content.decode()
    assert page.status_code == 200
    assert re.search(rf'name="seed" value="{preview["seed"]}"', text)
    assert re.search(rf'name="fingerprint" value="{preview["fingerprint"]}"', text)
    assert 'name="n_requests"' not in text  # nothing the client could lower decides a round's confirmation

    # and the service's preview with that seed: the same fingerprint and figures, policy by policy
    _, scope = login("district")
    service = selectors.round_preview(scope=scope, seed=preview["seed"], **_selection(places, items))
    assert preview["fingerprint"] == service.inputs.fingerprint
    assert [p["policy"] for p in preview["policies"]] == list(POLICIES)
    for shown, outcome in zip(preview["policies"], service.outcomes, strict=True):
        assert shown["allocated"] == outcome.metrics["allocated"] and shown["gini"] == outcome.metrics["gini"]
        assert shown["vulnerable"] == outcome.metrics["groups"].get("vulnerable")

    # the counts against a plain count of the open needs and of the usable stock
    needs = _open_needs(places, items)
    assert preview["n_requests"] == needs.count() > 0
    assert preview["need_units"] == needs.aggregate(n=Sum(F("quantity") - F("allocated_quantity")))["n"]
    today = timezone.localdate()
    usable = Lot.objects.filter(Q(expiry__isnull=True) | Q(expiry__gte=today), point__place__in=places)
    assert preview["stock_units"] == usable.aggregate(n=Sum("quantity"))["n"]
    assert preview["skipped_no_point"] == 0 and preview["background"] is False
    assert (preview["policy"], preview["recommended"]) == ("equity", "equity")
    for row in preview["items"]:
        mine = needs.filter(item__code=row["item"])
        assert row["requests"] == mine.count()
        assert row["need"] == (mine.aggregate(n=Sum(F("quantity") - F("allocated_quantity")))["n"] or 0)
        assert row["stock"] == (usable.filter(item__code=row["item"]).aggregate(n=Sum("quantity"))["n"] or 0)
        assert set(row["allocated"]) == set(POLICIES)
        assert all(0 <= units <= min(row["stock"], row["need"]) for units in row["allocated"].values())
    for shown in preview["policies"]:  # the items' units add up to each policy's total
        assert sum(row["allocated"][shown["policy"]] for row in preview["items"]) == shown["allocated"]

    # a seed given is the seed used; another policy is the one to confirm with
    again = _post(client, PREVIEW, _body(places, items, seed=12345, policy="lottery")).json()
    assert (again["seed"], again["policy"], again["fingerprint"]) == (12345, "lottery", preview["fingerprint"])
    lottery = next(p for p in again["policies"] if p["policy"] == "lottery")
    assert sum(r["allocated"]["lottery"] for r in again["items"]) == lottery["allocated"]


@pytest.mark.parametrize(("seed", "policy"), [(1, "equity"), (3, "lottery")])
def test_a_confirmation_below_the_threshold_makes_exactly_the_services_round(seed: int, policy: str,
                                                                            frozen_now: Any) -> None:
    places, items = _random_world(seed + 30)
    user, scope = login("district")
    fingerprint = selectors.round_preview(scope=scope, seed=seed, **_selection(places, items)).inputs.fingerprint
    try:
        with transaction.atomic():
            alone = _written(services.round_confirm(user=user, scope=scope, policy=policy, seed=seed,
                                                    fingerprint=fingerprint, **_selection(places, items)))
            raise _Rollback
    except _Rollback:
        pass
    assert not AllocationRound.objects.exists() and alone["allocations"]

    client = client_for("district")
    preview = _post(client, PREVIEW, _body(places, items, seed=seed, policy=policy)).json()
    assert preview["fingerprint"] == fingerprint and preview["background"] is False
    answer = _post(client, CONFIRM, _confirm_body(preview, places, items))
    assert answer.status_code == 201, answer.content
    made = AllocationRound.objects.get()
    assert _written(made) == alone
    assert not RoundConfirmation.objects.exists()

    body = answer.json()
    assert (body["id"], body["policy"], body["seed"], body["confirmed_by"]) == (made.pk, policy, seed, "district")
    assert (body["n_requests"], body["units_allocated"]) == (preview["n_requests"], made.units_allocated)
    assert sum(body["tasks"].values()) == DeliveryTask.objects.filter(round=made).count() > 0
    # no item gets more than its stock, and the preview's units are the round's
    rows = RoundAllocation.objects.filter(round=made)
    for row in preview["items"]:
        given = rows.filter(item__code=row["item"]).aggregate(n=Sum("quantity"))["n"] or 0
        assert given == row["allocated"][policy] <= row["stock"]
    # the round's summary reads the same
    summary = client.get(f"/api/relief/rounds/{made.pk}").json()
    assert summary == {**body, "tasks": summary["tasks"]} and summary["tasks"] == body["tasks"]


def test_every_allocation_of_the_round_is_a_need_of_the_selection() -> None:
    places, items = _random_world(41)
    c01 = [p for p in places if p.code.endswith("C01")]
    client = client_for("district")
    preview = _post(client, PREVIEW, _body(c01, items)).json()
    selected = set(_open_needs(c01, items).values_list("id", flat=True))
    assert _post(client, CONFIRM, _confirm_body(preview, c01, items)).status_code == 201
    rows = RoundAllocation.objects.filter(round=AllocationRound.objects.get())
    assert set(rows.values_list("need_id", flat=True)) <= selected
    assert not rows.exclude(household__place_path__startswith=c01[0].path).exists()


def test_from_the_threshold_on_the_confirmation_is_queued_and_followed_to_its_round(
        settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    places, items = _random_world(22)
    client = client_for("district")
    n = _post(client, PREVIEW, _body(places, items)).json()["n_requests"]
    settings.CIVICGRID_RELIEF = {"background_requests": n}
    preview = _post(client, PREVIEW, _body(places, items)).json()
    assert preview["background"] is True

    with django_capture_on_commit_callbacks() as queued:
        answer = _post(client, CONFIRM, _confirm_body(preview, places, items))
    assert answer.status_code == 202, answer.content
    confirmation = RoundConfirmation.objects.get()
    body = answer.json()
    assert body["url"] == f"/api/relief/rounds/confirmations/{confirmation.pk}"
    assert (body["id"], body["status"], body["progress"], body["round_id"]) == (confirmation.pk, "queued", 0, None)
    assert (body["n_requests"], body["requested_by"], body["reasons"]) == (n, "district", [])
    assert len(queued) == 1 and not AllocationRound.objects.exists()  # nothing confirmed within the request

    again = _post(client, CONFIRM, _confirm_body(preview, places, items))  # the double tap: the service refuses
    assert again.status_code == 409 and "already being confirmed" in again.json()["detail"]
    assert RoundConfirmation.objects.count() == 1
    status = client.get(body["url"]).json()
    assert (status["status"], status["progress"]) == ("queued", 0)
    assert [c["id"] for c in client.get("/api/relief/rounds/confirmations").json()] == [confirmation.pk]

    # whether it is queued is the server's count, not the client's word: a count sent with the body (lower, or
    # none) is not read, and a queued confirmation shows the needs the server counted
    c01 = [p for p in places if p.code.endswith("C01")]
    settings.CIVICGRID_RELIEF = {"background_requests": 1}
    for n_requests in (0, None):
        small = _post(client, PREVIEW, _body(c01, items)).json()
        assert small["background"] is True
        sent = {k: v for k, v in {**_confirm_body(small, c01, items), "n_requests": n_requests}.items()
                if v is not None}
        queued_too = _post(client, CONFIRM, sent)
        assert queued_too.status_code == 202, queued_too.content
        assert queued_too.json()["n_requests"] == small["n_requests"] + small["skipped_no_point"]
        RoundConfirmation.objects.filter(pk=queued_too.json()["id"]).update(status=RoundConfirmation.Status.FAILED)
    assert not AllocationRound.objects.exists()

    jobs.run_round_confirmation(confirmation.pk)
    done = client.get(body["url"]).json()
    made = AllocationRound.objects.get()
    assert (done["status"], done["progress"], done["round_id"], done["reasons"]) == ("done", 100, made.pk, [])
    summary = client.get(f"/api/relief/rounds/{made.pk}").json()
    assert (summary["n_requests"], summary["units_allocated"], summary["fingerprint"]) == (
        n, made.units_allocated, preview["fingerprint"])


def _new_need(items: dict[str, Any]) -> None:
    user, scope = login("district")
    household = Household.objects.filter(relief_needs__isnull=True).order_by("code").first()
    assert household is not None
    services.need_file(user=user, scope=scope, household_id=household.pk, item=items["water"], quantity=1, key=key())


def test_a_stale_preview_is_refused_with_its_reason_and_no_round(settings: Any) -> None:
    places, items = _random_world(23)
    client = client_for("district")
    preview = _post(client, PREVIEW, _body(places, items)).json()
    _new_need(items)
    refused = _post(client, CONFIRM, _confirm_body(preview, places, items))
    assert refused.status_code == 409 and "changed since your preview" in refused.json()["detail"]
    chinese = _post(client_for("district", "zh-hans"), CONFIRM, _confirm_body(preview, places, items))
    assert chinese.status_code == 409 and "预览之后需求或库存已变化" in chinese.json()["detail"]
    assert not AllocationRound.objects.exists()

    # queued, the job is refused: the status says failed, why, in the reader's language, and no round
    settings.CIVICGRID_RELIEF = {"background_requests": 1}
    queued = _post(client, CONFIRM, _confirm_body(preview, places, items))
    assert queued.status_code == 202
    jobs.run_round_confirmation(queued.json()["id"])
    failed = client.get(queued.json()["url"]).json()
    assert (failed["status"], failed["round_id"]) == ("failed", None)
    assert any("changed since your preview" in r for r in failed["reasons"])
    words = client_for("district", "zh-hans").get(queued.json()["url"]).json()["reasons"]
    assert any("预览之后需求或库存已变化" in r for r in words) and not any("preview" in r for r in words)
    assert not AllocationRound.objects.exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"items": ["gold"]}, "items"),
    ({"items": []}, "items"),
    ({"days": 0}, "days"),
    ({"days": 10**9}, "days"),
    ({"days": "three"}, "days"),
    ({"places": list(range(1, 10**6 + 1))}, "places"),
    ({"places": []}, "places"),
    ({"places": [0]}, "places"),
    ({"places": [2**70]}, "places"),
    ({"places": [987654321]}, "places"),
    ({"seed": "abc"}, "seed"),
    ({"seed": 1.5}, "seed"),
    ({"seed": -1}, "seed"),
    ({"seed": 2**62}, "seed"),
    ({"policy": "fastest"}, "policy"),
    ({"items": ["x" * 41]}, "items"),
])
@pytest.mark.parametrize("url", [PREVIEW, CONFIRM])
def test_bad_input_is_a_400_naming_the_field(url: str, change: dict[str, Any], field: str) -> None:
    places, items = _random_world(24, per_community=3)
    client = client_for("district")
    body = {**_body(places, items), "policy": "equity", "seed": SEED, "fingerprint": "0" * 64, **change}
    answer = _post(client, url, body)
    assert answer.status_code == 400, (answer.status_code, answer.content[:300])
    assert field in answer.json()["detail"], answer.json()
    assert not AllocationRound.objects.exists() and not RoundConfirmation.objects.exists()


def test_a_need_filed_after_the_preview_waits_for_the_next_round_instead_of_failing_the_queued_one(
        settings: Any) -> None:
    places, items = _random_world(23)
    client = client_for("district")
    preview = _post(client, PREVIEW, _body(places, items)).json()
    assert preview["needs_up_to"] == Need.objects.filter(
        pk__in=_open_needs(places, items)).order_by("-pk").values_list("pk", flat=True)[0]
    settings.CIVICGRID_RELIEF = {"background_requests": 1}
    queued = _post(client, CONFIRM, _confirm_body(preview, places, items, needs_up_to=preview["needs_up_to"]))
    assert queued.status_code == 202, queued.content
    _new_need(items)  # filed while the confirmation waits in the queue
    late = Need.objects.latest("pk")
    assert late.pk > preview["needs_up_to"] and _open_needs(places, items).filter(pk=late.pk).exists()

    jobs.run_round_confirmation(queued.json()["id"])
    done = client.get(queued.json()["url"]).json()
    assert (done["status"], done["reasons"]) == ("done", []), done
    made = AllocationRound.objects.get()
    assert (made.fingerprint, made.n_requests) == (preview["fingerprint"], preview["n_requests"])
    late.refresh_from_db()
    assert (late.status, late.allocated_quantity) == (Need.Status.OPEN, 0)
    assert not RoundAllocation.objects.filter(need_id=late.pk).exists()
    # the next preview counts it
    assert late.pk <= _post(client, PREVIEW, _body(places, items)).json()["needs_up_to"]


@pytest.mark.parametrize(("change", "field"), [({"fingerprint": ""}, "fingerprint"),
                                               ({"fingerprint": "f" * 65}, "fingerprint"),
                                               ({"needs_up_to": 0}, "needs_up_to"),
                                               ({"needs_up_to": -3}, "needs_up_to"),
                                               ({"needs_up_to": 2**63}, "needs_up_to"),
                                               ({"needs_up_to": 1.5}, "needs_up_to"),
                                               ({"needs_up_to": "the last"}, "needs_up_to")])
def test_the_confirmations_own_fields_are_bounded(change: dict[str, Any], field: str) -> None:
    places, items = _random_world(25, per_community=3)
    body = {**_body(places, items), "policy": "equity", "seed": SEED, "fingerprint": "0" * 64, **change}
    answer = _post(client_for("district"), CONFIRM, body)
    assert answer.status_code == 400 and field in answer.json()["detail"], answer.content


def test_a_selection_without_open_needs_previews_as_empty_and_is_not_confirmed() -> None:
    items = catalogue()
    places = [community("C01")]
    point_for(places[0])
    client = client_for("district")
    preview = _post(client, PREVIEW, _body(places, items)).json()
    assert (preview["n_requests"], preview["need_units"], preview["stock_units"], preview["background"]) == (
        0, 0, 0, False)
    assert [row["requests"] for row in preview["items"]] == [0] * len(items)
    assert [p["requests"] for p in preview["policies"]] == [0] * len(POLICIES)
    refused = _post(client, CONFIRM, _confirm_body(preview, places, items))
    assert refused.status_code == 400 and "no open needs" in str(refused.json()["detail"])
    assert not AllocationRound.objects.exists()


def test_rounds_and_confirmations_are_scoped_and_need_the_right() -> None:
    places, items = _random_world(26)
    c01 = [p for p in places if p.code.endswith("C01")]
    c02 = [p for p in places if p.code.endswith("C02")]
    user, scope = login("district")
    confirmations = {}
    for name, where in (("c01", c01), ("c02", c02)):
        preview = selectors.round_preview(scope=scope, seed=SEED, **_selection(where, items))
        confirmations[name] = services.round_confirmation_request(
            user=user, scope=scope, policy="equity", seed=SEED, fingerprint=preview.inputs.fingerprint,
            n_requests=len(preview.inputs.requests), **_selection(where, items))
    jobs.run_round_confirmation(confirmations["c02"].pk)
    c02_round = AllocationRound.objects.get()

    director = client_for("director")  # C01's: C02 looks absent
    assert director.get(f"/api/relief/rounds/confirmations/{confirmations['c01'].pk}").status_code == 200
    missing = director.get(f"/api/relief/rounds/confirmations/{confirmations['c02'].pk}")
    assert missing.status_code == 404 and missing.json()["detail"]
    assert director.get(f"/api/relief/rounds/{c02_round.pk}").status_code == 404
    assert [c["id"] for c in director.get("/api/relief/rounds/confirmations").json()] == [confirmations["c01"].pk]
    outside = _post(director, PREVIEW, _body(c02, items))  # a selection outside the area is bad input
    assert outside.status_code == 400 and "places" in outside.json()["detail"]

    for username in ("grid", "volunteer", "resident", "orgstaff"):
        client = client_for(username)
        for url in (f"/api/relief/rounds/confirmations/{confirmations['c01'].pk}", "/api/relief/rounds/confirmations",
                    f"/api/relief/rounds/{c02_round.pk}"):
            answer = client.get(url)
            assert answer.status_code == 403 and answer.json()["detail"], (username, url)
        for url in (PREVIEW, CONFIRM):
            answer = _post(client, url, _body(c01, items))
            assert answer.status_code == 403 and answer.json()["detail"], (username, url)
    assert RoundConfirmation.objects.count() == 2 and AllocationRound.objects.count() == 1


def test_openapi_documents_the_round_endpoints_and_their_bounds() -> None:
    schema = client_for("district").get("/api/openapi.json").json()
    for path in ("/api/relief/rounds/preview", "/api/relief/rounds/confirm", "/api/relief/rounds/confirmations",
                 "/api/relief/rounds/confirmations/{confirmation_id}", "/api/relief/rounds/{round_id}"):
        assert path in schema["paths"], path
    confirm = schema["paths"]["/api/relief/rounds/confirm"]["post"]
    assert {"201", "202", "400", "403", "409"} <= set(confirm["responses"])
    body = schema["components"]["schemas"]["RoundConfirmIn"]["properties"]
    assert body["places"]["maxItems"] == 10_000 and body["days"]["maximum"] == 30


def test_the_page_takes_the_same_decision_whatever_its_hidden_count_says(settings: Any) -> None:
    """The allocation page and the API share the decision (services.round_confirm_or_queue): a page posting a count
    of 0 (as its hidden field once did) still queues a round of ``background_requests`` waiting needs, and the
    confirmation shows the needs counted."""
    places, items = _random_world(27)
    client = client_for("district")
    preview = _post(client, PREVIEW, _body(places, items)).json()
    settings.CIVICGRID_RELIEF = {"background_requests": preview["n_requests"]}
    response = client.post("/relief/rounds/preview/", {
        "places": [p.pk for p in places], "items": [i.code for i in items.values()], "days": DAYS,
        "policy": "equity", "seed": preview["seed"], "fingerprint": preview["fingerprint"], "n_requests": 0})
    confirmation = RoundConfirmation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/relief/rounds/confirmations/{confirmation.pk}/"
    assert confirmation.n_requests == preview["n_requests"] + preview["skipped_no_point"]
    assert not AllocationRound.objects.exists()
