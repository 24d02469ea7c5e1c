"""Registry pages. Thin: scope from the role, data from selectors, writes through services."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from civicgrid.accounts.roles import scope_for
from civicgrid.core.audit import event_choices, event_label
from civicgrid.core.importing import ImportRejected, read_tables, write_csv_zip, write_xlsx
from civicgrid.core.scoping import require
from civicgrid.engine.registry_format import TABLES
from civicgrid.registry import selectors, services
from civicgrid.registry.forms import HouseholdForm, ImportForm, ResidentForm


def scoped_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Log-in required; a record outside the user's scope is 'not found', never 'forbidden'."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, scope_for(request.user), *args, **kwargs)
        except ObjectDoesNotExist:
            raise Http404(_("Not found in your area.")) from None

    return wrapper


@scoped_view
def place_browse(request: HttpRequest, scope: Any, place_id: int | None = None) -> HttpResponse:
    place = selectors.place_get(scope=scope, place_id=place_id) if place_id else None
    children = selectors.place_list(scope=scope, parent=place).annotate(n_children=Count("children"))
    households = None
    if place is not None and place.level in {"grid", "building"}:
        households = Paginator(selectors.household_list(scope=scope, place=place), 50).get_page(
            request.GET.get("page"))
    return render(request, "registry/places.html", {
        "place": place, "children": children, "households": households,
        "ancestors": selectors.place_ancestors(place) if place else [],
    })


@scoped_view
def household_search(request: HttpRequest, scope: Any) -> HttpResponse:
    query = request.GET.get("q", "")
    page = Paginator(selectors.household_list(scope=scope, query=query), 50).get_page(request.GET.get("page"))
    return render(request, "registry/households.html", {"page": page, "q": query})


@scoped_view
def household_detail(request: HttpRequest, scope: Any, household_id: int) -> HttpResponse:
    household = selectors.household_get(scope=scope, household_id=household_id)
    residents = selectors.resident_list(scope=scope, household=household)
    return render(request, "registry/household_detail.html", {
        "household": household,
        "contact_phone": selectors.show_identity(scope, household.contact_phone),
        "rows": [(r, selectors.show_identity(scope, r.id_number), selectors.show_identity(scope, r.phone))
                 for r in residents],
    })


@scoped_view
@require_http_methods(["GET", "POST"])
def household_edit(request: HttpRequest, scope: Any, household_id: int) -> HttpResponse:
    require(scope, "edit")
    household = selectors.household_get(scope=scope, household_id=household_id)
    form = HouseholdForm(request.POST or None, instance=household, scope=scope)
    if request.method == "POST" and form.is_valid():
        services.household_update(user=request.user, scope=scope, household=selectors.household_get(
            scope=scope, household_id=household_id), **form.cleaned_data)
        messages.success(request, _("Household saved."))
        return redirect("registry:household", household_id=household_id)
    return render(request, "registry/form.html", {"form": form, "title": _("Edit household"),
                                                  "back": household})


@scoped_view
@require_http_methods(["GET", "POST"])
def resident_add(request: HttpRequest, scope: Any, household_id: int) -> HttpResponse:
    require(scope, "edit")
    household = selectors.household_get(scope=scope, household_id=household_id)
    form = ResidentForm(request.POST or None, scope=scope)
    if request.method == "POST" and form.is_valid():
        services.resident_create(user=request.user, scope=scope, household=household, **form.cleaned_data)
        messages.success(request, _("Resident added."))
        return redirect("registry:household", household_id=household_id)
    return render(request, "registry/form.html", {"form": form, "title": _("Add resident"), "back": household})


@scoped_view
@require_http_methods(["GET", "POST"])
def resident_edit(request: HttpRequest, scope: Any, resident_id: int) -> HttpResponse:
    require(scope, "edit")
    resident = selectors.resident_get(scope=scope, resident_id=resident_id)
    form = ResidentForm(request.POST or None, instance=resident, scope=scope)
    if request.method == "POST" and form.is_valid():
        services.resident_update(user=request.user, scope=scope, resident=selectors.resident_get(
            scope=scope, resident_id=resident_id), **form.cleaned_data)
        messages.success(request, _("Resident saved."))
        return redirect("registry:household", household_id=resident.household_id)
    return render(request, "registry/form.html", {"form": form, "title": _("Edit resident"),
                                                  "back": resident.household})


@scoped_view
def actor_list(request: HttpRequest, scope: Any) -> HttpResponse:
    sector = request.GET.get("sector", "")
    return render(request, "registry/actors.html", {"actors": selectors.actor_list(scope=scope, sector=sector),
                                                    "sector": sector})


@scoped_view
def actor_detail(request: HttpRequest, scope: Any, actor_id: int) -> HttpResponse:
    actor = selectors.actor_get(scope=scope, actor_id=actor_id)
    posts = selectors.actor_posts(scope=scope, actor=actor) if scope.may("people") else []
    return render(request, "registry/actor_detail.html", {"actor": actor, "posts": posts})


@scoped_view
@require_http_methods(["GET", "POST"])
def registry_import(request: HttpRequest, scope: Any) -> HttpResponse:
    require(scope, "import")
    form = ImportForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form}
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            tables = read_tables(upload, filename=upload.name, expected=TABLES)
            context["counts"] = services.registry_import(user=request.user, scope=scope, tables=tables)
        except ImportRejected as rejected:
            context.update(errors=rejected.errors, total=rejected.total, omitted=rejected.omitted)
            status = rejected.status
    return render(request, "registry/import.html", context, status=status)


@scoped_view
@require_http_methods(["GET", "POST"])
def registry_export(request: HttpRequest, scope: Any) -> HttpResponse:
    """GET says what an export holds (and whether ID numbers are masked); the POST downloads it and
    records the export in the audit log (a page view never writes)."""
    require(scope, "export")
    if request.method == "GET":
        return render(request, "registry/export.html", {"masked": not scope.identity_clearance})
    tables = selectors.registry_tables(scope=scope)
    services.registry_export_recorded(user=request.user, scope=scope, counts={k: len(v[1]) for k, v in tables.items()},
                                      masked=not scope.identity_clearance)
    if request.POST.get("format") == "xlsx":
        response = HttpResponse(write_xlsx(tables), content_type=(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
        response["Content-Disposition"] = 'attachment; filename="civicgrid-registry.xlsx"'
    else:
        response = HttpResponse(write_csv_zip(tables), content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="civicgrid-registry.zip"'
    return response


class AuditFilterForm(forms.Form):
    """The audit page's filters; every choice comes from the viewer's scope."""

    event = forms.ChoiceField(label=gettext_lazy("Event"), required=False)
    user = forms.TypedChoiceField(label=gettext_lazy("Who"), required=False, coerce=int, empty_value=None)
    place = forms.ChoiceField(label=gettext_lazy("Place"), required=False)
    since = forms.DateField(label=gettext_lazy("From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=gettext_lazy("To"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data: Any, *, scope: Any) -> None:
        super().__init__(data)
        every = ("", "—")
        self.fields["event"].choices = [every, *event_choices()]  # type: ignore[attr-defined]
        self.fields["user"].choices = [every, *((str(pk), name)  # type: ignore[attr-defined]
                                                for pk, name in selectors.audit_users(scope=scope))]
        self.fields["place"].choices = [every, *selectors.audit_places(scope=scope)]  # type: ignore[attr-defined]


@scoped_view
def audit_log(request: HttpRequest, scope: Any) -> HttpResponse:
    require(scope, "audit")
    form = AuditFilterForm(request.GET, scope=scope)
    form.is_valid()  # an invalid filter is shown with its error and not applied; the others are
    filters = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
    rows = selectors.audit_list(scope=scope, event=filters.get("event", ""), user_id=filters.get("user"),
                                place=filters.get("place", ""), since=filters.get("since"),
                                until=filters.get("until"))
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    for entry in page:  # shown, never saved: birth dates hidden without identity clearance
        entry.label = event_label(entry.event)  # type: ignore[attr-defined]
        entry.changes = selectors.audit_changes(  # type: ignore[attr-defined]
            selectors.show_audit_values(scope, entry.old), selectors.show_audit_values(scope, entry.new))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "registry/audit.html", {"page": page, "form": form, "query": query.urlencode(),
                                                   "filtered": bool(filters)})
