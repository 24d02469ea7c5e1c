"""Large JSON values stored compressed: a district round's frozen inputs and result.

PostgreSQL's ``jsonb`` refuses a value over 256 MB (``total size of jsonb object elements exceeds the maximum of
268435455 bytes``): a round's snapshot is some 150 bytes of JSON per request, so a district round of about 1.7
million requests could not be confirmed at all. It also parsed and compressed the value on the server, inside
the round's transaction. :class:`PackedJSONField` keeps the same Python value (a ``dict`` or ``list``) but stores
it as zlib-compressed JSON in a binary column (``bytea``, SQLite ``BLOB``): about a seventh of the size, up to
PostgreSQL's 1 GB per value (some 40 million requests), compressed by the app before the transaction writes it.

Such a value is only ever read whole (a round's page, its recomputation), never queried into, so nothing is lost
by not being ``jsonb``. Stored values carry a one-byte format tag, so a later format can be told apart.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any

from django.db import models

FORMAT_ZLIB_JSON = b"\x01"
LEVEL = 1  # zlib's fastest: ~7x on these columns of numbers and repeated codes; higher levels gain little


def pack(value: Any) -> bytes:
    """``value`` as stored: the format tag, then its compact JSON compressed."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return FORMAT_ZLIB_JSON + zlib.compress(text.encode(), LEVEL)


def unpack(data: bytes | memoryview) -> Any:
    """The value :func:`pack` stored."""
    raw = bytes(data)
    if raw[:1] != FORMAT_ZLIB_JSON:
        raise ValueError(f"unknown packed format {raw[:1]!r}")
    return json.loads(zlib.decompress(raw[1:]))


@dataclass(frozen=True, eq=False)
class Packed:
    """A value packed ahead of its save, e.g. in a second thread while the database works
    (:mod:`civicgrid.core.alongside`): assigned to a :class:`PackedJSONField`, ``data`` is stored as it is, and
    the saved instance holds ``value``. A district round's snapshot takes a second to pack. Make one with
    :meth:`of`, so ``data`` is ``value``'s."""

    value: Any
    data: bytes

    @classmethod
    def of(cls, value: Any) -> Packed:
        return cls(value, pack(value))


class PackedJSONField(models.BinaryField):
    """A JSON value (``dict``/``list`` in Python) stored compressed in a binary column. Not editable in forms and
    not filterable into (use a ``JSONField`` for values that are queried)."""

    description = "JSON stored compressed"
    # for django-stubs: the Python value is the JSON value, not the stored bytes
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def from_db_value(self, value: bytes | memoryview | None, expression: Any, connection: Any) -> Any:
        return None if value is None else unpack(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, bytes | memoryview):
            return unpack(value)
        if isinstance(value, str):  # a serialised fixture (value_to_string)
            return json.loads(value)
        return value

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        """A :class:`Packed` value is saved as its bytes; the instance holds the value, as a read gives it."""
        value = super().pre_save(model_instance, add)
        if isinstance(value, Packed):
            setattr(model_instance, self.attname, value.value)
        return value

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None:
            return None
        return connection.Database.Binary(value.data if isinstance(value, Packed) else pack(value))

    def value_to_string(self, obj: models.Model) -> str:
        return json.dumps(self.value_from_object(obj), ensure_ascii=False)

    def get_lookup(self, lookup_name: str):  # type: ignore[no-untyped-def]
        if lookup_name != "isnull":
            raise TypeError(f"packed field {self.name!r} cannot be filtered with {lookup_name!r}")
        return super().get_lookup(lookup_name)
