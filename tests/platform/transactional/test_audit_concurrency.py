"""Concurrent audit writers never fork the hash chain: threads with their own connections append at once,
each in its own transaction, and the chain afterwards is one line, every row in place (issue 11, finding 8).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict

import pytest
from django.db import connections, transaction

from civicgrid.core import audit
from civicgrid.core.auditchain import verify
from civicgrid.core.models import AuditChainHead, AuditLog
from civicgrid.registry.models import Place

pytestmark = pytest.mark.django_db(transaction=True)
THREADS, APPENDS = 8, 12


def test_concurrent_appends_keep_one_intact_chain() -> None:
    place = Place.objects.create(code="ZAUD", name="audit district", level="district", path="ZAUD/")
    before = AuditLog.objects.count()
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(APPENDS):
                with transaction.atomic():
                    audit.record(user=None, event="registry.household_updated", instance=place,
                                 old={"writer": n, "i": i}, new={"writer": n, "i": i + 1})
                    time.sleep(0.002)  # hold the chain a moment: the next writer must wait, not fork
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

    report = verify()
    assert report.intact, str(report)
    assert report.rows == AuditLog.objects.count() == before + THREADS * APPENDS
    seqs = list(AuditLog.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert AuditChainHead.objects.get().seq == len(seqs)
    # each writer's rows are in its own order, and the writers interleaved (the test really was concurrent)
    order: dict[int, list[int]] = defaultdict(list)
    writers = []
    for new in AuditLog.objects.filter(place_path="ZAUD/").order_by("seq").values_list("new", flat=True):
        order[new["writer"]].append(new["i"])
        writers.append(new["writer"])
    assert all(steps == list(range(1, APPENDS + 1)) for steps in order.values()) and len(order) == THREADS
    assert sum(a != b for a, b in zip(writers, writers[1:], strict=False)) > THREADS
