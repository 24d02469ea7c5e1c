"""Home isolation: the list (with today's check-ins), registering someone, and the check-in page the
resident or the grid member fills in."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from civicgrid.core.errors import FORM_ERRORS
from civicgrid.core.places import ancestor_at
from civicgrid.core.scoping import require
from civicgrid.core.views import form_errors, scoped_view
from civicgrid.emergency import services
from civicgrid.emergency.forms import CheckInForm, IsolationForm
from civicgrid.emergency.models import Emergency
from civicgrid.emergency.selectors import isolation as iso
from civicgrid.emergency.selectors import modes


@scoped_view
@require_http_methods(["GET", "POST"])
def isolation_list(request: HttpRequest, scope: Any) -> HttpResponse:
    require(scope, "residents")
    today = timezone.localdate()
    form = IsolationForm(request.POST or None, scope=scope) if scope.may("emergency") else None
    if request.method == "POST":
        require(scope, "emergency")
        assert form is not None
        if form.is_valid():
            resident = form.cleaned_data["resident"]
            emergency = modes.emergency_list(scope=scope).filter(
                status=Emergency.Status.ACTIVE, community__path=_community_path(resident.household.place_path),
                hazard="epidemic").first()
            try:
                isolation = services.isolation_start(
                    user=request.user, scope=scope, resident=resident, start_date=form.cleaned_data["start_date"],
                    end_date=form.cleaned_data["end_date"], reason=form.cleaned_data["reason"], emergency=emergency)
            except FORM_ERRORS as exc:
                form_errors(form, exc)
            else:
                messages.success(request, _("%(name)s is registered in home isolation.") % {"name": resident.name})
                return redirect("emergency:isolation", isolation_id=isolation.pk)
    isolations = iso.isolation_list(scope=scope, active_on=today).order_by("checked_in", "end_date")  # type: ignore[misc]
    return render(request, "emergency/isolation_list.html", {
        "isolations": isolations[:200], "form": form, "today": today,
        "missed": iso.missed_open(scope=scope)[:50] if scope.may("emergency") else []},
        status=400 if form is not None and form.errors else 200)


def _community_path(place_path: str) -> str:
    return ancestor_at(place_path, "community")


@scoped_view
@require_http_methods(["GET", "POST"])
def isolation_detail(request: HttpRequest, scope: Any, isolation_id: int) -> HttpResponse:
    isolation = iso.isolation_get(scope=scope, isolation_id=isolation_id)
    form = CheckInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            data = dict(form.cleaned_data)
            data["item"], data["quantity"] = data.get("item") or "", data.get("quantity") or 1
            services.checkin_record(user=request.user, scope=scope, isolation=isolation, **data)
        except FORM_ERRORS as exc:
            form_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Check-in recorded."))
            return redirect("emergency:isolation", isolation_id=isolation.pk)
    return render(request, "emergency/isolation_detail.html", {
        "isolation": isolation, "form": form, "checkins": isolation.checkins.all(),
        "missed": isolation.missed.filter(resolved_at__isnull=True)}, status=400 if form.errors else 200)
