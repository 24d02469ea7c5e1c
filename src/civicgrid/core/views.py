"""What every app's pages share: the scoped view and showing a service's refusal on a form.

A page view is ``@scoped_view``: it requires a login and receives the user's scope. A service's
domain error (:mod:`civicgrid.core.errors`) that the view does not catch becomes the matching error
page (:class:`civicgrid.core.middleware.DomainErrorMiddleware`); a view that shows a form catches it
and calls :func:`form_errors`, so the message appears next to the field it names.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from civicgrid.accounts.roles import scope_for
from civicgrid.core.errors import field_errors


def scoped_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Log-in required; the view gets ``(request, scope, ...)``. Out of scope is "not found"."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return view(request, scope_for(request.user), *args, **kwargs)

    return wrapper


def form_errors(form: forms.BaseForm, exc: BaseException) -> None:
    """Show a service's refusal next to the field it names (or above the form)."""
    for name, messages in field_errors(exc).items():
        form.add_error(name if name in form.fields else None, messages)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page (``handler500``): no database, no login, just the request id to quote."""
    from django.template import loader

    from civicgrid.core.logs import request_id

    rid = getattr(request, "request_id", "") or request_id()
    body = loader.get_template("core/500.html").render({"request_id": rid})
    return HttpResponse(body, status=500)
