"""Structured logs: one JSON object per line, each carrying the request id (or job) it belongs to.

Every log record made while a request is served carries ``request_id`` (set by
:class:`civicgrid.core.middleware.RequestIdMiddleware` from the ``X-Request-ID`` header a proxy sent, or
a new one, and returned in the response's ``X-Request-ID``); records made while a job runs carry the
``job`` and its ``job_id``. The context lives in a :mod:`contextvars` variable, so it follows the code
path that serves one request and never leaks into another.

The formatter and filter are wired in ``civicgrid.config.settings.observability`` (Django's LOGGING)
and ``civicgrid.config.gunicorn`` (the server's own lines), so the web server, the app and the worker
write one format: to stderr, and to ``CIVICGRID_LOG_FILE`` when set.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_CONTEXT: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("civicgrid_log_context", default=None)

REQUEST_ID_ENVIRON = "civicgrid.request_id"  # set by the WSGI entry point (config/wsgi.py)

# A request id taken from a client header: short, plain characters only (it is echoed and logged).
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

# Attributes every LogRecord has; anything else passed as ``extra=`` is written as a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


def new_request_id() -> str:
    return uuid.uuid4().hex


def clean_request_id(value: str | None) -> str:
    """The id a client or proxy sent, if it is safe to echo; a new one otherwise."""
    return value if value and _SAFE_ID.match(value) else new_request_id()


def current() -> dict[str, str]:
    """The log context of the running request or job (empty outside both)."""
    return dict(_CONTEXT.get() or {})


def request_id() -> str:
    return current().get("request_id", "")


@contextmanager
def log_context(**fields: str) -> Iterator[dict[str, str]]:
    """Add ``fields`` (``request_id=...``, ``job=...``) to every log line made inside the block."""
    merged = {**current(), **fields}
    token = _CONTEXT.set(merged)
    try:
        yield merged
    finally:
        _CONTEXT.reset(token)


class ContextFilter(logging.Filter):
    """Copies the request or job context onto each record (``record.request_id``, ``record.job``...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in current().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, context and extras."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in current().items():
            data.setdefault(key, value)
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in data:
                data[key] = value if isinstance(value, str | int | float | bool | type(None)) else str(value)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def set_context(**fields: str) -> None:
    """Replace the context for what follows in this thread (a job worker, between two jobs)."""
    _CONTEXT.set(dict(fields))
