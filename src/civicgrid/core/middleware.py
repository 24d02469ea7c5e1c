"""Pages answer a service's domain error with the matching status and a page that says why."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from civicgrid.core.errors import http_status, messages_of


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
