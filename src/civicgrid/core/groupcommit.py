"""Group commit: writes that arrive together in one server process are committed together.

In a surge every household files at once. Written one transaction each, every filing pays for its own
BEGIN, row locks, audit-chain head and COMMIT, and the chain's head (one row, locked by every audited
write to the commit) lets only one of them through at a time. :class:`GroupCommit` makes the requests that
are waiting at the same moment share one transaction, the way databases group their log flushes:

- each request thread queues its item and then waits for the process's one *writer* lock;
- the thread that gets the lock (the leader) takes every item queued so far (at most ``max_batch``) and
  writes them with ``write_many`` in its own connection, then hands each waiting thread its own result;
- a thread whose item was written by an earlier leader finds its result and goes; the next one leads.

Nobody waits for a timer: when requests come one at a time, each is a batch of one, written at once; under
load the batch is whatever queued while the previous one was committing. A result is handed back only
after its batch committed, so an acknowledged write is never lost (a process killed mid-batch loses only
unacknowledged ones, which their clients send again). A failure of one item is that item's error, not the
batch's: ``write_many`` returns an exception in its place (see :func:`civicgrid.relief.intake.need_file_many`).

Only a caller outside any transaction may join a group: a write inside the caller's own transaction must
commit or roll back with it, so it is written inline (``write_many`` of that one item, in the caller's
thread). The test client, management commands and the synchronous server's one request at a time therefore
see exactly the single-item path; threaded servers (``civicgrid serve``, gunicorn's gthread workers) group.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db import transaction

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Slot(Generic[T, R]):
    item: T
    done: bool = False
    result: R | None = None
    error: Exception | None = None


class GroupCommit(Generic[T, R]):
    """Commit items queued at the same moment in this process together; see the module's docstring.

    ``write_many(items)`` writes a batch in one transaction of the calling thread's connection and returns one
    result per item, in order: the result, or the exception that item raises to its caller.
    """

    def __init__(self, write_many: Callable[[Sequence[T]], list[R | Exception]], *, max_batch: int = 64) -> None:
        self._write_many = write_many
        self.max_batch = max_batch
        self._queue: list[_Slot[T, R]] = []
        self._queue_lock = threading.Lock()
        self._writer = threading.Lock()
        self.batches = 0  # counters for the benchmark and the tests
        self.items = 0

    def submit(self, item: T) -> R:
        """Write ``item`` (grouped with others when possible) and return its result or raise its error."""
        if transaction.get_connection().in_atomic_block:
            return _unwrap(self._write_many([item])[0])
        slot: _Slot[T, R] = _Slot(item)
        with self._queue_lock:
            self._queue.append(slot)
        while not slot.done:
            with self._writer:
                if slot.done:  # an earlier leader wrote it
                    break
                with self._queue_lock:
                    batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
                self._write(batch)
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    def _write(self, batch: list[_Slot[T, R]]) -> None:
        results: list[R | Exception] | None = None
        try:
            results = self._write_many([s.item for s in batch])
        except Exception as exc:  # the batch as a whole failed: each waiting caller gets the error
            results = [exc] * len(batch)
        finally:
            if results is None:  # the leader itself is stopping (SystemExit, KeyboardInterrupt): nobody waits on
                results = [RuntimeError("the server stopped before this write was committed")] * len(batch)
            self.batches += 1
            self.items += len(batch)
            for slot, result in zip(batch, results, strict=True):
                if isinstance(result, Exception):
                    slot.error = result
                else:
                    slot.result = result
                slot.done = True


def _unwrap(result: R | Exception) -> R:
    if isinstance(result, Exception):
        raise result
    return result
