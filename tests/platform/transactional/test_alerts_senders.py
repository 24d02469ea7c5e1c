"""Two senders draining one outbox at once (issue 15: several workers of the job queue send a district-wide
alert together), each on its own database connection, against one gateway (a real HTTP server on
127.0.0.1): every delivery is sent exactly once (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite: the claim
statement holds the write lock), both senders did part of the work, and together they keep to the gateway's
limit (their slots come from one budget row in the database)."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from typing import Any

import pytest
from django.db import connections

from civicgrid.alerts import services as alerts
from civicgrid.alerts.models import Delivery
from civicgrid.alerts.outbox import OutboxResult, alerts_outbox_drain
from civicgrid.core.scoping import PLATFORM
from civicgrid.registry import services as registry
from civicgrid.registry.models import Place
from tests.platform.fake_gateway import FakeGateway, serve_gateway  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db(transaction=True)
HOUSEHOLDS = 160
RATE = 60  # messages per second, for both senders together


def _place(code: str, level: str, parent: Place | None) -> Place:
    return Place.objects.create(code=code, name=code, level=level, parent=parent,
                                path=(parent.path if parent else "") + code + "/")


def test_two_senders_never_send_one_delivery_twice_and_keep_the_limit_together(settings, gateway) -> None:  # type: ignore[no-untyped-def]
    settings.CIVICGRID_SMS_GATEWAY = {**settings.CIVICGRID_SMS_GATEWAY, "batch_size": 10, "rate": RATE}
    settings.CIVICGRID_SMS_CONCURRENCY = 4
    tag = uuid.uuid4().hex[:6].upper()
    district = _place(f"ZS{tag}", "district", None)
    community = _place(f"{district.code}-C", "community", _place(f"{district.code}-S", "subdistrict", district))
    building = _place(f"{community.code}-G-B", "building", _place(f"{community.code}-G", "grid", community))
    phones = [f"139{i:08d}" for i in range(HOUSEHOLDS)]
    for i, phone in enumerate(phones):
        registry.household_create(user=None, scope=PLATFORM, code=f"{building.code}-H{i}", address=f"{i}",
                                  building=building, housing_type="commodity", contact_phone=phone)
    alert = alerts.alert_publish(user=None, scope=PLATFORM, area=community, headline_zh="两路发送", channels=["sms"])
    assert Delivery.objects.filter(alert=alert).count() == HOUSEHOLDS
    barrier = threading.Barrier(2)
    results: list[OutboxResult] = []
    errors: list[BaseException] = []

    def sender() -> None:
        try:
            barrier.wait()
            results.append(alerts_outbox_drain(gateway=gateway, limit=20, budget_seconds=120))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # the senders drain the whole outbox: other tests' alerts may have left deliveries waiting in this database
    ours = set(phones)
    assert Counter({n: c for n, c in FakeGateway.numbers().items() if n in ours}) == Counter(phones)  # each once
    assert sorted(r.sent for r in results)[0] > 0 and sum(r.sent for r in results) >= HOUSEHOLDS  # both sent
    states: Any = Counter(Delivery.objects.filter(alert=alert).values_list("state", "attempts"))
    assert states == {("sent", 1): HOUSEHOLDS}
    arrivals = sorted(t for t, batch in FakeGateway.requests for _ in batch)
    worst = max(sum(1 for t in arrivals[i:] if t < start + 1.0) for i, start in enumerate(arrivals))
    assert worst <= RATE  # the two senders together, counted on arrival at the gateway
