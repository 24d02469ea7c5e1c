"""A checklist sheet: one site or household, one day, ticked item by item."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from civicgrid.core.errors import FORM_ERRORS, error_text
from civicgrid.core.limits import int_param
from civicgrid.core.scoping import require, scoped
from civicgrid.core.views import scoped_view
from civicgrid.emergency import services
from civicgrid.emergency.models import ChecklistTemplate
from civicgrid.emergency.selectors import checklists as cl
from civicgrid.emergency.selectors import modes
from civicgrid.registry.models import Household, Place


def _day(value: str | None) -> date:
    day = parse_date(value or "") if value else None
    return day or timezone.localdate()


@scoped_view
@require_http_methods(["GET", "POST"])
def sheet(request: HttpRequest, scope: Any, template_id: int) -> HttpResponse:
    require(scope, "residents")
    template = modes.checklist_templates().get(pk=template_id)
    params = request.POST if request.method == "POST" else request.GET
    day = _day(params.get("day"))
    place = household = None
    if template.target == ChecklistTemplate.Target.SITE:
        place = scoped(Place.objects.filter(level__in=["community", "grid", "building"]), scope).get(
            pk=int_param(params.get("place", ""), "place"))
        subject = f"place:{place.pk}"
    else:
        household = scoped(Household.objects.all(), scope).get(pk=int_param(params.get("household", ""), "household"))
        subject = f"household:{household.pk}"
    items = list(template.items.filter(active=True))
    if request.method == "POST":
        try:
            done = {int(v) for v in request.POST.getlist("done")}
            services.checklist_save(user=request.user, scope=scope, template=template, day=day, done_item_ids=done,
                                    place=place, household=household)
        except (ValueError, *FORM_ERRORS, PermissionDenied) as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("Checklist saved."))
        query = f"?day={day.isoformat()}&" + (f"place={place.pk}" if place else f"household={household.pk}")  # type: ignore[union-attr]
        return redirect(reverse("emergency:sheet", args=[template.pk]) + query)
    done_ids = cl.sheet(scope=scope, template=template, subject=subject, day=day)
    return render(request, "emergency/sheet.html", {
        "template": template, "day": day, "place": place, "household": household,
        "rows": [(i, i.pk in done_ids) for i in items], "n_done": len(done_ids & {i.pk for i in items}),
        "n_items": len(items)})


@scoped_view
def overview(request: HttpRequest, scope: Any, template_id: int) -> HttpResponse:
    """Today's sheets of one checklist across the sites (grids) or isolated households in the area."""
    require(scope, "emergency")
    template = modes.checklist_templates().get(pk=template_id)
    day = _day(request.GET.get("day"))
    done = cl.progress(scope=scope, template=template, day=day)
    n_items = template.items.filter(active=True).count()
    if template.target == ChecklistTemplate.Target.SITE:
        subjects = [(f"place={p.pk}", p.name, done.get(f"place:{p.pk}", 0)) for p in
                    scoped(Place.objects.filter(level="grid"), scope).order_by("code")]
    else:
        from civicgrid.emergency.selectors.isolation import isolation_list

        homes = {i.household_id: i.household for i in isolation_list(scope=scope, active_on=day)}
        subjects = [(f"household={h.pk}", h.address, done.get(f"household:{h.pk}", 0)) for h in homes.values()]
    return render(request, "emergency/checklist_overview.html", {
        "template": template, "day": day, "subjects": subjects, "n_items": n_items})
