"""The group-commit mechanism on its own (civicgrid.core.groupcommit), with real threads and a stand-in
writer: every caller gets its own item's result once its batch is written, an item's refusal reaches only
its caller, callers waiting at the same moment share a batch, and a leader that dies never leaves the others
waiting. (Need filings through it, against the database: test_relief_intake_batch.py and the transactional
surge test.)"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from civicgrid.core.groupcommit import GroupCommit


def _run_threads(group: GroupCommit[int, int], items: list[int]) -> dict[int, object]:
    outcomes: dict[int, object] = {}
    barrier = threading.Barrier(len(items))

    def caller(item: int) -> None:
        barrier.wait(timeout=10)
        try:
            outcomes[item] = group.submit(item)
        except BaseException as exc:  # noqa: BLE001 - the outcome under test
            outcomes[item] = exc

    threads = [threading.Thread(target=caller, args=(i,)) for i in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a caller was left waiting"
    return outcomes


def test_callers_waiting_together_share_a_batch_and_each_gets_its_own_result() -> None:
    batches: list[list[int]] = []

    def write_many(items: Sequence[int]) -> list[int | Exception]:
        batches.append(list(items))
        time.sleep(0.02)  # a commit: others queue up meanwhile
        return [ValueError(f"refused {i}") if i % 7 == 0 else i * 10 for i in items]

    group: GroupCommit[int, int] = GroupCommit(write_many, max_batch=8)
    outcomes = _run_threads(group, list(range(1, 33)))
    for item in range(1, 33):
        if item % 7 == 0:
            assert isinstance(outcomes[item], ValueError) and str(outcomes[item]) == f"refused {item}"
        else:
            assert outcomes[item] == item * 10
    assert sorted(i for b in batches for i in b) == list(range(1, 33))  # each written exactly once
    assert len(batches) < 32 and max(len(b) for b in batches) <= 8  # shared, within the cap
    assert group.batches == len(batches) and group.items == 32


def test_a_leader_that_stops_hands_its_batch_an_error_and_the_rest_go_on() -> None:
    calls = 0

    def write_many(items: Sequence[int]) -> list[int | Exception]:
        nonlocal calls
        calls += 1
        time.sleep(0.02)
        if calls == 1:
            raise KeyboardInterrupt  # the process is told to stop mid-write
        return [i for i in items]

    group: GroupCommit[int, int] = GroupCommit(write_many)
    outcomes = _run_threads(group, list(range(12)))
    stopped = [i for i, o in outcomes.items() if isinstance(o, KeyboardInterrupt)]
    told = [i for i, o in outcomes.items() if isinstance(o, RuntimeError)]
    written = [i for i, o in outcomes.items() if o == i]
    assert len(stopped) == 1  # the leader itself
    assert sorted(stopped + told + written) == list(range(12))  # nobody hangs, nobody is written twice


@pytest.mark.django_db
def test_inside_a_transaction_the_write_is_inline() -> None:
    from django.db import transaction

    threads_seen: list[int] = []

    def write_many(items: Sequence[int]) -> list[int | Exception]:
        threads_seen.append(threading.get_ident())
        return list(items)

    group: GroupCommit[int, int] = GroupCommit(write_many)
    with transaction.atomic():
        assert group.submit(5) == 5
    assert threads_seen == [threading.get_ident()] and group.batches == 0  # never queued
