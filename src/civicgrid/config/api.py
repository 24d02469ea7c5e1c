"""The JSON API (OpenAPI schema at /api/openapi.json, docs at /api/docs). Errors are 4xx with a reason:
domain errors (civicgrid.core.errors) are mapped here, once, with the same statuses as the pages."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import ValidationError as SchemaError
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


@api.exception_handler(SchemaError)
def schema_error(request: HttpRequest, exc: SchemaError) -> HttpResponse:
    """Input the schema refuses (a quantity above the limit, a note too long, a missing field) is a 400
    with the reason per field, like a service's ``Invalid``; not ninja's default 422."""
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        # an element of a list (``places[3]``) is refused under the list's name: the field the client sent
        loc = [str(part) for part in error.get("loc", ())
               if part not in ("body", "query", "path", "payload") and not isinstance(part, int)]
        field = ".".join(loc[-1:]) or "__all__"
        fields.setdefault(field, []).append(schema_message(field, error))
    return api.create_response(request, {"detail": fields}, status=400)


def schema_message(field: str, error: dict[str, Any]) -> str:
    """The schema's refusal in the words the services use (pydantic's own message otherwise)."""
    ctx, value = error.get("ctx") or {}, error.get("input")
    kind = error.get("type", "")
    if kind == "greater_than_equal":
        return _("must be at least %(min)s, got %(value)s") % {"min": ctx.get("ge"), "value": value}
    if kind == "less_than_equal":
        return _("must be at most %(max)s, got %(value)s") % {"max": ctx.get("le"), "value": value}
    if kind == "string_too_long":
        return _("at most %(max)s characters, got %(n)d") % {"max": ctx.get("max_length"), "n": len(str(value))}
    if kind == "string_too_short":
        return _("at least %(min)s characters") % {"min": ctx.get("min_length")}
    if kind in {"literal_error", "enum"}:
        return _("unknown %(field)s %(value)r: expected %(expected)s") % {
            "field": field, "value": value, "expected": ctx.get("expected")}
    if kind == "string_pattern_mismatch":
        return _("%(value)r does not have the required form %(pattern)s") % {"value": value,
                                                                             "pattern": ctx.get("pattern")}
    return str(error.get("msg", "invalid"))


@api.exception_handler(OverflowError)
def overflow(request: HttpRequest, exc: OverflowError) -> HttpResponse:
    """A number too large for the database (a last line: the schemas bound every number)."""
    return api.create_response(request, {"detail": "a number is too large"}, status=400)


@api.exception_handler(ImportRejected)
def rejected(request: HttpRequest, exc: ImportRejected) -> HttpResponse:
    errors = [{"table": e.table, "row": e.row, "column": e.column, "value": e.value, "reason": e.reason}
              for e in exc.errors]
    return api.create_response(request, {"detail": str(exc), "errors": errors, "total": exc.total},
                               status=exc.status)
