"""Sweep pages. The progress and list pages run a fixed number of queries whatever the number of
households (aggregates and one page of visits), and the visit page fits a phone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from civicgrid.core.errors import FORM_ERRORS, error_text
from civicgrid.core.paging import paginate
from civicgrid.core.scoping import require
from civicgrid.core.views import form_errors, scoped_view
from civicgrid.emergency import services
from civicgrid.emergency.forms import VisitForm
from civicgrid.emergency.selectors import modes
from civicgrid.emergency.selectors import sweeps as sw
from civicgrid.registry.selectors import resident_list

PAGE = 30


@scoped_view
@require_POST
def sweep_start(request: HttpRequest, scope: Any, emergency_id: int) -> HttpResponse:
    require(scope, "emergency_manage")
    emergency = modes.emergency_get(scope=scope, emergency_id=emergency_id)
    try:
        sweep = services.sweep_start(user=request.user, scope=scope, emergency=emergency)
    except FORM_ERRORS as exc:
        messages.error(request, error_text(exc))
        return redirect("emergency:detail", emergency_id=emergency.pk)
    return redirect("emergency:sweep", sweep_id=sweep.pk)


@scoped_view
def sweep(request: HttpRequest, scope: Any, sweep_id: int) -> HttpResponse:
    """Progress per grid; with one grid in view (a grid member, or ?grid=) the visits to make, vulnerable
    households first, one page at a time."""
    item = sw.sweep_get(scope=scope, sweep_id=sweep_id)
    progress = sw.sweep_progress(scope=scope, sweep=item)
    grid_id = request.GET.get("grid")
    if not grid_id and len(progress) == 1:
        grid_id = str(progress[0].grid_id)
    grid = sw.sweep_grids(scope=scope, sweep=item).filter(pk=grid_id).first() if grid_id else None
    context: dict[str, Any] = {"sweep": item, "emergency": item.emergency, "progress": progress, "grid": grid}
    if grid is not None:
        now = timezone.now()
        context["page"] = paginate(sw.visits_to_do(scope=scope, sweep=item, grid=grid, now=now), PAGE, request.GET.get("page"))
        context["later"] = list(sw.visits_later(scope=scope, sweep=item, grid=grid, now=now)[:PAGE])
    return render(request, "emergency/sweep.html", context)


@scoped_view
def sweep_print(request: HttpRequest, scope: Any, sweep_id: int, grid_id: int) -> HttpResponse:
    """One grid's whole sweep list on paper: every household still to visit, vulnerable first, with
    empty boxes for the outcome (for a grid member without a phone signal, or a door-to-door team)."""
    item = sw.sweep_get(scope=scope, sweep_id=sweep_id)
    grid = sw.sweep_grids(scope=scope, sweep=item).get(pk=grid_id)
    now = timezone.now()
    return render(request, "emergency/sweep_print.html", {
        "sweep": item, "emergency": item.emergency, "grid": grid, "now": now,
        "visits": list(sw.visits_to_do(scope=scope, sweep=item, grid=grid, now=now)),
        "later": list(sw.visits_later(scope=scope, sweep=item, grid=grid, now=now))})


@scoped_view
@require_http_methods(["GET", "POST"])
def visit(request: HttpRequest, scope: Any, visit_id: int) -> HttpResponse:
    item = sw.visit_get(scope=scope, visit_id=visit_id)
    form = VisitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        hours = data.get("revisit_in_hours") or 4
        try:
            services.sweep_visit_record(user=request.user, scope=scope, visit=item, outcome=data["outcome"], note=data["note"],
                                        need=data["need"], item=data.get("item") or "",
                                        quantity=data.get("quantity") or 1,
                                        revisit_at=timezone.now() + timedelta(hours=hours))
        except FORM_ERRORS as exc:
            form_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Visit recorded: %(address)s.") % {"address": item.household.address})
            following = sw.visits_to_do(scope=scope, sweep=item.sweep, grid=item.grid).exclude(pk=item.pk).first()
            if following is not None:
                return redirect("emergency:visit", visit_id=following.pk)
            return redirect(reverse("emergency:sweep", args=[item.sweep_id]) + f"?grid={item.grid_id}")
    residents = resident_list(scope=scope, household=item.household) if scope.may("residents") else []
    return render(request, "emergency/visit.html", {"visit": item, "form": form, "residents": residents},
                  status=400 if form.errors else 200)
