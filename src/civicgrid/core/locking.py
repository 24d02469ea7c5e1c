"""Transactions that must not interleave (stock issues, delivery claims, activating a plan, acting on
a case, recording a visit): one mechanism for every app.

On PostgreSQL the services lock the rows they read with ``SELECT ... FOR NO KEY UPDATE`` (:func:`locked`).
SQLite has no row locks, and a transaction that reads first and writes later fails at once ("database is
locked") when another writer committed in between; :func:`serialised` therefore opens the transaction with
``BEGIN IMMEDIATE``, which takes SQLite's single write lock up front (waiting out the busy timeout), so
the whole transaction runs alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

from django.db import models, transaction

P = ParamSpec("P")
R = TypeVar("R")
M = TypeVar("M", bound=models.Model)


@contextmanager
def serialised_block() -> Iterator[None]:
    connection = transaction.get_connection()
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    connection.ensure_connection()  # connecting resets transaction_mode from the settings
    previous = connection.transaction_mode
    connection.transaction_mode = "IMMEDIATE"
    try:
        with transaction.atomic():
            connection.transaction_mode = previous  # only this BEGIN; savepoints are unaffected
            yield
    finally:
        connection.transaction_mode = previous


def writer_holds_everyone() -> bool:
    """Whether a write transaction holds up every other writer while it lasts (SQLite's one write lock), so that
    work which could run before it should: on PostgreSQL a transaction holds only the rows it locked."""
    return transaction.get_connection().vendor == "sqlite"


def serialised(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` in one transaction that concurrent serialised transactions cannot interleave."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with serialised_block():
            return function(*args, **kwargs)

    return wrapper


def locked(queryset: models.QuerySet[M]) -> models.QuerySet[M]:
    """``queryset`` with its rows locked until the transaction ends (a no-op on SQLite, where
    :func:`serialised` already holds the database's write lock).

    PostgreSQL: ``FOR NO KEY UPDATE``, the lock an UPDATE that keeps the key takes anyway. Two services locking
    a row still run one after the other. A foreign-key check (``FOR KEY SHARE`` on the row referred to) does not
    wait for it: Django's keys are checked at the commit, when the committing transaction already holds its own
    locks, so a ``FOR UPDATE`` here made a district round's commit, checking a million keys, and a filing or a
    cancellation that locked one of those needs or households wait for each other (a deadlock). A DELETE still
    takes the stronger lock itself."""
    from django.db import connections

    features = connections[queryset.db].features
    return queryset.select_for_update(of=("self",) if features.has_select_for_update_of else (),
                                      no_key=features.has_select_for_no_key_update)


def locked_for_write(queryset: models.QuerySet[M]) -> list[M]:
    """The rows of ``queryset``, locked until the transaction ends, for a read-then-write that must not
    interleave with another even outside :func:`serialised` (e.g. appending to the audit chain).

    PostgreSQL: :func:`locked` (``FOR NO KEY UPDATE``). SQLite: first a write to those rows (it changes nothing) takes
    the database's write lock, waiting out the busy timeout, so the read after it sees the last commit
    (a read first could see a snapshot that another writer replaces before this one writes)."""
    from django.db import connections

    if connections[queryset.db].vendor == "sqlite":
        pk = queryset.model._meta.pk
        assert pk is not None
        queryset.update(**{pk.attname: models.F(pk.attname)})
        return list(queryset)
    return list(locked(queryset))


def named_lock(name: str, *, shared: bool = False) -> None:
    """Lock ``name`` (a structure, not a row) until the transaction ends, shared or exclusive.

    PostgreSQL: a transaction-level advisory lock on a 64-bit digest of the name. Its waiters queue in order, so
    an exclusive request waits only for the holders before it and a stream of shared ones cannot starve it (a
    row's ``FOR SHARE`` lets newcomers in ahead of a waiting ``FOR UPDATE``: seconds of waiting under a surge).
    For many small writers that add to a structure which a rarer writer rebuilds whole (the needs tally: filings
    add to cells, a recount replaces them). Elsewhere nothing: SQLite has one writer at a time (the caller holds
    its write lock, :func:`serialised` or :func:`locked_for_write`)."""
    import hashlib

    connection = transaction.get_connection()  # the default database, never a read replica
    if connection.vendor != "postgresql":
        return
    if not connection.in_atomic_block:
        raise RuntimeError("a named lock is held until the transaction ends: take it inside one")
    key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_advisory_xact_lock{'_shared' if shared else ''}(%s)", [key])


def tables_locked_if_free(models_: list[type[models.Model]]) -> bool:
    """PostgreSQL only: lock the tables of ``models_`` in ACCESS EXCLUSIVE mode until the transaction ends
    (nobody else reads or writes them meanwhile), if that is possible at once; False, with nothing locked
    and the transaction still usable, when someone holds any lock on one of them (``NOWAIT``: this never
    queues, so it never makes other readers wait behind it) or on another database. For a bulk load that
    rebuilds the tables' indexes (:mod:`civicgrid.core.loadindexes`)."""
    from django.db import DatabaseError, connection

    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return False
    names = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models_)
    try:
        with transaction.atomic(), connection.cursor() as cursor:  # a savepoint: a refusal leaves no trace
            cursor.execute(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE NOWAIT")
    except DatabaseError:  # LockNotAvailable
        return False
    return True


def data_version(using: str = "default") -> tuple[int, int] | None:
    """SQLite: a token that changes whenever the database changed since it was taken, by another connection
    (``PRAGMA data_version``) or by this one (its count of changed rows); None on other databases.

    A service that computes from a read made before its serialised transaction (so as not to hold SQLite's one
    write lock while it computes) compares the token taken before the read with one taken once the lock is held:
    equal tokens mean nothing was written in between and the read still holds."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "sqlite":
        return None
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA data_version")
        (version,) = cursor.fetchone()
    return int(version), int(connection.connection.total_changes)
