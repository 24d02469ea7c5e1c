"""The JSON API (OpenAPI schema at /api/openapi.json, docs at /api/docs). Errors are 4xx with a reason:
domain errors (civicgrid.core.errors) are mapped here, once, with the same statuses as the pages."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import HttpError
from ninja.errors import ValidationError as SchemaError
from ninja.security import django_auth

from civicgrid.core.errors import Conflict, detail, http_status
from civicgrid.core.importing import ImportRejected
from civicgrid.core.plugins import app_module, plugins


class _Api(NinjaAPI):
    def validation_error_from_error_contexts(self, error_contexts: list[Any]) -> SchemaError:
        """Ninja's errors, each with the value it refused put back (ninja drops it): the reason quotes it, as a
        service's does ("must be at least 1, got 0")."""
        error = super().validation_error_from_error_contexts(error_contexts)
        refused = [e.get("input", _NOT_SENT) for context in error_contexts
                   for e in context.pydantic_validation_error.errors(include_url=False)]
        if len(refused) == len(error.errors):  # one to one, in order, as ninja lists them
            for each, value in zip(error.errors, refused, strict=True):
                each["input"] = value
        return error


_NOT_SENT = object()
api = _Api(title="civicgrid API", version="1", auth=django_auth, urls_namespace="api")
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
    """The schema's refusal in the words the services use, in the reader's language, quoting the value refused
    where that helps (shortened: it is the client's own input). Pydantic's own words only for a kind not named
    here, and only in English."""
    ctx, kind = error.get("ctx") or {}, error.get("type", "")
    if kind in _BOUNDS:
        words, limit = _BOUNDS[kind]
        return _got(words % {"limit": ctx.get(limit)}, error)
    if kind in {"literal_error", "enum"}:  # pydantic lists them as "'a', 'b' or 'c'": its "or" is English
        allowed = str(ctx.get("expected", "")).replace(" or ", ", ")
        return _got(_("not one of the values allowed: %(expected)s") % {"expected": allowed}, error)
    if kind == "string_too_long":
        return _("at most %(max)s characters, got %(n)d") % {"max": ctx.get("max_length"),
                                                              "n": len(str(error.get("input", "")))}
    if kind == "string_too_short":
        least = int(ctx.get("min_length") or 0)
        return ngettext("at least %(n)d character", "at least %(n)d characters", least) % {"n": least}
    if kind == "too_long":
        most = int(ctx.get("max_length") or 0)
        return ngettext("at most %(n)d item", "at most %(n)d items", most) % {"n": most}
    if kind == "too_short":
        least = int(ctx.get("min_length") or 0)
        return ngettext("at least %(n)d item", "at least %(n)d items", least) % {"n": least}
    if kind == "string_pattern_mismatch":
        return _("does not have the required form")
    if kind in _KINDS:
        return str(_KINDS[kind])
    if (get_language() or "").startswith("en"):
        return str(error.get("msg", "invalid"))
    return _("not a valid value")


def _got(reason: str, error: dict[str, Any]) -> str:
    """``reason``, and the value refused when ninja kept it."""
    if "input" not in error or error["input"] is _NOT_SENT:
        return reason
    value, source = error["input"], (error.get("loc") or ("body",))[0]
    # a path's or query's value is the text sent; a body's, as JSON writes it (the API's own language); cut
    # before it is written out (a body may hold megabytes), a list or object only named
    if isinstance(value, str):
        text = value[:41] if source in ("path", "query") else json.dumps(value[:41], ensure_ascii=False)
    elif isinstance(value, list | tuple | dict):
        text = "{…}" if isinstance(value, dict) else "[…]"
    else:
        text = json.dumps(value, default=str)
    return _("%(reason)s, got %(value)s") % {"reason": reason,
                                             "value": text if len(text) <= 40 else text[:39] + "…"}


# a bound's kind: its words and the context key of its limit
_BOUNDS = {
    "greater_than_equal": (gettext_lazy("must be at least %(limit)s"), "ge"),
    "greater_than": (gettext_lazy("must be above %(limit)s"), "gt"),
    "less_than_equal": (gettext_lazy("must be at most %(limit)s"), "le"),
    "less_than": (gettext_lazy("must be below %(limit)s"), "lt"),
}
# pydantic's kinds of refusal a client meets, in the services' words
_KINDS = {
    "missing": gettext_lazy("this field is required"),
    **dict.fromkeys(("int_parsing", "int_type", "int_from_float", "int_parsing_size"),
                    gettext_lazy("must be a whole number")),
    **dict.fromkeys(("float_parsing", "float_type", "finite_number"), gettext_lazy("must be a number")),
    **dict.fromkeys(("bool_parsing", "bool_type"), gettext_lazy("must be true or false")),
    **dict.fromkeys(("string_type", "string_unicode"), gettext_lazy("must be text")),
    **dict.fromkeys(("list_type", "tuple_type", "set_type"), gettext_lazy("must be a list")),
    **dict.fromkeys(("dict_type", "model_type", "model_attributes_type"), gettext_lazy("must be an object")),
    **dict.fromkeys(("date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact", "date_type"),
                    gettext_lazy("must be a date (YYYY-MM-DD)")),
    **dict.fromkeys(("datetime_parsing", "datetime_from_date_parsing", "datetime_type"),
                    gettext_lazy("must be a date and time (ISO 8601)")),
    "json_invalid": gettext_lazy("the body is not valid JSON"),
    "extra_forbidden": gettext_lazy("not a field of this request"),
}


# ninja's own refusals, worded by status: its English ("Cannot parse request body", "Unauthorized") would reach a
# Chinese reader
_HTTP_WORDS = {
    400: gettext_lazy("The request's body is not valid JSON."),
    401: gettext_lazy("Sign in first."),
    # ninja's only 403 here: a session's write without its CSRF token (a form's hidden field, the API's header)
    403: gettext_lazy("The request lacks its security token: reload the page and try again (an API client sends "
                      "the csrftoken cookie's value as the X-CSRFToken header)."),
    429: gettext_lazy("Too many requests: try again in a moment."),
}


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    words = _HTTP_WORDS.get(exc.status_code)
    return api.create_response(request, {"detail": str(words) if words else str(exc)}, status=exc.status_code)


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
