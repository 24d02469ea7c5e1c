"""Page middleware of the platform: request ids and request logs, domain errors as error pages, and the
Content-Security-Policy."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from civicgrid.core.errors import http_status, messages_of
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
        if status is None or request.path.startswith("/api/"):
            return None
        return render(request, "core/error.html", {"status": status, "messages": messages_of(exc)},
                      status=status)


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
