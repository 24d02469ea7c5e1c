"""Bounds on what a user may send (issue 11, findings 4, 11 and 12): the one place the numbers live.

Each bound is enforced three times: by the service (``Invalid`` with a reason, whoever calls it), by the
API schema (so ``/api/openapi.json`` documents it and a violation is a 400 before any service runs) and,
for what is stored, by the database (a ``CheckConstraint`` or a column length). Override any of the
numbers with a dict in the setting ``CIVICGRID_INPUT_LIMITS`` (e.g. ``{"quantity": 5000}``); the
database keeps its own hard ceilings below, which a setting cannot raise.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from civicgrid.core.errors import Invalid

# Hard ceilings, written into the database's check constraints (migrations): no setting goes above them.
QUANTITY_CEILING = 1_000_000  # any stored quantity of units
NOTE_CEILING = 4000  # a merged note (a need's notes from several filings)

DEFAULTS: dict[str, int] = {
    "quantity": 10_000,  # units one request (a need, an offer, an issue) may name
    "note_chars": 500,  # a note, a reason, a comment
    "text_chars": 2000,  # a description (a case)
    "merged_note_chars": 2000,  # a need's notes merged from its filings (oldest lines dropped first)
    "offset": 100_000,  # how far an API list may be paged
    "code_chars": 64,  # a code or key sent to look something up
}


def limit(name: str) -> int:
    value = int({**DEFAULTS, **getattr(settings, "CIVICGRID_INPUT_LIMITS", {})}[name])
    if name == "quantity":
        return min(value, QUANTITY_CEILING)
    if name == "merged_note_chars":
        return min(value, NOTE_CEILING)
    return value


MAX_ID = 2**63 - 1  # the largest primary key either database can hold (a 64-bit signed integer)


def whole_number(value: Any, field: str, *, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` as an int within [minimum, maximum] (maximum: the ``quantity`` limit), or Invalid."""
    maximum = limit("quantity") if maximum is None else maximum
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid({field: _("must be a whole number, got %(value)r") % {"value": value}})
    if value < minimum:
        raise Invalid({field: _("must be at least %(min)d, got %(value)d") % {"min": minimum, "value": value}})
    if value > maximum:
        raise Invalid({field: _("must be at most %(max)d, got %(value)d") % {"max": maximum, "value": value}})
    return value


def int_param(value: Any, field: str, *, minimum: int = 1, maximum: int = MAX_ID) -> int:
    """A whole number from a query string or form (``"abc"``, ``"1e9"``, a huge number: Invalid, a 400)."""
    text = str(value).strip()
    if not (text.isascii() and text.lstrip("-").isdigit()) or len(text) > 20:
        raise Invalid({field: _("must be a whole number, got %(value)r") % {"value": value}})
    return whole_number(int(text), field, minimum=minimum, maximum=maximum)


def bounded_text(value: Any, field: str, *, max_chars: int | None = None, kind: str = "note_chars") -> str:
    """``value`` stripped, refused (Invalid) when longer than ``max_chars`` (default: the ``kind`` limit)
    or when it holds a NUL character (PostgreSQL cannot store one)."""
    text = str(value or "").strip()
    max_chars = limit(kind) if max_chars is None else max_chars
    if "\x00" in text:
        raise Invalid({field: _("must not contain NUL characters")})
    if len(text) > max_chars:
        raise Invalid({field: _("at most %(max)d characters, got %(n)d") % {"max": max_chars, "n": len(text)}})
    return text


def merge_notes(old: str, new: str, *, max_chars: int | None = None) -> str:
    """``new`` appended to ``old`` on its own line (unless already there), the oldest lines dropped so that
    the result holds at most ``max_chars`` characters (the newest note always fits: it is shorter than a
    note's own limit). Each filing keeps its own note, so nothing is lost from the record."""
    max_chars = limit("merged_note_chars") if max_chars is None else max_chars
    lines = old.splitlines()
    if new and new not in lines:
        lines.append(new)
    while lines and len("\n".join(lines)) > max_chars:
        lines.pop(0)
    return "\n".join(lines)[-max_chars:] if lines else ""
