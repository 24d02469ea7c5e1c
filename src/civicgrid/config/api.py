"""The JSON API (OpenAPI schema at /api/openapi.json, docs at /api/docs). Errors are 4xx with a reason."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.security import django_auth

from civicgrid.core.importing import ImportRejected
from civicgrid.core.plugins import civicgrid_modules

api = NinjaAPI(title="civicgrid API", version="1", auth=django_auth, urls_namespace="api")
for label, module in civicgrid_modules("api"):
    api.add_router(f"/{label}", module.router)


@api.exception_handler(ObjectDoesNotExist)
def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": "not found in your area"}, status=404)


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "forbidden"}, status=403)


@api.exception_handler(ValidationError)
def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(request, {"detail": exc.message_dict if hasattr(exc, "error_dict")
                                         else exc.messages}, status=400)


@api.exception_handler(ImportRejected)
def rejected(request: HttpRequest, exc: ImportRejected) -> HttpResponse:
    errors = [{"table": e.table, "row": e.row, "column": e.column, "value": e.value, "reason": e.reason}
              for e in exc.errors]
    return api.create_response(request, {"detail": str(exc), "errors": errors, "total": exc.total},
                               status=exc.status)
