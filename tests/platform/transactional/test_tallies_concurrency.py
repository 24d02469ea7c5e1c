"""Tallies under concurrent writers (issue 15): residents of one grid acknowledging one alert at the same
moment, each in their own transaction, leave one cell for the alert's grid that counts every one of them
(without the lock on the tally's state both writers delete the old cell and each inserts its own); and the
tally's lock queues a recount ahead of adders that come after it."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.utils import timezone

from civicgrid.accounts.models import Role
from civicgrid.accounts.roles import scope_for
from civicgrid.alerts import services as alerts
from civicgrid.alerts.models import Delivery
from civicgrid.core import tallies
from civicgrid.core.models import TallyRow
from civicgrid.core.scoping import PLATFORM
from civicgrid.registry import services as registry
from civicgrid.registry.models import Place

pytestmark = pytest.mark.django_db(transaction=True)
RESIDENTS = 6


def _place(code: str, level: str, parent: Place | None) -> Place:
    return Place.objects.create(code=code, name=code, level=level, parent=parent,
                                path=(parent.path if parent else "") + code + "/")


def test_residents_acknowledging_at_once_leave_one_cell_counting_them_all() -> None:
    tag = uuid.uuid4().hex[:6].upper()
    district = _place(f"ZT{tag}", "district", None)
    community = _place(f"{district.code}-C", "community", _place(f"{district.code}-S", "subdistrict", district))
    grid = _place(f"{community.code}-G", "grid", community)
    building = _place(f"{grid.code}-B", "building", grid)
    households = [registry.household_create(user=None, scope=PLATFORM, code=f"{grid.code}-H{i}", address=f"{i}",
                                            building=building, housing_type="commodity") for i in range(RESIDENTS)]
    alert = alerts.alert_publish(user=None, scope=PLATFORM, area=community, headline_zh="预警", channels=["sms"])
    Delivery.objects.bulk_create([Delivery(alert=alert, channel="sms", household=h, next_attempt_at=timezone.now())
                                  for h in households if not Delivery.objects.filter(alert=alert, household=h).exists()])
    tallies.rebuild("alerts.reach")
    users = []
    for i, household in enumerate(households):
        account = get_user_model().objects.create(username=f"race-{tag}-{i}")
        Role.objects.create(user=account, role="resident", household=household, identity_clearance=True)
        users.append(account)
    barrier = threading.Barrier(RESIDENTS)
    errors: list[BaseException] = []

    def acknowledge(account: Any) -> None:
        try:
            barrier.wait()
            alerts.alert_acknowledge(user=account, scope=scope_for(account), alert=alert)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=acknowledge, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    cells = list(TallyRow.objects.filter(name="alerts.reach", part=str(alert.pk), grid_id=grid.pk)
                 .values_list("m0", "m1"))
    assert cells == [(RESIDENTS, RESIDENTS)]  # one cell: every household targeted, every one acknowledged


def test_two_recounts_of_one_cell_at_once_leave_one_cell() -> None:
    """The tally's own guarantee, without the service's other locks (acknowledging also updates the
    alert's row, which alone makes those writers take turns): two transactions each record an
    acknowledgement and recount the same cell at the same moment."""
    from django.db import connection, transaction

    from civicgrid.alerts.models import Acknowledgement

    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time: the second would wait for the first's write lock")
    tag = uuid.uuid4().hex[:6].upper()
    district = _place(f"ZR{tag}", "district", None)
    community = _place(f"{district.code}-C", "community", _place(f"{district.code}-S", "subdistrict", district))
    grid = _place(f"{community.code}-G", "grid", community)
    building = _place(f"{grid.code}-B", "building", grid)
    households = [registry.household_create(user=None, scope=PLATFORM, code=f"{grid.code}-H{i}", address=f"{i}",
                                            building=building, housing_type="commodity") for i in range(2)]
    alert = alerts.alert_publish(user=None, scope=PLATFORM, area=community, headline_zh="预警", channels=["sms"])
    Delivery.objects.bulk_create([Delivery(alert=alert, channel="sms", household=h, next_attempt_at=timezone.now())
                                  for h in households if not Delivery.objects.filter(alert=alert, household=h).exists()])
    tallies.rebuild("alerts.reach")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def write(household: Any) -> None:
        try:
            with transaction.atomic():
                Acknowledgement.objects.create(alert=alert, household=household)
                barrier.wait(timeout=30)
                tallies.refresh("alerts.reach", parts=[alert.pk], grids=[grid.pk])
                time.sleep(0.3)  # hold the transaction: the other recount runs meanwhile, or waits
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(h,)) for h in households]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    cells = list(TallyRow.objects.filter(name="alerts.reach", part=str(alert.pk), grid_id=grid.pk)
                 .values_list("m0", "m1"))
    assert cells == [(2, 2)]


def test_a_waiting_recount_is_not_overtaken_by_later_additions() -> None:
    """The tally's lock (``core.locking.named_lock``) queues its waiters in order: while one adder holds it in
    share mode and a recount waits to hold it exclusively, a later adder waits behind the recount instead of
    joining the first (a row's ``FOR SHARE`` would let it in, and a stream of filings could keep a recount, a
    cancellation or a delivery waiting for seconds). Adders do not wait for one another. Each step is observed in
    PostgreSQL's lock table."""
    from django.db import connection, transaction

    from civicgrid.core.locking import named_lock

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no shared locks: one writer at a time")
    name = f"test-queue-{uuid.uuid4().hex}"
    release = threading.Event()
    order: list[str] = []
    errors: list[BaseException] = []

    def hold(label: str, *, shared: bool, until: threading.Event | None = None) -> None:
        try:
            with transaction.atomic():
                named_lock(name, shared=shared)
                order.append(label)
                if until is not None:
                    until.wait(timeout=30)
        except BaseException as exc:  # recorded, asserted on below
            errors.append(exc)
        finally:
            connections.close_all()

    def advisory(granted: bool) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted = %s "
                           "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                           [granted])
            return int(cursor.fetchone()[0])

    def until_waiting(n: int) -> None:
        for _ in range(300):
            if advisory(False) == n:
                return
            time.sleep(0.02)
        raise AssertionError(f"expected {n} waiting for the lock, found {advisory(False)}")

    first = threading.Thread(target=hold, args=("first adder",), kwargs={"shared": True, "until": release})
    second = threading.Thread(target=hold, args=("second adder",), kwargs={"shared": True, "until": release})
    first.start()
    second.start()
    for _ in range(300):  # adders do not wait for one another: both hold it at once
        if len(order) == 2:
            break
        time.sleep(0.02)
    assert sorted(order) == ["first adder", "second adder"] and advisory(False) == 0
    recount = threading.Thread(target=hold, args=("recount",), kwargs={"shared": False})
    recount.start()
    until_waiting(1)
    later = threading.Thread(target=hold, args=("later adder",), kwargs={"shared": True})
    later.start()
    until_waiting(2)  # the later adder waits too: it has not joined the first one
    assert len(order) == 2
    release.set()
    for thread in (first, second, recount, later):
        thread.join(timeout=30)
    assert not errors, errors
    assert order[2:] == ["recount", "later adder"]
