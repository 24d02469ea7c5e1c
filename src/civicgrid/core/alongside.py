"""Pure Python work run in a second thread while this thread waits for the database.

A district round's confirmation waits seconds at a time for PostgreSQL (a million needs locked and updated in one
backend) while this process still has work that those statements do not need: the plan of the delivery stops,
the figures of the policies not chosen. Python lets another thread run while a driver waits for the server
(psycopg and sqlite3 both release the interpreter's lock around the wait), so that work can fill the wait
instead of following it. The machine's second core does it; the transaction stays one transaction.

The work must not use the database. A query from the second thread would open a second connection, outside the
caller's transaction (on SQLite it would wait for the caller's own write lock, forever). Every query there is
refused with :class:`DatabaseUseRefused`. The caller's language is active in the thread, as it is in the caller.

Example::

    with alongside(lambda: plan_the_stops(frame)) as stops:
        cursor.execute("UPDATE ...")  # seconds in the server; the plan is made meanwhile
        write(stops())  # waits for the plan if it is not made yet; its exception is raised here
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, Generic, TypeVar

from django.db import connections
from django.utils import translation

T = TypeVar("T")


class DatabaseUseRefused(RuntimeError):
    """Work run :func:`alongside` a transaction tried to query the database."""


class _Outcome(Generic[T]):
    """What the thread gave: a value, or the exception it raised."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: T | None = None
        self.error: BaseException | None = None

    def wait(self) -> T:
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


def _refuse(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    raise DatabaseUseRefused(f"work run alongside a transaction may not query the database: {sql[:80]}")


def _run(work: Callable[[], T], outcome: _Outcome[T], language: str | None) -> None:
    try:
        with ExitStack() as stack:
            for alias in connections:  # this thread's own connection objects: the caller's are not touched
                stack.enter_context(connections[alias].execute_wrapper(_refuse))
            stack.enter_context(translation.override(language))
            outcome.value = work()
    except BaseException as exc:  # handed to the caller, raised where it waits
        outcome.error = exc
    finally:
        connections.close_all()  # none should be open; a connection made without a query is closed here
        outcome.done.set()


@contextmanager
def alongside(work: Callable[[], T]) -> Iterator[Callable[[], T]]:
    """Start ``work`` in a second thread; yield a function that waits for its result (or raises its exception).

    Leaving the block waits for the thread whatever happens, so no work outlives the caller's transaction; if
    the block raises, the work's own result or exception is dropped."""
    outcome: _Outcome[T] = _Outcome()
    thread = threading.Thread(target=_run, args=(work, outcome, translation.get_language()),
                              name="civicgrid-alongside", daemon=True)
    thread.start()
    try:
        yield outcome.wait
    finally:
        thread.join()
