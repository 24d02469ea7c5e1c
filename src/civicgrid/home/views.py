"""Each role's home page: one "my work" list fed by every app (``AppPlugin.work_items``) and the figures
and notices of every app (``AppPlugin.glance``); the large-text switch. Thin: the apps' hooks read."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from civicgrid.core.paging import paginate
from civicgrid.core.plugins import glance_for, work_for
from civicgrid.core.scoping import Scope
from civicgrid.core.views import scoped_view
from civicgrid.home.context import TEXT_COOKIE

PAGE_SIZE = 20
APP_LABELS = {"cases": _("Cases"), "emergency": _("Emergency"), "relief": _("Relief"), "alerts": _("Alerts"),
              "registry": _("Registry"), "council": _("Council")}


def _app_label(label: str) -> Any:
    """An app's name in the reader's language: the table above, else the app's own (translated) verbose name."""
    from django.apps import apps

    if label in APP_LABELS:
        return APP_LABELS[label]
    try:
        return apps.get_app_config(label).verbose_name
    except LookupError:
        return label


HEADINGS = {
    "resident": (_("Your home"), _("For you")),
    "grid_member": (_("Today's work in your grids"), _("To do, most pressing first")),
    "volunteer": (_("Tasks near you"), _("Your tasks")),
    "org_staff": (_("Given to your organisation"), _("Everything given to your organisation")),
    "community_director": (_("Your area at a glance"), _("Details")),
    "district_official": (_("Your area at a glance"), _("Details")),
}


@scoped_view
def home(request: HttpRequest, scope: Scope) -> HttpResponse:
    items = work_for(user=request.user, scope=scope)
    counts = Counter[str]()
    for item in items:
        counts[item.app] += item.count
    app = request.GET.get("app", "")
    app = app if app in counts else ""
    if request.GET.get("sort") == "due":
        items = sorted(items, key=lambda i: (i.due is None, i.due or "", i.urgency))  # type: ignore[arg-type,return-value]
    shown = [i for i in items if not app or i.app == app]
    page = paginate(shown, PAGE_SIZE, request.GET.get("page"))
    title: Any
    title, work_title = HEADINGS.get(scope.role, (_("Home"), _("My work")))
    actor = getattr(getattr(request.user, "role", None), "actor", None) if scope.role == "org_staff" else None
    if actor is not None:
        title = _("Given to %(organisation)s") % {"organisation": actor.name}
    return render(request, "home/home.html", {
        "title": title, "work_title": work_title, "glances": glance_for(user=request.user, scope=scope),
        "page": page, "app": app, "sort": request.GET.get("sort", ""), "total": sum(counts.values()),
        "n_shown": sum(i.count for i in shown),
        "apps": [(label, _app_label(label), n) for label, n in counts.items()],
        "is_resident": scope.role == "resident",
    })


@require_POST
def text_size(request: HttpRequest) -> HttpResponse:
    """Switch the large-text mode (for elderly readers) on or off; kept in a cookie for a year."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = reverse("home")
    response = HttpResponseRedirect(target)
    if request.POST.get("size") == "large":
        response.set_cookie(TEXT_COOKIE, "large", max_age=365 * 24 * 3600, samesite="Lax",
                            secure=request.is_secure(), httponly=True)
    else:
        response.delete_cookie(TEXT_COOKIE, samesite="Lax")
    return response
