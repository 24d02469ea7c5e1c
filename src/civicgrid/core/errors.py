"""Domain errors: the one way a service refuses. Pages and the API map them once to HTTP.

A service raises exactly one of these; it never returns an error value or raises a bare
``ValueError``. :func:`http_status` is the mapping both the API (``config/api.py``) and the pages
(:class:`civicgrid.core.middleware.DomainErrorMiddleware`, and :func:`civicgrid.core.views.form_errors`
on forms) use:

==============  ======  =========================================================================
error           status  meaning
==============  ======  =========================================================================
``Invalid``     400     the input breaks a rule; ``field_errors`` says which field, when known
``Forbidden``   403     the acting role may not use this kind of resource at all
``NotFound``    404     no such record in the acting user's scope (outside it looks the same)
``Conflict``    409     the request is valid but the current state refuses it (already claimed,
                        stock ran out, the vote closed); retrying later may succeed
==============  ======  =========================================================================

``Invalid`` is a Django ``ValidationError``, so model ``full_clean`` errors and form-level checks
need no translation; Django's own ``ValidationError``, ``PermissionDenied`` and ``ObjectDoesNotExist``
are mapped like ``Invalid``, ``Forbidden`` and ``NotFound``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _


class Invalid(ValidationError):
    """400: the input breaks a rule. ``Invalid({"quantity": "at least 1"})`` names the field."""


class Forbidden(PermissionDenied):
    """403: the role may not use this kind of resource."""

    def __init__(self, message: Any = "") -> None:
        super().__init__(message or _("Your role may not do this."))
        self.message = message or _("Your role may not do this.")


class NotFound(ObjectDoesNotExist):
    """404: not in the acting user's scope (or not at all: the two look the same)."""

    def __init__(self, message: Any = "") -> None:
        super().__init__(message or _("Not found in your area."))
        self.message = message or _("Not found in your area.")


class Conflict(Exception):
    """409: the state refuses the request now (a claim already taken, a closed vote)."""

    def __init__(self, message: Any, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def messages(self) -> list[str]:  # as a ValidationError has
        return [str(self.message)]


DomainError = Invalid | Forbidden | NotFound | Conflict
# What a form shows next to its fields (the rest become the error page or the API's answer).
FORM_ERRORS = (ValidationError, Conflict)


def http_status(exc: BaseException) -> int | None:
    """The HTTP status of a domain (or equivalent Django) error; None for anything else."""
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, ValidationError):
        return 400
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, ObjectDoesNotExist):
        return 404
    return None


def messages_of(exc: BaseException) -> list[str]:
    """The error's messages, as text a user can read."""
    if isinstance(exc, ValidationError):
        return [str(m) for m in exc.messages]
    if isinstance(exc, ObjectDoesNotExist) and not isinstance(exc, NotFound):
        # Django's own "Alert matching query does not exist." names a model, in English: say it plainly
        return [str(_("Not found in your area."))]
    message = getattr(exc, "message", None) or (exc.args[0] if exc.args else "")
    return [str(message)] if str(message) else []


def error_text(exc: BaseException) -> str:
    """The error's messages on one line (for a page message)."""
    return "; ".join(messages_of(exc))


def field_errors(exc: BaseException) -> dict[str | None, list[str]]:
    """Messages per field (None: not tied to a field), for forms and the API's 400 body."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return {(None if k == "__all__" else k): [str(m) for m in v] for k, v in exc.message_dict.items()}
    if isinstance(exc, Conflict) and exc.field:
        return {exc.field: messages_of(exc)}
    return {None: messages_of(exc)}


def detail(exc: BaseException) -> Any:
    """The API's ``detail``: a message, or messages per field."""
    errors = field_errors(exc)
    if list(errors) == [None]:
        return "; ".join(errors[None])
    return {(k or "__all__"): v for k, v in errors.items()}
