"""What every API router shares, so every app's operations look alike in ``/api/openapi.json``:

- :class:`Error` and :func:`responses`: each operation declares its success schema *and* the 4xx answers
  the API gives (400 bad input, 401 not logged in, 403 role, 404 outside the area, 409 state), all with the
  one ``{"detail": ...}`` body that ``config/api.py`` writes;
- :func:`offset_query` and :func:`id_path`: bounded paging and record ids (an unbounded ``offset`` or id
  overflowed SQLite's and PostgreSQL's integers: a 500 instead of a 400);
- :func:`quantity_field`, :func:`text_field`, :func:`code_field`: the input bounds of
  :mod:`civicgrid.core.limits`, documented in the schema and checked before any service runs;
- :func:`with_status`: an answer with another status than the operation's default (201, 202);
- :func:`requires`: the ``auth=`` of an operation that takes a body, so that a role that may not use the
  resource is refused (403) before its input is read (400), as the pages do.
"""

from __future__ import annotations

from typing import Any

import ninja
from django.http import HttpRequest
from ninja import Field, Path, Query, Schema
from ninja.security import SessionAuth as _SessionAuth

from civicgrid.core.limits import MAX_ID, limit

ERROR_STATUSES = (400, 401, 403, 404, 409)


class SessionAuth(_SessionAuth):
    """The API's session log-in, then the role's resource (:func:`civicgrid.core.scoping.require`). ninja
    checks ``auth`` before it parses the body, so the order of refusals is the pages': 401, 403, then 400.
    (Named like ninja's class, so the OpenAPI schema keeps its one ``SessionAuth`` security scheme.)"""

    def __init__(self, resource: str) -> None:
        super().__init__()
        self.resource = resource

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        from civicgrid.accounts.roles import scope_for
        from civicgrid.core.scoping import require

        user = super().authenticate(request, key)
        if user is not None:
            require(scope_for(user), self.resource)  # Forbidden: 403 with its reason (config/api.py)
        return user


def requires(resource: str) -> SessionAuth:
    """``auth=requires("cases")``: logged in (else 401) and the role may use ``resource`` (else 403)."""
    return SessionAuth(resource)
PAGE = 200  # rows per API page


class Error(Schema):
    """A refusal: ``detail`` is a message, or messages per field (``{"quantity": ["at most 10000"]}``)."""

    detail: str | dict[str, list[str]] | Any


def responses(ok: Any, status: int = 200, **more: Any) -> dict[int, Any]:
    """The ``response=`` of an operation: ``ok`` under ``status`` (also ``{201: X}`` through ``more``,
    as ``s201=X``), and every 4xx answer with :class:`Error`."""
    found: dict[int, Any] = {status: ok}
    found.update({int(k.removeprefix("s")): v for k, v in more.items()})
    found.update({code: Error for code in ERROR_STATUSES})
    return found


def with_status(code: int, body: Any) -> Any:
    """``body`` answered with ``code`` (201 created, 202 queued) rather than the operation's default: django-ninja
    1.5 and later take a ``Status``, older releases a ``(code, body)`` tuple (deprecated since)."""
    status = getattr(ninja, "Status", None)
    return status(code, body) if status is not None else (code, body)


def offset_query() -> Any:
    return Query(0, ge=0, le=limit("offset"), description=f"skip this many rows (pages of {PAGE})")


def page(rows: Any, offset: int) -> Any:
    return rows[offset: offset + PAGE]


def id_path() -> Any:
    return Path(..., ge=1, le=MAX_ID)


def id_field(default: Any = ..., **kwargs: Any) -> Any:
    return Field(default, ge=1, le=MAX_ID, **kwargs)


def quantity_field(default: Any = ..., *, minimum: int = 1, **kwargs: Any) -> Any:
    return Field(default, ge=minimum, le=limit("quantity"), **kwargs)


def text_field(default: Any = "", *, kind: str = "note_chars", max_length: int | None = None,
               **kwargs: Any) -> Any:
    return Field(default, max_length=max_length or limit(kind), **kwargs)


def code_query(default: Any = "", *, max_length: int | None = None, **kwargs: Any) -> Any:
    return Query(default, max_length=max_length or limit("code_chars"), **kwargs)


def code_field(default: Any = ..., *, max_length: int | None = None, **kwargs: Any) -> Any:
    return Field(default, max_length=max_length or limit("code_chars"), **kwargs)
