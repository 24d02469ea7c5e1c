"""Needs: who may file for whom, visible merging, idempotent submission, bad input, status for the resident."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from civicgrid.accounts.models import Role
from civicgrid.core.errors import Invalid
from civicgrid.core.models import AuditLog
from civicgrid.registry.models import Household
from civicgrid.relief import services
from civicgrid.relief.models import Item, Need, NeedFiling
from tests.platform.relief_support import catalogue, client_for, grid_households, key, login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def items() -> dict[str, Item]:
    return catalogue()


def _counts() -> tuple[int, int, int]:
    return Need.objects.count(), NeedFiling.objects.count(), AuditLog.objects.count()


def _api_file(client: Client, **body: object) -> Any:
    return client.post("/api/relief/needs", json.dumps(body), content_type="application/json")


def test_resident_files_for_own_household_and_sees_status_with_expected_time(items: dict[str, Item]) -> None:
    resident = Role.objects.get(user__username="resident")
    client = client_for("resident")
    form = client.get("/relief/needs/new/")
    assert form.status_code == 200 and b'name="household"' not in form.content  # own household only
    before = timezone.now()
    response = client.post("/relief/needs/new/", {"category": "water", "item": "", "quantity": 6, "urgency": "urgent",
                                                  "note": "no lift", "idempotency_key": key()})
    need = Need.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/relief/needs/{need.pk}/"
    assert need.household_id == resident.household_id and need.item == items["water"]  # the category's one item
    assert need.filings.get().channel == "self"

    page = client.get("/relief/my-needs/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Waiting for the next allocation round" in page
    expected = timezone.localtime(need.filed_at + timedelta(hours=24))  # "urgent": within a day
    assert expected >= timezone.localtime(before) + timedelta(hours=24) - timedelta(minutes=1)
    assert expected.strftime("%Y-%m-%d %H:%M") in page
    api = client.get(f"/api/relief/needs/{need.pk}").json()
    assert api["status"] == "open" and api["expected_at"] is not None


def test_a_second_open_need_of_the_same_household_and_item_is_merged_visibly(items: dict[str, Item]) -> None:
    household = Household.objects.get(pk=Role.objects.get(user__username="resident").household_id)
    grid_user, grid_scope = login("grid")
    resident_user, resident_scope = login("resident")
    first = services.need_file(user=grid_user, scope=grid_scope, household_id=household.pk, item="t-food",
                               quantity=5, key=key(), channel="phone", note="called in")
    second = services.need_file(user=resident_user, scope=resident_scope, household_id=household.pk,
                                item="t-food", quantity=8, urgency="urgent", key=key(), note="two more people")
    assert not first.merged and second.merged and second.need.pk == first.need.pk
    need = Need.objects.get(household=household, item=items["food"])
    assert (need.quantity, need.urgency) == (8, "urgent")
    assert need.note.splitlines() == ["called in", "two more people"]
    filings = list(need.filings.order_by("id").values_list("channel", "quantity", "merged", "quantity_before",
                                                              "quantity_after"))
    assert filings == [("phone", 5, False, 0, 5), ("self", 8, True, 5, 8)]
    # a smaller later filing never lowers what is outstanding
    services.need_file(user=grid_user, scope=grid_scope, household_id=household.pk, item="t-food", quantity=2,
                       key=key())
    assert Need.objects.get(pk=need.pk).quantity == 8
    # a different item of the same category is a different need (insulin is not a medicine pack)
    services.need_file(user=grid_user, scope=grid_scope, household_id=household.pk, item="t-insulin", quantity=1,
                       key=key())
    services.need_file(user=grid_user, scope=grid_scope, household_id=household.pk, item="t-medicine",
                       quantity=1, key=key())
    assert Need.objects.filter(household=household, category="medicine").count() == 2
    page = client_for("grid").get(f"/relief/needs/{need.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "merged: 5 → 8" in page


def test_a_resubmitted_form_or_api_call_makes_one_record(items: dict[str, Item]) -> None:
    household = grid_households(limit=1)[0]
    client = client_for("grid")
    data = {"household": household.code, "category": "food", "item": "t-food", "quantity": 4, "urgency": "normal",
            "channel": "visit", "note": "", "idempotency_key": key()}
    assert client.post("/relief/needs/new/", data).status_code == 302
    again = client.post("/relief/needs/new/", data, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "already sent" in again.content.decode()
    assert (Need.objects.count(), NeedFiling.objects.count()) == (1, 1)
    assert Need.objects.get().quantity == 4  # not merged with itself

    body = {"household_id": household.pk, "item": "t-water", "quantity": 9, "idempotency_key": key()}
    created, replayed = _api_file(client, **body), _api_file(client, **body)
    assert (created.status_code, replayed.status_code) == (201, 200)
    assert replayed.json()["replayed"] and replayed.json()["need"]["id"] == created.json()["need"]["id"]
    assert (Need.objects.count(), NeedFiling.objects.count()) == (2, 2)
    header = client.post("/api/relief/needs", json.dumps({"household_id": household.pk, "item": "t-medicine",
                                                          "quantity": 1}), content_type="application/json",
                         HTTP_IDEMPOTENCY_KEY=body["idempotency_key"])
    assert header.status_code == 400 and "already used" in header.content.decode()  # one key, one need


@pytest.mark.parametrize("change, field, reason", [
    ({"household_id": 987_654_321}, "household_id", "no household 987654321"),
    ({"quantity": -3}, "quantity", "at least 1"),
    ({"quantity": 0}, "quantity", "at least 1"),
    ({"item": "caviar"}, "item", "'caviar' is not in the catalogue"),
    ({"urgency": "whenever"}, "urgency",
     "not one of the values allowed: 'critical', 'urgent', 'normal', got \"whenever\""),
    ({"idempotency_key": ""}, "idempotency_key", "idempotency key"),
])
def test_bad_input_is_refused_with_a_reason_and_nothing_is_written(
        items: dict[str, Item], change, field, reason,
) -> None:
    household = grid_households(limit=1)[0]
    body = {"household_id": household.pk, "item": "t-food", "quantity": 3, "idempotency_key": key(), **change}
    before = _counts()
    response = _api_file(client_for("grid"), **body)
    assert response.status_code == 400
    assert reason in " ".join(response.json()["detail"][field])
    assert _counts() == before


def test_the_form_shows_a_bad_quantity_next_to_the_field_and_writes_nothing(items: dict[str, Item]) -> None:
    household = grid_households(limit=1)[0]
    before = _counts()
    response = client_for("grid").post("/relief/needs/new/", {
        "household": household.code, "category": "food", "item": "t-food", "quantity": -2, "urgency": "normal",
        "channel": "phone", "idempotency_key": key()}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    field = response.content.decode().split('id="field-quantity"')[1].split('class="field"')[0]
    assert "errorlist" in field and "greater than or equal to 1" in field
    unknown = client_for("grid").post("/relief/needs/new/", {
        "household": "NO-SUCH-CODE", "category": "food", "item": "t-food", "quantity": 2, "urgency": "normal",
        "channel": "phone", "idempotency_key": key()}, HTTP_ACCEPT_LANGUAGE="en")
    assert "No household with this code" in unknown.content.decode().split('id="field-household"')[1]
    assert _counts() == before


def test_who_may_file_for_whom(items: dict[str, Item]) -> None:
    own_grid = grid_households("C01-G01", limit=1)[0]
    other_grid = grid_households("C01-G02", limit=1)[0]
    other_community = grid_households("C02-G01", limit=1)[0]
    resident_household = Role.objects.get(user__username="resident").household_id

    def status(username: str, household: int) -> int:
        return _api_file(client_for(username), household_id=household, item="t-food", quantity=1,
                         idempotency_key=key()).status_code

    assert status("grid", own_grid.pk) == 201
    assert status("grid", other_grid.pk) == 400  # outside the grid member's grid
    assert status("director", other_grid.pk) == 201
    assert status("director", other_community.pk) == 400
    assert status("resident", own_grid.pk if own_grid.pk != resident_household else other_grid.pk) == 400
    assert status("resident", resident_household) == 201
    assert status("volunteer", own_grid.pk) == 400  # volunteers deliver; they do not speak for households
    assert status("orgstaff", own_grid.pk) == 400


def test_the_household_or_its_staff_may_cancel_an_open_need_and_nobody_else(items: dict[str, Item]) -> None:
    household_id = Role.objects.get(user__username="resident").household_id
    user, scope = login("resident")
    need = services.need_file(user=user, scope=scope, household_id=household_id, item="t-food", quantity=2,
                              key=key()).need
    for username in ("volunteer", "orgstaff"):
        other, other_scope = login(username)
        with pytest.raises(Need.DoesNotExist):
            services.need_cancel(user=other, scope=other_scope, need_id=need.pk)
    assert client_for("resident").post(f"/relief/needs/{need.pk}/cancel/").status_code == 302
    assert Need.objects.get(pk=need.pk).status == "cancelled"
    with pytest.raises(Invalid):  # only once
        services.need_cancel(user=user, scope=scope, need_id=need.pk)


def test_lists_are_scoped_like_the_registry(items: dict[str, Item]) -> None:
    district, district_scope = login("district")
    filed = {}
    for suffix in ("C01-G01", "C01-G02", "C02-G01"):
        household = grid_households(suffix, limit=1)[0]
        filed[suffix] = services.need_file(user=district, scope=district_scope, household_id=household.pk,
                                           item="t-food", quantity=2, key=key()).need.pk

    def visible(username: str) -> set[int]:
        return {n["id"] for n in client_for(username).get("/api/relief/needs").json()}

    assert visible("grid") == {filed["C01-G01"]}
    assert visible("director") == {filed["C01-G01"], filed["C01-G02"]}
    assert visible("district") == set(filed.values())
    assert visible("volunteer") == set() and visible("orgstaff") == set()
    assert client_for("grid").get(f"/api/relief/needs/{filed['C02-G01']}").status_code == 404
    page = client_for("grid").get("/relief/needs/").content.decode()
    assert grid_households("C01-G01", limit=1)[0].code in page
    assert grid_households("C01-G02", limit=1)[0].code not in page


def test_the_standard_quantity_comes_from_the_catalogue_and_the_household_size(
        items: dict[str, Item],
) -> None:
    household = grid_households(limit=1)[0]
    client = client_for("grid")
    client.post("/relief/needs/new/", {"household": household.code, "category": "water", "urgency": "normal",
                                       "channel": "phone", "idempotency_key": key()})
    # Sphere: 15 L per person per day, 3 days (the round's default), in 5 L bottles
    assert Need.objects.get().quantity == max(1, household.size) * 15 * 3 // 5
    refused = client.post("/relief/needs/new/", {"household": household.code, "category": "medicine",
                                                 "item": "t-medicine", "urgency": "normal", "channel": "phone",
                                                 "idempotency_key": key()})
    assert refused.status_code == 400 and "no standard amount" in refused.content.decode()


def test_chinese_readers_get_chinese_reasons_and_pages(items: dict[str, Item]) -> None:
    household = grid_households(limit=1)[0]
    client = client_for("grid", language="zh-hans")
    refused = _api_file(client, household_id=household.pk, item="caviar", quantity=1, idempotency_key=key())
    assert refused.status_code == 400 and "不在物资目录中" in refused.json()["detail"]["item"][0]
    assert _api_file(client, household_id=household.pk, item="t-food", quantity=1,
                     idempotency_key=key()).status_code == 201
    page = client.get("/relief/needs/").content.decode()
    assert "登记需求" in page and "口粮" in page


def test_openapi_documents_the_relief_endpoints() -> None:
    schema = client_for("director").get("/api/openapi.json").json()
    for path in ("/api/relief/needs", "/api/relief/tasks/{task_id}/claim", "/api/relief/stops/{stop_id}/deliver",
                 "/api/relief/stops/{stop_id}/fail", "/api/relief/stock/issue"):
        assert path in schema["paths"], path
