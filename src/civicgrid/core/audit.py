"""Auditing: every state change that matters goes through a service that calls :func:`record`
inside its own transaction, so the change and its audit row commit or roll back together.

Every row names a typed **event** ("relief.round_confirmed", "accounts.role_changed"): each app owns
a ``TextChoices`` of its events, declared in its plugin (``AppPlugin.audit_events``) and registered
here at start-up, so an unregistered event name fails at once. Rows keep the old and new values (JSON
snapshots of the changed fields; sensitive fields masked, so the log never holds a full ID number or
phone) and the place path the record lies in, so the log is scoped like the records themselves.

**Bulk changes** (an import, a round's thousands of allocations, releasing every lapsed claim) write
one summarising row, not one per record: :func:`record_bulk` with the counts in ``new`` and a SHA-256
digest of the affected ids, so a later reader can check a list of ids against the row.

Rows are **chained** (:mod:`civicgrid.core.auditchain`): each stores the SHA-256 of its own fields and of
the row before it, appends are serialised, and ``civicgrid audit verify`` finds a row changed, removed or
forged by anything other than the functions here.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import models, transaction
from django.db.models.fields.files import FieldFile

from civicgrid.core.crypto import is_sensitive, mask
from civicgrid.core.models import AuditLog


def snapshot(instance: models.Model) -> dict[str, Any]:
    """JSON-safe values of ``instance``'s concrete fields, sensitive ones masked."""
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if getattr(field, "editable", True) is False and field.name != "id":
            continue
        value = getattr(instance, field.attname)
        if is_sensitive(field):
            value = mask(value)
        data[field.attname] = _jsonable(value)
    return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, FieldFile):  # a file is logged by its stored name
        return value.name or ""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def changed(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ, for compact update rows."""
    keys = [k for k in new if old.get(k) != new.get(k)]
    return {k: old.get(k) for k in keys}, {k: new[k] for k in keys}


_EVENTS: dict[str, Any] = {}  # event name -> its label (words, translated)


def register_events(events: type) -> None:
    """Register an app's event ``TextChoices`` (called at start-up by the plugin mechanism)."""
    for value, label in events.choices:  # type: ignore[attr-defined]
        value = str(value)
        if value in _EVENTS:
            raise ValueError(f"audit event {value!r} is registered twice")
        _EVENTS[value] = label


def event_label(event: str) -> Any:
    """The event in words, in the current language."""
    return _EVENTS.get(str(event), event)


def event_choices() -> list[tuple[str, Any]]:
    return sorted(_EVENTS.items())


def acting_user(user: Any) -> Any:
    """The user to record: None for the platform itself (periodic jobs, the command line)."""
    return user if getattr(user, "is_authenticated", False) else None


def place_path_of(instance: models.Model) -> str:
    """Where ``instance`` lies: the path its scope rule names (record, area or serving path)."""
    from civicgrid.core.scoping import rule_for

    rule = rule_for(type(instance))
    if rule is None:
        return ""
    lookup = rule.record_path or rule.area_path or rule.serving_area_path
    if lookup:
        value = _follow(instance, lookup)
        return "" if value is None else str(value)
    if rule.via:  # e.g. a post lies where its actor does
        related = _follow(instance, rule.via[0])
        return place_path_of(related) if isinstance(related, models.Model) else ""
    return ""


def _follow(value: Any, lookup: str) -> Any:
    for part in lookup.split("__"):
        value = getattr(value, part, None)
        if hasattr(value, "all") and hasattr(value, "model"):  # a to-many relation: its first row
            value = value.order_by("pk").first()
        if value is None:
            return None
    return value


def _check(event: str) -> str:
    event = str(getattr(event, "value", event))  # an enum member hashes by its name, not its value
    if event not in _EVENTS:
        raise ValueError(f"unknown audit event {event!r}: declare it in the app's AuditEvent choices")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit rows must be written inside the transaction that makes the change")
    return event


_DEFERRED: ContextVar[list[AuditLog] | None] = ContextVar("civicgrid_audit_deferred", default=None)


@contextmanager
def deferred() -> Iterator[None]:
    """Write the audit rows recorded inside the block at its end, together: the chain's head is then locked
    as the last step of the transaction (once, with one INSERT for all rows), not from the first audited
    change to the commit. Use it inside the service's transaction, around straight-line code that ends the
    transaction's writes; a savepoint rolled back inside it must be a :func:`savepoint`, which takes its rows
    back with it. If the block raises, nothing is written (the transaction rolls back anyway)."""
    if _DEFERRED.get() is not None:  # already deferred by an enclosing block: that one writes them
        yield
        return
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit rows must be written inside the transaction that makes the change")
    entries: list[AuditLog] = []
    token = _DEFERRED.set(entries)
    try:
        yield
    finally:
        _DEFERRED.reset(token)
    AuditLog.append_all(entries)


@contextmanager
def savepoint() -> Iterator[None]:
    """A savepoint (``transaction.atomic``) whose audit rows go with it when it rolls back, also the rows that
    an enclosing :func:`deferred` block holds back: a try that fails leaves no trace of what it audited."""
    pending = _DEFERRED.get()
    mark = len(pending) if pending is not None else 0
    try:
        with transaction.atomic():
            yield
    except BaseException:
        if pending is not None:
            del pending[mark:]
        raise


def _write(entry: AuditLog) -> AuditLog:
    pending = _DEFERRED.get()
    if pending is None:
        entry.save()
    else:
        pending.append(entry)
    return entry


def record(
    *,
    user: Any,
    event: str,
    instance: models.Model,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    place_path: str | None = None,
) -> AuditLog:
    """Write one audit row for a change of ``instance``. Must run inside the caller's transaction."""
    event = _check(event)
    return _write(AuditLog(
        user=acting_user(user),
        event=event,
        action=_action(old, new),
        model=instance._meta.label,
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        place_path=place_path if place_path is not None else place_path_of(instance),
        old=old,
        new=new,
    ))


def _action(old: dict[str, Any] | None, new: dict[str, Any] | None) -> str:
    if old is None and new is not None:
        return AuditLog.Action.CREATE
    if new is None and old is not None:
        return AuditLog.Action.DELETE
    return AuditLog.Action.UPDATE


def ids_digest(ids: Iterable[Any]) -> str:
    """SHA-256 over the sorted ids, one per line: the fingerprint a bulk row keeps of what it touched."""
    text = "\n".join(sorted(str(i) for i in ids))
    return hashlib.sha256(text.encode()).hexdigest()


def grouped_ids_digest(groups: Mapping[str, Any]) -> tuple[int, str]:
    """(count, :func:`ids_digest`) of the ids ``f"{name}:{pk}"`` for each ``name`` and each integer pk in
    ``groups[name]`` (a numpy array or any sequence), without making a string per id in Python: each
    group's pks are sorted as decimal text by numpy and hashed in blocks. For millions of ids."""
    import numpy as np

    names = sorted(n for n, pks in groups.items() if len(pks))
    for a, b in zip(names, names[1:], strict=False):
        if b.startswith(a):  # then "A:..." and "AB:..." would interleave; no model name does this
            raise ValueError(f"{a!r} is a prefix of {b!r}")
    h = hashlib.sha256()
    count, first = 0, True
    for name in names:
        text = _decimal_sorted(np.asarray(groups[name], dtype=np.int64))
        prefix = np.frombuffer(name.encode() + b":", dtype=np.uint8)
        width = text.shape[1]
        for start in range(0, len(text), 1 << 16):
            part = text[start:start + (1 << 16)]
            # each line "\nName:pk" as a fixed-width row, padding NULs removed at C speed afterwards
            rows = np.empty((len(part), 1 + len(prefix) + width), dtype=np.uint8)
            rows[:, 0] = ord("\n")
            rows[:, 1:1 + len(prefix)] = prefix
            rows[:, 1 + len(prefix):] = part
            block = rows.tobytes().replace(b"\x00", b"")
            h.update(block[1:] if first else block)
            first = False
        count += len(text)
    return count, h.hexdigest()


def _decimal_sorted(pks: Any) -> Any:
    """Positive integers as ASCII decimal digits, NUL-padded on the right (shape ``(n, width)``), in the
    order of their text (``"12" < "120" < "13"``): sorted by the number scaled to the widest, then by
    length, which is that order."""
    import numpy as np

    if len(pks) and int(pks.min()) < 0:
        raise ValueError("ids must be non-negative")
    width = len(str(int(pks.max()))) if len(pks) else 1
    length = np.ones(len(pks), dtype=np.int64)
    for k in range(1, width):
        length += pks >= 10**k
    scaled = pks * 10 ** (width - length)
    order = np.lexsort((length, scaled))
    scaled, length = scaled[order], length[order]
    digits = np.empty((len(pks), width), dtype=np.uint8)
    rest = scaled
    for column in range(width - 1, -1, -1):
        rest, digit = np.divmod(rest, 10)
        digits[:, column] = digit + ord("0")
    digits[np.arange(width)[None, :] >= length[:, None]] = 0
    return digits


def record_bulk(*, user: Any, event: str, model: type[models.Model], ids: Iterable[Any], counts: dict[str, Any],
                place_path: str = "", summary: str = "", id_groups: Mapping[str, Any] | None = None) -> AuditLog:
    """One summarising row for a bulk change: counts, and a digest of the affected ids (``ids``, plus
    ``id_groups`` as :func:`grouped_ids_digest` takes them, for millions of rows). ``summary`` names the records
    on the audit page beside the event's own words, to readers of every language: data (a title), never a
    sentence or a code."""
    event = _check(event)
    id_list = [str(i) for i in ids]
    if id_groups:
        import numpy as np

        extra = _grouped(id_list)
        records, digest = grouped_ids_digest({name: np.concatenate([np.asarray(id_groups.get(name, []), dtype=np.int64),
                                                                    np.asarray(extra.get(name, []), dtype=np.int64)])
                                              for name in {*id_groups, *extra}})
    else:
        records, digest = len(id_list), ids_digest(id_list)
    return _write(AuditLog(
        user=acting_user(user), event=event, action=AuditLog.Action.BULK, model=model._meta.label,
        object_id="*", object_repr=summary[:200], place_path=place_path,
        new={**counts, "records": records, "ids_sha256": digest},
    ))


def _grouped(ids: list[str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i in ids:
        name, _, pk = i.partition(":")
        if not pk.isdigit():
            raise ValueError(f"ids given with id_groups must be 'Name:pk', got {i!r}")
        out.setdefault(name, []).append(int(pk))
    return out


def update_fields(*, user: Any, event: str, instance: models.Model, changes: dict[str, Any],
                  place_path: str | None = None, constraints_in_database: bool = False) -> models.Model:
    """Apply ``changes`` to ``instance``, save, and audit what really changed (nothing if nothing did).

    With ``constraints_in_database`` (a hot path whose service has checked its inputs), only the changed
    fields are validated (no query) and written; the model's relations, unique and check constraints are
    left to the database, which enforces them (a violation fails the transaction)."""
    before = snapshot(instance)
    raw = {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields if is_sensitive(f)}
    for name, value in changes.items():
        setattr(instance, name, value)
    if constraints_in_database:
        others = [f.name for f in instance._meta.concrete_fields if f.name not in changes and f.attname not in changes]
        instance.clean_fields(exclude=others)
        instance.save(update_fields=list(changes))
    else:
        instance.full_clean()
        instance.save()
    after = snapshot(instance)
    old, new = changed(before, after)
    for name, value in raw.items():  # a change hidden by the mask (same last characters) is still a change
        if getattr(instance, name) != value and name not in new:
            old[name], new[name] = before[name], after[name]
    if new:
        record(user=user, event=event, instance=instance, old=old, new=new, place_path=place_path)
    return instance
