"""Stock: first expiry first out, a ledger that accounts for every unit, issues larger than the stock refused
whole, and offers from donors of every sector."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.utils import timezone

from civicgrid.core.errors import Conflict, Invalid
from civicgrid.core.models import AuditLog
from civicgrid.registry.models import Actor
from civicgrid.relief import services
from civicgrid.relief.models import DistributionPoint, Item, LedgerEntry, Lot, Offer
from tests.platform.relief_support import (
    catalogue,
    client_for,
    community,
    login,
    point_for,
    receive,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def setting() -> tuple[dict[str, Item], DistributionPoint]:
    items = catalogue()
    return items, point_for(community("C01"))


def _state() -> tuple[list[tuple[int, int]], int, int]:
    return list(Lot.objects.order_by("id").values_list("id", "quantity")), LedgerEntry.objects.count(), \
        AuditLog.objects.count()


def test_issue_takes_the_lot_that_expires_first_and_never_an_expired_one(
        setting: tuple[dict[str, Item], DistributionPoint],
) -> None:
    items, point = setting
    today = timezone.localdate()
    receive(items["food"], point, 30, expiry=today - timedelta(days=1))  # expired: never issued
    receive(items["food"], point, 10, expiry=None)  # no expiry: last
    receive(items["food"], point, 10, expiry=today + timedelta(days=10))
    receive(items["food"], point, 10, expiry=today + timedelta(days=3))  # first out
    expired, undated, later, sooner = Lot.objects.order_by("id")
    user, scope = login("director")
    entries = services.stock_issue(user=user, scope=scope, item="t-food", point_id=point.pk, quantity=15,
                                   reason="field kitchen")
    assert [(e.lot_id, e.quantity, e.balance_after) for e in entries] == [(sooner.pk, -10, 0), (later.pk, -5, 5)]
    left = dict(Lot.objects.values_list("id", "quantity"))
    assert left == {expired.pk: 30, undated.pk: 10, later.pk: 5, sooner.pk: 0}
    services.stock_issue(user=user, scope=scope, item="t-food", point_id=point.pk, quantity=15, reason="kitchen")
    assert dict(Lot.objects.values_list("id", "quantity")) == {expired.pk: 30, undated.pk: 0, later.pk: 0,
                                                                sooner.pk: 0}
    # the ledger of each lot sums to what is left in it, and every movement names who and why
    for lot in Lot.objects.all():
        assert lot.ledger.aggregate(n=Sum("quantity"))["n"] == lot.quantity
    assert set(LedgerEntry.objects.filter(kind="issue").values_list("user__username", flat=True)) == {"director"}


def test_an_issue_larger_than_the_stock_is_refused_and_nothing_is_written(
        setting: tuple[dict[str, Item], DistributionPoint],
) -> None:
    items, point = setting
    today = timezone.localdate()
    receive(items["water"], point, 12, expiry=today + timedelta(days=5))
    receive(items["water"], point, 8, expiry=None)
    receive(items["water"], point, 50, expiry=today - timedelta(days=2))  # expired units do not count
    user, scope = login("director")
    before = _state()
    with pytest.raises(services.InsufficientStock) as refused:
        services.stock_issue(user=user, scope=scope, item="t-water", point_id=point.pk, quantity=21, reason="x")
    assert "only 20" in str(refused.value) and "cannot issue 21" in str(refused.value)
    assert _state() == before

    client = client_for("director")
    api = client.post("/api/relief/stock/issue", json.dumps({"item": "t-water", "point_id": point.pk,
                                                             "quantity": 21, "reason": "x"}),
                      content_type="application/json")
    assert api.status_code == 409 and "only 20" in " ".join(api.json()["detail"]["quantity"])
    page = client.post("/relief/stock/", {"action": "issue", "issue-item": "t-water", "issue-point": point.pk,
                                          "issue-quantity": 21, "issue-reason": "x"}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 400
    assert "only 20" in page.content.decode().split('id="field-issue-quantity"')[1].split("</div>")[0]
    negative = client.post("/api/relief/stock/issue", json.dumps({"item": "t-water", "point_id": point.pk,
                                                                  "quantity": -1, "reason": "x"}),
                           content_type="application/json")
    assert negative.status_code == 400
    unknown = client.post("/api/relief/stock/issue", json.dumps({"item": "gold", "point_id": point.pk,
                                                                 "quantity": 1, "reason": "x"}),
                          content_type="application/json")
    assert unknown.status_code == 400 and "not in the catalogue" in unknown.content.decode()
    assert _state() == before
    assert client.post("/api/relief/stock/issue", json.dumps({"item": "t-water", "point_id": point.pk,
                                                              "quantity": 20, "reason": "x"}),
                       content_type="application/json").status_code == 200
    assert Lot.objects.filter(expiry__gte=today).aggregate(n=Sum("quantity"))["n"] == 0


def test_only_coordinators_issue_and_only_in_their_area(
        setting: tuple[dict[str, Item], DistributionPoint],
) -> None:
    items, point = setting
    other = point_for(community("C02"))
    receive(items["food"], point, 5)
    receive(items["food"], other, 5)
    body = {"item": "t-food", "point_id": point.pk, "quantity": 1, "reason": "x"}
    for username in ("grid", "volunteer", "resident", "orgstaff"):
        assert client_for(username).post("/api/relief/stock/issue", json.dumps(body),
                                      content_type="application/json").status_code == 403, username
    outside = client_for("director").post("/api/relief/stock/issue", json.dumps({**body, "point_id": other.pk}),
                                       content_type="application/json")
    assert outside.status_code == 400 and "no distribution point" in outside.content.decode()
    # a grid member sees the stock of the point serving their grid, not another community's
    page = client_for("grid").get("/relief/stock/").content.decode()
    assert point.name in page and other.name not in page


def test_an_offer_goes_pledged_received_inspected_in_stock_and_keeps_its_donor_sector(
        setting: tuple[dict[str, Item], DistributionPoint],
) -> None:
    items, point = setting
    shop = Actor.objects.filter(sector="capital", service_area__code="D01-S01-C01").order_by("code").first()
    user, scope = login("director")
    offer = services.offer_pledge(user=user, scope=scope, donor_id=shop.pk, item="t-food", quantity=100,
                                  point_id=point.pk, expiry=timezone.localdate() + timedelta(days=30))
    assert (offer.status, offer.donor_sector, offer.donor_kind) == ("pledged", "capital", shop.kind)
    with pytest.raises(Conflict):  # steps cannot be skipped
        services.offer_stock(user=user, scope=scope, offer_id=offer.pk)
    services.offer_receive(user=user, scope=scope, offer_id=offer.pk, quantity=90)
    with pytest.raises(Invalid):  # fewer accepted than received needs a reason
        services.offer_inspect(user=user, scope=scope, offer_id=offer.pk, accepted=80)
    with pytest.raises(Invalid):
        services.offer_inspect(user=user, scope=scope, offer_id=offer.pk, accepted=95, note="more than came")
    services.offer_inspect(user=user, scope=scope, offer_id=offer.pk, accepted=80, note="10 torn bags")
    assert not Lot.objects.exists()
    services.offer_stock(user=user, scope=scope, offer_id=offer.pk)
    offer.refresh_from_db()
    lot = Lot.objects.get()
    assert (offer.status, offer.received_quantity, offer.accepted_quantity) == ("in_stock", 90, 80)
    assert (lot.offer_id, lot.quantity, lot.expiry, lot.point_id) == (offer.pk, 80, offer.expiry, point.pk)
    assert list(lot.ledger.values_list("kind", "quantity", "offer_id")) == [("receipt", 80, offer.pk)]
    Actor.objects.filter(pk=shop.pk).update(sector="society")  # a later registry edit
    offer.refresh_from_db()
    assert offer.donor_sector == "capital"

    rejected = services.offer_pledge(user=user, scope=scope, donor_id=shop.pk, item="t-water", quantity=10,
                                     point_id=point.pk)
    services.offer_receive(user=user, scope=scope, offer_id=rejected.pk, quantity=10)
    services.offer_inspect(user=user, scope=scope, offer_id=rejected.pk, accepted=0, note="contaminated")
    assert Offer.objects.get(pk=rejected.pk).status == "rejected" and Lot.objects.count() == 1


def test_organisation_staff_pledge_for_their_own_organisation_only(
        setting: tuple[dict[str, Item], DistributionPoint],
) -> None:
    items, point = setting
    staff, scope = login("orgstaff")
    own = next(iter(scope.actor_ids))
    offer = services.offer_pledge(user=staff, scope=scope, donor_id=own, item="t-food", quantity=5,
                                  point_id=point.pk)
    assert offer.donor_sector == Actor.objects.get(pk=own).sector
    other = Actor.objects.exclude(pk=own).first()
    with pytest.raises(Invalid):
        services.offer_pledge(user=staff, scope=scope, donor_id=other.pk, item="t-food", quantity=5,
                              point_id=point.pk)
    with pytest.raises(PermissionDenied):  # receiving is the coordinators' act
        services.offer_receive(user=staff, scope=scope, offer_id=offer.pk, quantity=5)
    assert Offer.objects.get(pk=offer.pk).status == "pledged"


def test_the_offer_page_walks_the_steps(setting: tuple[dict[str, Item], DistributionPoint]) -> None:
    items, point = setting
    donor = Actor.objects.filter(sector="state").order_by("code").first()
    client = client_for("director")
    response = client.post("/relief/offers/", {"donor": donor.pk, "item": "t-water", "quantity": 40,
                                               "point": point.pk, "note": "from the district"})
    assert response.status_code == 302
    offer = Offer.objects.get()
    client.post(f"/relief/offers/{offer.pk}/next/", {"quantity": 40})
    client.post(f"/relief/offers/{offer.pk}/next/", {"quantity": 40})
    client.post(f"/relief/offers/{offer.pk}/next/", {})
    assert Offer.objects.get().status == "in_stock" and Lot.objects.get().quantity == 40
    page = client.get("/relief/stock/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "40" in page.split('id="stock-levels"')[1].split("</table>")[0]


def test_an_issue_locks_its_lots_in_id_order_as_a_round_does(
        setting: tuple[dict[str, Item], DistributionPoint],
) -> None:
    """Two writers locking the same lots in different orders can deadlock: a round locks them by id, so an issue
    does too (and still takes them first expiry first, the test above), never blocking a key check."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    items, point = setting
    receive(items["food"], point, 10, expiry=None)
    receive(items["food"], point, 10, expiry=timezone.localdate() + timedelta(days=3))
    user, scope = login("director")
    with CaptureQueriesContext(connection) as queries:
        services.stock_issue(user=user, scope=scope, item="t-food", point_id=point.pk, quantity=15, reason="kitchen")
    reads = [q["sql"] for q in queries.captured_queries
             if q["sql"].startswith("SELECT") and 'FROM "relief_lot"' in q["sql"] and "ORDER BY" in q["sql"]]
    # the lots locked in id order, then read in the order they are taken (first expiry first)
    assert len(reads) == 2 and reads[0].endswith(
        'ORDER BY "relief_lot"."id" ASC' + (" FOR NO KEY UPDATE OF \"relief_lot\"" if connection.vendor ==
                                           "postgresql" else "")), reads
    assert '"relief_lot"."expiry" ASC NULLS LAST' in reads[1] and "FOR " not in reads[1], reads
