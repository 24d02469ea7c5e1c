"""The audit log's hash chain: tamper evidence for :class:`civicgrid.core.models.AuditLog`.

Every row stores ``seq`` (its place in the chain: 1, 2, 3, ...), ``prev_hash`` (the previous row's hash,
``GENESIS`` for the first) and ``row_hash``: the SHA-256 of a canonical serialisation of its own fields and
``prev_hash`` (:func:`row_hash`). A singleton :class:`~civicgrid.core.models.AuditChainHead` row records
the last ``seq`` and hash, updated in the same transaction as each append, so rows deleted from the end
(or the whole table emptied) are found too.

Appends are serialised (:func:`append`): the head row is locked for the rest of the writing transaction
(``SELECT ... FOR NO KEY UPDATE`` on PostgreSQL; SQLite's write lock), so two concurrent writers never fork
the chain. :func:`verify` walks the chain and names the first row that does not check out: a row changed
by ``QuerySet.update`` or SQL ``UPDATE``, removed by ``_raw_delete`` or SQL ``DELETE``/``TRUNCATE``, or
inserted by anything other than :func:`civicgrid.core.audit.record` / ``record_bulk`` / ``update_fields``.
On PostgreSQL a trigger (migration ``core.0003``) also refuses UPDATE, DELETE and TRUNCATE outright.

What the chain cannot do on its own: someone who can write the database *and* recomputes every later
hash and the head can rewrite history undetected. Keep the head hash :func:`verify` prints somewhere
else (a printed report, a ticket, another system) and compare: a rewritten chain has another head.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, router, transaction
from django.utils import timezone

if TYPE_CHECKING:
    from civicgrid.core.models import AuditLog

GENESIS = "0" * 64
VERSION = "civicgrid-audit-v1"
# The fields a row's hash covers, in this order (the primary key is the database's, not the chain's).
HASHED_FIELDS = ("seq", "prev_hash", "at", "user_id", "event", "action", "model", "object_id", "object_repr",
                 "place_path", "old", "new")


def stored_json(value: Any) -> Any:
    """``value`` as a JSON field gives it back after a round trip through the database."""
    return None if value is None else json.loads(json.dumps(value))


def _canon(value: Any) -> Any:
    """A JSON value in the one form both databases give back: PostgreSQL's jsonb prints an integral float
    such as 1e16 as an integer, so integral floats count as integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _canon(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canon(v) for v in value]
    return value


def _instant(value: Any) -> str:
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return str(value)


def canonical(values: Mapping[str, Any]) -> bytes:
    """The bytes a row's hash is taken of: the version tag and :data:`HASHED_FIELDS`, as compact JSON."""
    items: list[Any] = [VERSION]
    for name in HASHED_FIELDS:
        value = values.get(name)
        if name == "at":
            value = _instant(value)
        elif name in ("old", "new"):
            value = _canon(value)
        items.append(value)
    return json.dumps(items, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def row_hash(values: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(values)).hexdigest()


def _values(entry: AuditLog) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in HASHED_FIELDS}


def _head(db: str) -> tuple[int, str]:
    """Lock the chain's head until the transaction ends and return its (seq, hash)."""
    from civicgrid.core.locking import locked_for_write
    from civicgrid.core.models import AuditChainHead, AuditLog

    heads = locked_for_write(AuditChainHead.objects.using(db).filter(pk=AuditChainHead.SINGLETON))
    if heads:
        return heads[0].seq, heads[0].hash
    # No head yet (a new or emptied database): start it from the last row, if any. Two first writers race
    # to create it; the loser's insert fails (after waiting for the winner) and it locks the winner's head.
    last = AuditLog.objects.using(db).order_by("-seq").values_list("seq", "row_hash").first()
    seq, hash_ = last if last else (0, GENESIS)
    try:
        with transaction.atomic(using=db):
            AuditChainHead.objects.using(db).create(pk=AuditChainHead.SINGLETON, seq=seq, hash=hash_)
    except IntegrityError:
        pass
    head = locked_for_write(AuditChainHead.objects.using(db).filter(pk=AuditChainHead.SINGLETON))[0]
    return head.seq, head.hash


def append(entry: AuditLog, insert: Callable[[str], None]) -> None:
    """Chain ``entry`` after the last row and ``insert(db)`` it, the head locked until the caller's
    transaction ends (so concurrent appends queue up instead of forking the chain)."""
    from civicgrid.core.models import AuditChainHead

    db = router.db_for_write(type(entry), instance=entry) or DEFAULT_DB_ALIAS
    with transaction.atomic(using=db):
        seq, previous = _head(db)
        entry.seq, entry.prev_hash = seq + 1, previous
        entry.at = timezone.now()
        entry.old, entry.new = stored_json(entry.old), stored_json(entry.new)
        entry.row_hash = row_hash(_values(entry))
        insert(db)
        AuditChainHead.objects.using(db).filter(pk=AuditChainHead.SINGLETON).update(seq=entry.seq,
                                                                                   hash=entry.row_hash)


def append_many(entries: list[AuditLog], insert: Callable[[str], None]) -> None:
    """Chain ``entries`` in order after the last row and ``insert(db)`` them all (one statement), locking the
    head once. Called as the last step of a transaction (:func:`civicgrid.core.audit.deferred`), the head is
    held only for these inserts and the commit, so concurrent audited writes queue up for less time. No
    savepoint: a failure here fails the caller's whole transaction, as it must."""
    from civicgrid.core.models import AuditChainHead

    if not entries:
        return
    db = router.db_for_write(type(entries[0]), instance=entries[0]) or DEFAULT_DB_ALIAS
    with transaction.atomic(using=db, savepoint=False):
        seq, previous = _head(db)
        at = timezone.now()
        for entry in entries:
            seq += 1
            entry.seq, entry.prev_hash, entry.at = seq, previous, at
            entry.old, entry.new = stored_json(entry.old), stored_json(entry.new)
            entry.row_hash = previous = row_hash(_values(entry))
        if connections[db].vendor == "postgresql":
            _insert_and_advance(db, entries, seq, previous)  # one statement: the head is held one round trip less
            return
        insert(db)
        AuditChainHead.objects.using(db).filter(pk=AuditChainHead.SINGLETON).update(seq=seq, hash=previous)


def _insert_and_advance(db: str, entries: list[AuditLog], seq: int, hash_: str) -> None:
    """PostgreSQL: insert the chained rows and move the head in one statement (a data-modifying WITH), the
    same INSERT Django would write, so the head's lock is held for this statement and the commit only."""
    from django.db.models.sql import InsertQuery

    from civicgrid.core.models import AuditChainHead

    model = type(entries[0])
    pk = model._meta.pk
    assert pk is not None and pk.column
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    query = InsertQuery(model)
    query.insert_values(fields, list[Any](entries))
    [(insert_sql, params)] = query.get_compiler(using=db).as_sql()
    qn = connections[db].ops.quote_name
    id_ = qn(pk.column)
    sql = (f"WITH inserted AS ({insert_sql} RETURNING {id_}) "
           f"UPDATE {qn(AuditChainHead._meta.db_table)} SET {qn('seq')} = %s, {qn('hash')} = %s "
           f"WHERE {qn('id')} = %s RETURNING (SELECT array_agg({id_} ORDER BY {id_}) FROM inserted)")
    with connections[db].cursor() as cursor:
        cursor.execute(sql, (*params, seq, hash_, AuditChainHead.SINGLETON))
        row = cursor.fetchone()
    if row is None or row[0] is None or len(row[0]) != len(entries):
        raise IntegrityError("the audit chain's head is missing")
    for entry, number in zip(entries, row[0], strict=True):  # one INSERT numbers its rows in order
        entry.pk = number
        entry._state.adding, entry._state.db = False, db


@dataclass(frozen=True)
class ChainReport:
    rows: int  # rows that checked out, in chain order
    intact: bool
    head: str  # the last good hash (the chain's head when intact)
    broken_id: int | None = None  # the first row that does not check out (None: rows are missing at the end)
    broken_seq: int | None = None
    reason: str = ""

    def __str__(self) -> str:
        if self.intact:
            return f"{self.rows} rows, chain intact (head {self.head})"
        where = f"row id {self.broken_id} (seq {self.broken_seq})" if self.broken_id is not None else "the end"
        return f"audit chain broken at {where}: {self.reason}; the {self.rows} rows before it check out"


def verify(using: str = DEFAULT_DB_ALIAS) -> ChainReport:
    """Walk the chain in order and report the first row that is not what :func:`append` wrote. The head and
    the rows are read in one snapshot, so appends running meanwhile are neither seen nor missed."""
    from django.db import connections

    outermost = not connections[using].in_atomic_block
    with transaction.atomic(using=using):
        if connections[using].vendor == "postgresql" and outermost:
            with connections[using].cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return _walk(using)


def _walk(using: str) -> ChainReport:
    from civicgrid.core.models import AuditChainHead, AuditLog

    head = AuditChainHead.objects.using(using).filter(pk=AuditChainHead.SINGLETON).values_list("seq", "hash").first()
    head_seq, head_hash = head if head else (0, GENESIS)
    previous, good = GENESIS, 0
    rows = (AuditLog.objects.using(using).order_by("seq", "id")
            .values("id", "row_hash", *HASHED_FIELDS).iterator(chunk_size=2000))
    for row in rows:
        expected = good + 1
        reason = ""
        if row["seq"] != expected:
            reason = (f"seq {expected} is missing (row deleted?)" if row["seq"] > expected
                      else f"seq {row['seq']} is out of place (a forged row?)")
        elif row["prev_hash"] != previous:
            reason = "it does not follow the row before it (a row deleted, or this one inserted?)"
        elif row_hash(row) != row["row_hash"]:
            reason = "its contents do not match its hash (changed after it was written, or forged)"
        elif row["seq"] > head_seq:
            reason = f"it lies beyond the chain's head ({head_seq} rows): inserted outside the audit log"
        if reason:
            return ChainReport(good, False, previous, row["id"], row["seq"], reason)
        previous, good = row["row_hash"], expected
    if head_seq > good:
        return ChainReport(good, False, previous, None, None,
                           f"the chain's head records {head_seq} rows but {good} remain (rows deleted at the end?)")
    if head_hash != previous:
        return ChainReport(good, False, previous, None, None,
                           f"the chain's head does not match its last row (seq {good}): the head was altered")
    return ChainReport(good, True, previous)
