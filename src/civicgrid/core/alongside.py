"""Pure Python work run in a second thread while this thread waits for the database.

A district round's confirmation waits seconds at a time for PostgreSQL (a million needs locked and updated in one
backend) while this process still has work that those statements do not need: the plan of the delivery stops,
the figures of the policies not chosen. Python lets another thread run while a driver waits for the server
(psycopg and sqlite3 both release the interpreter's lock around the wait), so that work can fill the wait
instead of following it. The machine's second core does it; the transaction stays one transaction.

The work must not use the database. A statement from the second thread would run on a second connection,
outside the caller's transaction: its writes would commit on their own, and on PostgreSQL it could wait for a row
the caller has locked while the caller waits for the work, a deadlock the server cannot see. So the thread may not
connect at all: every way to the database (the ORM, a raw cursor, COPY, :func:`civicgrid.core.bulk.read_frame`)
opens its connection first, and that is refused with :class:`DatabaseUseRefused`. Nothing the caller made for its
own connection (a cursor, ``connection.connection``, a :class:`civicgrid.core.bulk.CopyWriter`) may be handed to
the work either: that would bypass the refusal. ``CopyWriter``'s thread and ``read_frame``'s reader are the other
kind: each writes or reads the caller's own COPY over the caller's connection and does nothing else.

While the work runs, the block must not change what the work reads. The caller's language is active in the
thread, as it is in the caller.

Example::

    with alongside(lambda: plan_the_stops(frame)) as plan_made:
        cursor.execute("UPDATE ...")  # seconds in the server; the plan is made meanwhile
        write(plan_made())  # waits for the plan if it is not made yet; its exception is raised here
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import connections
from django.utils import translation

T = TypeVar("T")


class DatabaseUseRefused(RuntimeError):
    """Work run :func:`alongside` a transaction tried to use the database."""


def _refuse(*args: Any, **kwargs: Any) -> None:
    raise DatabaseUseRefused("work run alongside a transaction may not use the database: its connection would be "
                             "outside the caller's transaction")


def _run(work: Callable[[], T], language: str | None) -> T:
    """``work`` in the second thread: its own connection objects (Django keeps one per thread) cannot connect."""
    for alias in connections:
        connections[alias].connect = _refuse  # type: ignore[method-assign]
    try:
        with translation.override(language):
            return work()
    finally:
        connections.close_all()  # nothing can be open; the thread's handles go with it


@contextmanager
def alongside(work: Callable[[], T]) -> Iterator[Callable[[], T]]:
    """Start ``work`` in a second thread; yield a function that waits for its result (or raises its exception).

    Leaving the block waits for the thread whatever happens, so no work outlives the caller's transaction. If the
    block ends without asking for the result, the work's exception is raised then; if the block raises, the work's
    own result or exception is dropped."""
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="civicgrid-alongside")
    future = executor.submit(_run, work, translation.get_language())
    asked = False

    def result() -> T:
        nonlocal asked
        asked = True
        return future.result()

    try:
        yield result
    finally:
        executor.shutdown(wait=True)
    if not asked:  # the block ended normally without the result: a failed work is not passed over in silence
        future.result()
