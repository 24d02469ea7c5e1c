"""Page middleware of the platform: request ids and request logs, domain errors as error pages, and the
Content-Security-Policy."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from civicgrid.core.errors import Invalid, http_status, messages_of
from civicgrid.core.logs import REQUEST_ID_ENVIRON, clean_request_id, log_context

request_log = logging.getLogger("civicgrid.request")


class RequestIdMiddleware:
    """First in the chain: every log line of a request carries its id (see :mod:`civicgrid.core.logs`).

    The id is the client's (or the reverse proxy's) ``X-Request-ID`` when it is a short plain token, a
    new one otherwise; it is returned in the response's ``X-Request-ID`` and shown on the error page, so
    a user can quote it and an administrator can find every line of that request. One line per request
    records the method, path (without the query string, which may hold search terms), status and time.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = request.META.get(REQUEST_ID_ENVIRON) or clean_request_id(request.headers.get("X-Request-ID"))
        request.request_id = rid  # type: ignore[attr-defined]
        started = time.perf_counter()
        with log_context(request_id=rid):
            response = self.get_response(request)
            response.headers["X-Request-ID"] = rid
            if not request.path.startswith(("/static/", "/healthz")):
                request_log.info("%s %s %s", request.method, request.path, response.status_code,
                                 extra={"method": request.method, "path": request.path,
                                        "status": response.status_code,
                                        "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
        return response


class DomainErrorMiddleware:
    """Maps :mod:`civicgrid.core.errors` (and Django's equivalents) raised by a page to 400/403/404/409.

    The API maps the same errors in ``config/api.py`` with the same :func:`http_status`.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        status = http_status(exc)
        if isinstance(exc, OverflowError):  # a number too large for the database (say /needs/99999...9/)
            status, exc = 400, Invalid(_("A number in the request is too large."))
        if status is None or request.path.startswith("/api/"):
            return None
        return render(request, "core/error.html", {"status": status, "messages": messages_of(exc)},
                      status=status)


# --- NUL characters ----------------------------------------------------------------------------------
# PostgreSQL cannot store or compare a string holding U+0000: a NUL in a query parameter, a form field or
# a JSON string reached the database as a 500. Nothing legitimate contains one, so it is refused here, once,
# for every page and API operation: 400 with a reason. Uploaded files are not looked at (they are data, and
# the importers read them as bytes); their form fields are.

NUL_MESSAGE = _("The request contains a NUL character (U+0000), which is not allowed.")


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def request_has_nul(request: HttpRequest) -> bool:
    if b"\x00" in unquote_to_bytes(request.META.get("QUERY_STRING", "")) or "\x00" in request.path:
        return True
    if request.method not in {"POST", "PUT", "PATCH", "DELETE"}:
        return False
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.startswith("multipart/"):
        return any(_holds_nul(v) or _holds_nul(k) for k, vs in request.POST.lists() for v in vs)
    body = request.body
    if content_type.startswith("application/x-www-form-urlencoded"):
        return b"\x00" in unquote_to_bytes(body.replace(b"+", b" "))
    if b"\x00" in body:
        return True
    if b"\\u0000" in body:  # a JSON escape: look at the decoded strings (a literal backslash is no NUL)
        try:
            return _holds_nul(json.loads(body))
        except ValueError:
            return False
    return False


class RejectNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request_has_nul(request):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": NUL_MESSAGE}, status=400)
            return render(request, "core/error.html", {"status": 400, "messages": [NUL_MESSAGE]}, status=400)
        return self.get_response(request)


# --- Content-Security-Policy ----------------------------------------------------------------------
# Scripts run only from the app's own static files and views (plotly.js is served by the app; the
# charts' data sit in non-executable ``application/json`` blocks read by ``civicgrid.js``), so no inline
# script, ``eval`` or event-handler attribute runs even if markup were injected. Inline *styles* stay
# allowed (templates and plotly set style attributes); they cannot run code. The policy is the setting
# ``CIVICGRID_CONTENT_SECURITY_POLICY``; a view may set its own, stricter header (the photo view does).

DEFAULT_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = str(getattr(settings, "CIVICGRID_CONTENT_SECURITY_POLICY", DEFAULT_POLICY))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = self.policy
        return response
