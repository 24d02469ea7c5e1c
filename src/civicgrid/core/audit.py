"""Auditing: every state change that matters goes through a service that calls :func:`record`
inside its own transaction, so the change and its audit row commit or roll back together.

Old and new values are JSON snapshots of the model's concrete fields; sensitive (encrypted) fields
are masked in them, so the log never holds a full ID number or phone.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable
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


def _place_path(instance: models.Model) -> str:
    path = getattr(instance, "audit_place_path", "")
    return str(path() if callable(path) else path)


def record(
    *,
    user: Any,
    action: str,
    instance: models.Model,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
) -> AuditLog:
    """Write one audit row. Must run inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must be called inside the transaction that makes the change")
    return AuditLog.objects.create(
        user=user if getattr(user, "is_authenticated", False) else None,
        action=action,
        model=instance._meta.label,
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        place_path=_place_path(instance),
        old=old,
        new=new,
    )


def record_created(*, user: Any, instances: Iterable[models.Model]) -> int:
    """Bulk form of a ``create`` row per instance (used by imports)."""
    rows = [
        AuditLog(
            user=user if getattr(user, "is_authenticated", False) else None,
            action=AuditLog.Action.CREATE,
            model=instance._meta.label,
            object_id=str(instance.pk),
            object_repr=str(instance)[:200],
            place_path=_place_path(instance),
            new=snapshot(instance),
        )
        for instance in instances
    ]
    AuditLog.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def update_fields(*, user: Any, instance: models.Model, changes: dict[str, Any]) -> models.Model:
    """Apply ``changes`` to ``instance``, save, and audit what really changed (nothing if nothing did)."""
    before = snapshot(instance)
    raw = {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields if is_sensitive(f)}
    for name, value in changes.items():
        setattr(instance, name, value)
    instance.full_clean()
    instance.save()
    after = snapshot(instance)
    old, new = changed(before, after)
    for name, value in raw.items():  # a change hidden by the mask (same last characters) is still a change
        if getattr(instance, name) != value and name not in new:
            old[name], new[name] = before[name], after[name]
    if new:
        record(user=user, action=AuditLog.Action.UPDATE, instance=instance, old=old, new=new)
    return instance
