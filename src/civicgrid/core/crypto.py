"""Sensitive fields: encrypted at rest, searchable by exact value through a keyed digest, masked on
screens and in exports for roles without clearance, and always masked in the audit log.

* :class:`EncryptedCharField` stores Fernet ciphertext (AES-128-CBC + HMAC-SHA256) and hands Python the
  plain text. It supports no lookups but ``isnull``: the database never sees the plain text.
* :class:`DigestField` keeps an HMAC-SHA256 of another field's normalised value, so the registry can
  find a household by a full ID number or phone and enforce uniqueness without decrypting anything.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


@lru_cache(maxsize=1)
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def encrypt(value: str) -> str:
    return _fernet(settings.CIVICGRID_FIELD_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.CIVICGRID_FIELD_KEY).decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a wrong key must fail loudly, never show ciphertext as data
        raise ValueError("cannot decrypt a sensitive field: is CIVICGRID_FIELD_KEY the key it was written with?") from exc


def normalise(value: str) -> str:
    return "".join(value.split()).upper()


def digest(value: str) -> str:
    """Keyed digest of a normalised value ('' for empty), for exact search and uniqueness."""
    if not value:
        return ""
    key = hashlib.sha256(b"civicgrid-digest:" + settings.CIVICGRID_FIELD_KEY.encode()).digest()
    return hmac.new(key, normalise(value).encode(), hashlib.sha256).hexdigest()[:40]


def mask(value: str | None) -> str:
    """Keep the first 3 and last 4 characters of an ID number or phone: 510***********1234, 138****5678."""
    if not value:
        return ""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


class EncryptedCharField(models.TextField):
    """A text field encrypted at rest. Values are plain ``str`` in Python, ciphertext in the database."""

    sensitive = True

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return None if value is None else ("" if value == "" else decrypt(value))

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))

    def get_lookup(self, lookup_name: str):  # type: ignore[no-untyped-def]
        if lookup_name != "isnull":
            raise TypeError(f"encrypted field {self.name!r} cannot be filtered with {lookup_name!r}: use its digest")
        return super().get_lookup(lookup_name)


class DigestField(models.CharField):
    """HMAC digest of the field named by ``source``, refreshed whenever the row is saved."""

    def __init__(self, *args: Any, source: str = "", **kwargs: Any) -> None:
        self.source = source
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):  # type: ignore[no-untyped-def]
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = digest(getattr(model_instance, self.source) or "")
        setattr(model_instance, self.attname, value)
        return value


def is_sensitive(field: models.Field) -> bool:
    return bool(getattr(field, "sensitive", False))
