"""The set-based reference checks of a round's rows (relief migration 0004) under real concurrency, on PostgreSQL:
a row written while another transaction deletes the row it refers to leaves no orphan, whichever comes first. The
insert's check locks the referred row (``FOR KEY SHARE``, as a foreign key's check does): a delete waits for the
inserting transaction and then fails; an insert waits for a deleting transaction and then fails."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from django.db import IntegrityError, connection, connections, transaction

from civicgrid.relief.models import AllocationRound, DistributionPoint, RoundAllocation
from tests.platform.transactional.test_relief_concurrency import _world

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's reference triggers"),
]

COLUMNS = ("round_id", "need_id", "household_id", "item_id", "point_id", "quantity", "need_quantity", "floor", "tier",
           "weight", "stock_coverage", "explanation", "stop_id")
HOLD = 0.6  # seconds the first transaction stays open after its write


def _template() -> tuple[dict[str, Any], DistributionPoint]:
    """An allocation's values for a twin round of its own (committed), and a distribution point nobody refers to."""
    _tasks, _users, _item, point = _world(buildings=1, volunteers=0)
    allocation = RoundAllocation.objects.filter(point=point).first()
    assert allocation is not None
    twin = AllocationRound.objects.get(pk=allocation.round_id)
    twin.pk = None
    twin.save()
    values = {c: getattr(allocation, c) for c in COLUMNS}
    values["round_id"] = twin.pk
    spare = DistributionPoint.objects.create(code=f"dp-{uuid.uuid4().hex[:8]}", name="spare", place=point.place)
    return values, spare


def _insert(values: dict[str, Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO relief_roundallocation ({', '.join(COLUMNS)}) "  # noqa: S608
                       f"VALUES ({', '.join('%s' for _ in COLUMNS)})", [values[c] for c in COLUMNS])


def _delete(point_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM relief_distributionpoint WHERE id = %s", [point_id])


def _both(first: Any, second: Any) -> tuple[Any, Any, float]:
    """``first`` writes in a transaction it keeps open for HOLD seconds; ``second`` starts once it wrote. Each
    result is None or the exception; also how long ``second`` took."""
    wrote = threading.Event()
    results: list[Any] = [None, None]
    took: list[float] = [0.0]

    def one() -> None:
        try:
            with transaction.atomic():
                first()
                wrote.set()
                time.sleep(HOLD)
        except Exception as exc:  # asserted on by the test
            results[0] = exc
        finally:
            wrote.set()
            connections.close_all()

    def two() -> None:
        try:
            assert wrote.wait(timeout=60)
            start = time.perf_counter()
            try:
                with transaction.atomic():
                    second()
            finally:
                took[0] = time.perf_counter() - start
        except Exception as exc:  # asserted on by the test
            results[1] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one), threading.Thread(target=two)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results[0], results[1], took[0]


def test_a_delete_waits_for_the_insert_that_refers_to_its_row_and_then_fails() -> None:
    values, spare = _template()
    inserted, deleted, waited = _both(lambda: _insert({**values, "point_id": spare.pk}), lambda: _delete(spare.pk))
    assert inserted is None
    assert isinstance(deleted, IntegrityError) and "referred to" in str(deleted), deleted
    assert waited >= HOLD / 2  # it waited for the inserting transaction's lock
    assert DistributionPoint.objects.filter(pk=spare.pk).exists()
    assert RoundAllocation.objects.filter(point_id=spare.pk).count() == 1


def test_an_insert_waits_for_the_delete_of_the_row_it_refers_to_and_then_fails() -> None:
    values, spare = _template()
    deleted, inserted, waited = _both(lambda: _delete(spare.pk), lambda: _insert({**values, "point_id": spare.pk}))
    assert deleted is None
    assert isinstance(inserted, IntegrityError) and "point_id" in str(inserted), inserted
    assert waited >= HOLD / 2
    assert not DistributionPoint.objects.filter(pk=spare.pk).exists()
    assert not RoundAllocation.objects.filter(point_id=spare.pk).exists()
