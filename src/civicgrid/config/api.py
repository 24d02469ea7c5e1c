"""The JSON API (OpenAPI schema at /api/openapi.json, docs at /api/docs). Errors are 4xx with a reason:
domain errors (civicgrid.core.errors) are mapped here, once, with the same statuses as the pages."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.security import django_auth

from civicgrid.core.errors import Conflict, detail, http_status
from civicgrid.core.importing import ImportRejected
from civicgrid.core.plugins import app_module, plugins

api = NinjaAPI(title="civicgrid API", version="1", auth=django_auth, urls_namespace="api")
for label, plugin in plugins().items():
    if plugin.api:
        import importlib

        api.add_router(f"/{label}", importlib.import_module(app_module(label, "api")).router)


def _domain_error(request: HttpRequest, exc: Any) -> HttpResponse:
    return api.create_response(request, {"detail": detail(exc)}, status=http_status(exc) or 400)


for _error in (ObjectDoesNotExist, PermissionDenied, ValidationError, Conflict):
    api.add_exception_handler(_error, _domain_error)


@api.exception_handler(ImportRejected)
def rejected(request: HttpRequest, exc: ImportRejected) -> HttpResponse:
    errors = [{"table": e.table, "row": e.row, "column": e.column, "value": e.value, "reason": e.reason}
              for e in exc.errors]
    return api.create_response(request, {"detail": str(exc), "errors": errors, "total": exc.total},
                               status=exc.status)
