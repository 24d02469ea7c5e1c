"""Refuse an oversized upload before anything reads it (issue 11, finding 5).

Django parses a multipart body as soon as anything touches ``request.POST`` (the CSRF check does, before
any view), streaming its files to disk. This middleware, placed before that, answers 413 from the
request's declared length alone, so a multi-gigabyte upload is never read. The limit is the import
limit ``upload_bytes`` (``settings.CIVICGRID_IMPORT_LIMITS``; see civicgrid.core.importing).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.html import escape

from civicgrid.core.importing import upload_too_large


class UploadLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in {"POST", "PUT", "PATCH"}:
            message = upload_too_large(request.META.get("CONTENT_LENGTH"))
            if message:
                if request.path.startswith("/api/"):
                    return HttpResponse(f'{{"detail": "{escape(message)}"}}', status=413,
                                        content_type="application/json")
                return HttpResponse(f"<!doctype html><title>413</title><p>{escape(message)}</p>", status=413)
        return self.get_response(request)
