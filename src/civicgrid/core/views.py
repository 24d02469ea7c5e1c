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
    """The 500 page (``handler500``): the request id to quote and what to do; the menu if the database
    still answers (nothing else is read, so the page itself does not fail)."""
    from django.template import loader

    from civicgrid.core.logs import request_id

    rid = getattr(request, "request_id", "") or request_id()
    context: dict[str, Any] = {"request_id": rid, "nav": []}
    try:  # the site's menu when the database still answers; the page without it when it does not
        from civicgrid.accounts.context import role

        if request.user.is_authenticated:
            context["nav"] = role(request)["nav"]
    except Exception:  # noqa: BLE001 - the error page itself must not fail
        pass
    body = loader.get_template("core/500.html").render(context)
    return HttpResponse(body, status=500)
