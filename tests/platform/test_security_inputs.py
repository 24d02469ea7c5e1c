"""Issue 11, findings 4, 11 and 12: bounded numbers and text (service, API schema, database), and bad input is a
4xx with a reason, never a server error, and documented in the OpenAPI schema."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import DataError, IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from civicgrid.accounts.models import Role
from civicgrid.core.errors import Invalid
from civicgrid.core.limits import NOTE_CEILING, QUANTITY_CEILING, limit
from civicgrid.core.models import AuditLog
from civicgrid.registry.models import Household, Place
from civicgrid.relief import selectors, services
from civicgrid.relief.models import Item, Need, NeedFiling
from tests.platform.relief_support import (
    catalogue,
    client_for,
    grid_households,
    key,
    login,
    point_for,
    receive,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def items() -> dict[str, Item]:
    return catalogue()


def _counts() -> tuple[int, int, int]:
    return Need.objects.count(), NeedFiling.objects.count(), AuditLog.objects.count()


def _post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def _own_household() -> Household:
    household = Role.objects.get(user__username="resident").household
    assert household is not None
    return household


# --- finding 4: quantities ------------------------------------------------------------------------------
@pytest.mark.parametrize("quantity", [10**12, 2**31 - 1, limit("quantity") + 1])
def test_a_huge_need_quantity_is_refused_by_the_api_with_a_reason_and_nothing_is_written(
        items: dict[str, Item], quantity: int) -> None:
    before = _counts()
    response = _post(client_for("resident"), "/api/relief/needs",
                     {"item": "t-insulin", "quantity": quantity, "idempotency_key": key()})
    assert response.status_code == 400
    assert "at most" in " ".join(response.json()["detail"]["quantity"])
    assert _counts() == before


def test_the_service_refuses_a_huge_quantity_whoever_calls_it(items: dict[str, Item]) -> None:
    user, scope = login("grid")
    household = grid_households(limit=1)[0]
    before = _counts()
    for quantity in (10**12, limit("quantity") + 1):
        with pytest.raises(Invalid, match="at most"):
            services.need_file(user=user, scope=scope, household_id=household.pk, item="t-insulin",
                               quantity=quantity, key=key())
    # an item with a standard amount per person: at most what the household needs in 30 days
    most = items["water"].default_quantity(persons=max(1, household.size), days=30)
    with pytest.raises(Invalid, match=f"at most {most}"):
        services.need_file(user=user, scope=scope, household_id=household.pk, item="t-water",
                           quantity=most + 1, key=key())
    assert _counts() == before
    filing = services.need_file(user=user, scope=scope, household_id=household.pk, item="t-water",
                                quantity=most, key=key())
    # merging another filing never lets the outstanding quantity pass the limit
    again = services.need_file(user=user, scope=scope, household_id=household.pk, item="t-water",
                               quantity=most, key=key())
    assert again.merged and again.need.pk == filing.need.pk and Need.objects.get(pk=filing.need.pk).quantity == most


def test_the_database_refuses_a_quantity_above_its_ceiling(items: dict[str, Item]) -> None:
    household = grid_households(limit=1)[0]
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        Need.objects.create(household=household, category="medicine", item=items["insulin"],
                            quantity=QUANTITY_CEILING + 1, filed_at=now, updated_at=now, tier=0)


def test_an_attackers_huge_need_no_longer_grabs_the_stock(items: dict[str, Item]) -> None:
    """The issue's attack: a resident's need of 10^12 (or 2^31-1) units took 24 of 40 units under equity and
    all 40 under proportional and fcfs. Now it is refused, and the honest households share the 40."""
    grid = Place.objects.get(level="grid", code__endswith="C01-G01")
    point = point_for(grid)
    receive(items["insulin"], point, 40)
    attacker = _own_household()
    client = client_for("resident")
    for quantity in (10**12, 2**31 - 1):
        response = _post(client, "/api/relief/needs", {"item": "t-insulin", "quantity": quantity,
                                                         "urgency": "critical", "idempotency_key": key()})
        assert response.status_code == 400
    staff, staff_scope = login("grid")
    honest = [h for h in grid_households() if h.pk != attacker.pk][:10]
    for household in honest:
        services.need_file(user=staff, scope=staff_scope, household_id=household.pk, item="t-insulin",
                           quantity=4, key=key())
    _, scope = login("director")
    preview = selectors.round_preview(scope=scope, place_ids=[grid.pk], item_codes=["t-insulin"], days=3, seed=7)
    assert not Need.objects.filter(household=attacker).exists()
    for outcome in preview.outcomes:
        assert int(outcome.result["allocated"].sum()) == 40, outcome.policy
        assert int(outcome.result["allocated"].max()) <= 4, outcome.policy


@pytest.mark.parametrize("url, body, field", [
    ("/api/relief/stock/issue", {"item": "t-insulin", "point_id": 1, "quantity": 10**12, "reason": "x"}, "quantity"),
    ("/api/relief/stock/issue", {"item": "t-insulin", "point_id": 1, "quantity": 0, "reason": "x"}, "quantity"),
    ("/api/cases/cases/1/act", {"action": "rate", "rating": 10**12}, "rating"),
    ("/api/relief/needs", {"item": "t-insulin", "quantity": 1, "household_id": 10**30,
                           "idempotency_key": "k" * 10}, "household_id"),
])
def test_other_numbers_of_the_api_are_bounded_in_the_schema(items: dict[str, Item], url: str, body: Any,
                                                           field: str) -> None:
    response = _post(client_for("director"), url, body)
    assert response.status_code == 400, response.content
    assert field in response.json()["detail"]


def test_offers_and_stock_issues_refuse_huge_quantities_in_the_service(items: dict[str, Item]) -> None:
    user, scope = login("director")
    point = point_for(Place.objects.get(level="community", code__endswith="C01"))
    with pytest.raises(Invalid, match="at most"):
        services.stock_issue(user=user, scope=scope, item="t-food", point_id=point.pk, quantity=10**12, reason="x")
    with pytest.raises(Invalid, match="at most"):
        services.stock_receive(user=user, scope=scope, item=items["food"], point=point, quantity=10**12)


# --- finding 11: text -----------------------------------------------------------------------------------
def test_an_oversized_note_is_refused_by_the_api_and_the_service(items: dict[str, Item]) -> None:
    before = _counts()
    long_note = "x" * (limit("note_chars") + 1)
    response = _post(client_for("resident"), "/api/relief/needs",
                     {"item": "t-insulin", "quantity": 1, "note": long_note, "idempotency_key": key()})
    assert response.status_code == 400 and "at most 500 characters" in " ".join(response.json()["detail"]["note"])
    user, scope = login("grid")
    with pytest.raises(Invalid, match="at most 500 characters"):
        services.need_file(user=user, scope=scope, household_id=grid_households(limit=1)[0].pk, item="t-insulin",
                           quantity=1, key=key(), note=long_note)
    assert _counts() == before
    case = _post(client_for("resident"), "/api/cases/cases", {"category": "x", "description": "d" * 2001})
    assert case.status_code == 400 and "description" in case.json()["detail"]


def test_merged_notes_stay_bounded_and_the_need_page_stays_small(items: dict[str, Item]) -> None:
    """The issue: three API calls made one need's page 51 MB."""
    client = client_for("resident")
    need_id = None
    for i in range(12):
        note = f"{i:02d} " + "n" * (limit("note_chars") - 3)
        response = _post(client, "/api/relief/needs", {"item": "t-insulin", "quantity": 1, "note": note,
                                                         "idempotency_key": key()})
        assert response.status_code in (200, 201)
        need_id = response.json()["need"]["id"]
    need = Need.objects.get(pk=need_id)
    assert len(need.note) <= limit("merged_note_chars")
    assert need.note.splitlines()[-1].startswith("11 ")  # the newest note is kept, the oldest dropped
    page = client.get(f"/relief/needs/{need_id}/")
    assert page.status_code == 200 and len(page.content) < 200_000


def test_the_database_refuses_an_unbounded_note(items: dict[str, Item]) -> None:
    household = grid_households(limit=1)[0]
    now = timezone.now()
    # PostgreSQL: the column is varchar(4000) (DataError); SQLite: the check constraint (IntegrityError)
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        Need.objects.create(household=household, category="medicine", item=items["insulin"], quantity=1,
                            note="x" * (NOTE_CEILING + 1), filed_at=now, updated_at=now, tier=0)


# --- finding 12: server errors on bad input -------------------------------------------------------------
LISTS = ["/api/relief/needs", "/api/cases/cases", "/api/registry/places", "/api/registry/households",
         "/api/registry/residents", "/api/registry/actors", "/api/registry/people", "/api/registry/audit"]


@pytest.mark.parametrize("url", LISTS)
def test_an_oversized_offset_or_id_is_a_400_not_a_server_error(url: str) -> None:
    client = Client(raise_request_exception=False)
    client.login(username="director", password="civicgrid-demo")
    for offset in ("1" + "0" * 30, str(2**63), "-1"):
        response = client.get(url, {"offset": offset})
        assert response.status_code == 400, (url, offset, response.status_code)
        assert "offset" in response.json()["detail"]
    # a record id too large for the database (the audit log has no one-record operation: 404)
    assert client.get(url + "/" + "9" * 30).status_code == (404 if url.endswith("audit") else 400)
    assert client.get(url.replace("/api", "") + "/" + "9" * 30 + "/").status_code in (400, 404)


@pytest.mark.parametrize("method, url, data", [
    ("get", "/api/registry/households", {"q": "a\x00b"}),
    ("get", "/api/relief/needs", {"status": "\x00"}),
    ("post", "/api/relief/needs", json.dumps({"item": "t-insulin", "quantity": 1, "note": "a\x00b",
                                              "idempotency_key": "nul-key-0001"})),
    ("get", "/registry/households/", {"q": "\x00"}),
    ("post", "/relief/needs/new/", {"category": "medicine", "item": "t-insulin", "quantity": 1,
                                    "note": "a\x00", "idempotency_key": "nul-key-0002"}),
])
def test_nul_characters_are_refused_with_400(items: dict[str, Item], method: str, url: str, data: Any) -> None:
    client = Client(raise_request_exception=False)
    client.login(username="resident" if "needs" in url else "director", password="civicgrid-demo")
    before = _counts()
    if isinstance(data, str):
        response = client.post(url, data, content_type="application/json")
    else:
        response = getattr(client, method)(url, data)
    assert response.status_code == 400, response.status_code
    assert "NUL" in response.content.decode()
    assert _counts() == before


def test_a_literal_backslash_u0000_in_text_is_not_a_nul(items: dict[str, Item]) -> None:
    response = client_for("resident").post(
        "/api/relief/needs", json.dumps({"item": "t-insulin", "quantity": 1, "note": "C:\\u0000 path",
                                         "idempotency_key": key()}), content_type="application/json")
    assert response.status_code == 201 and Need.objects.get().note == "C:\\u0000 path"


def test_bad_numbers_on_pages_are_400(items: dict[str, Item]) -> None:
    client = Client(raise_request_exception=False)
    client.login(username="director", password="civicgrid-demo")
    community = Place.objects.get(level="community", code__endswith="C01")
    for value in ("abc", "9" * 40, "1.5"):
        assert client.get("/analytics/governance/", {"community": value}).status_code == 400
        response = client.get("/relief/rounds/preview/", {"places": community.pk, "items": "t-insulin", "days": 3,
                                                          "seed": value})
        assert response.status_code == 400, (value, response.status_code)


def test_the_openapi_schema_documents_every_4xx_and_the_business_rules() -> None:
    schema = client_for("director").get("/api/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"400", "401", "403", "404", "409"} <= codes, (method, path, codes)
    components = schema["components"]["schemas"]
    need = components["NeedIn"]["properties"]
    assert need["quantity"]["minimum"] == 1 and need["quantity"]["maximum"] == limit("quantity")
    assert need["note"]["maxLength"] == limit("note_chars")
    assert "8 to 64" in need["idempotency_key"]["description"] and need["idempotency_key"]["pattern"]
    offset = next(p for p in schema["paths"]["/api/relief/needs"]["get"]["parameters"] if p["name"] == "offset")
    assert offset["schema"]["maximum"] == limit("offset") and offset["schema"]["minimum"] == 0
