"""Registry pages. Thin: scope from the role, data from selectors, writes through services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.http import (
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from civicgrid.core.audit import event_choices, event_label
from civicgrid.core.errors import Conflict
from civicgrid.core.exporting import stream_csv_zip, stream_xlsx_export, write_xlsx
from civicgrid.core.importing import ImportRejected, read_tables
from civicgrid.core.paging import paginate
from civicgrid.core.scoping import require
from civicgrid.core.staging import stage, staged, unstage
from civicgrid.core.views import scoped_view
from civicgrid.engine.registry_format import TABLES
from civicgrid.registry import auditwords, roster, selectors, services, spreadsheet
from civicgrid.registry.forms import HouseholdForm, ImportForm, ResidentForm
from civicgrid.registry.models import CRITICAL_FUNCTION_LABELS


@scoped_view
def place_browse(request: HttpRequest, scope: Any, place_id: int | None = None) -> HttpResponse:
    place = selectors.place_get(scope=scope, place_id=place_id) if place_id else None
    children = selectors.place_list(scope=scope, parent=place).annotate(n_children=Count("children"))
    households = None
    if place is not None and place.level in {"grid", "building"}:
        households = paginate(selectors.household_list(scope=scope, place=place), 50, request.GET.get("page"))
    return render(request, "registry/places.html", {
        "place": place, "children": children, "households": households,
        "limited": not selectors.sees_welfare_and_health(scope),
        "ancestors": selectors.place_ancestors(place) if place else [],
    })


@scoped_view
def household_search(request: HttpRequest, scope: Any) -> HttpResponse:
    query = request.GET.get("q", "")
    page = paginate(selectors.household_list(scope=scope, query=query), 50, request.GET.get("page"))
    too_many = bool(selectors.PHONE_SUFFIX.match(query.strip())) and selectors.phone_suffix_too_many(
        selectors.household_list(scope=scope))
    return render(request, "registry/households.html", {"page": page, "q": query, "phone_suffix_too_many": too_many,
                                                        "id_search_refused": selectors.id_number_search_refused(
                                                            scope, query),
                                                        "narrowed": selectors.search_narrowed(scope=scope, query=query),
                                                        "limited": not selectors.sees_welfare_and_health(scope)})


@scoped_view
def household_suggest(request: HttpRequest, scope: Any) -> JsonResponse:
    """Matches as the user types (civicgrid.js fetches this): a few households, each with its link."""
    query = request.GET.get("q", "")[:60]
    results = selectors.household_suggestions(scope=scope, query=query)
    for r in results:
        r["url"] = reverse("registry:household", kwargs={"household_id": r["id"]})
    return JsonResponse({"q": query, "results": results})


@scoped_view
def household_detail(request: HttpRequest, scope: Any, household_id: int) -> HttpResponse:
    household = selectors.household_get(scope=scope, household_id=household_id)
    residents = selectors.resident_list(scope=scope, household=household)
    return render(request, "registry/household_detail.html", {
        "household": household, "limited": not selectors.sees_welfare_and_health(scope),
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
    # paged: a district holds thousands of actors (4,084 at 1M households), all drawn took 1.7 s (issue 15)
    page = paginate(selectors.actor_list(scope=scope, sector=sector), 50, request.GET.get("page"))
    return render(request, "registry/actors.html", {"actors": page, "page": page, "sector": sector})


@scoped_view
def actor_detail(request: HttpRequest, scope: Any, actor_id: int) -> HttpResponse:
    actor = selectors.actor_get(scope=scope, actor_id=actor_id)
    posts = selectors.actor_posts(scope=scope, actor=actor) if scope.may("people") else []
    capacities = [(CRITICAL_FUNCTION_LABELS.get(k, k), v) for k, v in (actor.capacities or {}).items()]
    return render(request, "registry/actor_detail.html", {"actor": actor, "posts": posts, "capacities": capacities})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _error_rows(errors: list[Any]) -> list[dict[str, Any]]:
    """The import report's rows with the sheet and column names in the reader's language (as the template
    and the XLSX export name them), never the format's internal names."""
    return [{"table": _("(the file)") if e.table == "(file)" else spreadsheet.TABLE_LABELS.get(e.table, e.table),
             "column": spreadsheet.COLUMN_LABELS.get(e.table, {}).get(e.column, e.column),
             "row": e.row, "value": e.value, "reason": e.reason} for e in errors]


def _read(source: Any, filename: str) -> dict[str, Any]:
    tables, columns = spreadsheet.header_aliases()
    return read_tables(source, filename=filename, expected=TABLES, table_aliases=tables, column_aliases=columns)


@scoped_view
@require_http_methods(["GET", "POST"])
def registry_import(request: HttpRequest, scope: Any) -> HttpResponse:
    """Upload, preview (new, changed, unchanged per table), apply: the file is kept between the two
    steps (core.staging.stage) so that what is applied is what was previewed."""
    require(scope, "import")
    applying = request.method == "POST" and bool(request.POST.get("apply"))
    form = ImportForm(None if applying else (request.POST or None), None if applying else (request.FILES or None))
    context: dict[str, Any] = {"form": form}
    status = 200
    owner = request.user.pk
    try:
        if applying:
            token = request.POST.get("token", "")
            path = staged(token, owner=owner)
            if path is None:
                raise Conflict(_("The previewed file has expired: upload it again."))
            result = services.registry_import(user=request.user, scope=scope, tables=_read(path, path.name),
                                              update=True, expected=request.POST.get("plan", ""))
            unstage(token, owner=owner)
            context["applied"] = _count_rows(result)
        elif request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            plan = services.registry_import_plan(scope=scope, tables=_read(upload, upload.name))
            context.update(preview=_preview_rows(scope, plan), plan=roster.digest(plan),
                           token=stage(upload, filename=upload.name, owner=owner),
                           anything=any(tp.new or tp.changed for tp in plan.values()))
    except ImportRejected as rejected:
        context.update(errors=_error_rows(rejected.errors), total=rejected.total, omitted=rejected.omitted)
        status = rejected.status
    except Conflict as exc:
        context["conflict"] = exc.message if hasattr(exc, "message") else str(exc)
        status = 409
    return render(request, "registry/import.html", context, status=status)


_IDENTITY_COLUMNS = {"id_number", "phone", "contact_phone"}
_SHOWN_CHANGES = 100


def _preview_rows(scope: Any, plan: roster.Plan) -> list[dict[str, Any]]:
    """Per table: its label, counts and the first changed records with each changed field (labelled;
    ID numbers and phones as this role may see them)."""
    out = []
    for table, tp in plan.items():
        labels = spreadsheet.COLUMN_LABELS[table]
        changes = []
        for change in tp.changed[:_SHOWN_CHANGES]:
            fields = []
            for column, (old, new) in change.fields.items():
                if column in _IDENTITY_COLUMNS:
                    old, new = selectors.show_identity(scope, old or ""), selectors.show_identity(scope, new or "")
                elif column == "birth_date" and not scope.identity_clearance:
                    old, new = "****-**-**", "****-**-**"
                fields.append({"label": labels.get(column, column), "old": _shown(table, column, old),
                               "new": _shown(table, column, new)})
            code = getattr(change.record, "code", "") or f"{change.row.get('person_code')} @ {change.row.get('actor_code')}"
            changes.append({"code": code, "fields": fields})
        out.append({"table": table, "label": spreadsheet.TABLE_LABELS[table], **tp.counts(), "changes": changes,
                    "more": max(0, len(tp.changed) - _SHOWN_CHANGES)})
    return out


def _shown(table: str, column: str, value: Any) -> Any:
    field = spreadsheet.choice_field(table, column)
    if field is not None:
        return dict(field.choices or ()).get(value, value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return "" if value is None else value


def _count_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"label": spreadsheet.TABLE_LABELS[t], **c} for t, c in result.items() if t in spreadsheet.TABLE_LABELS]


@scoped_view
def registry_import_template(request: HttpRequest, scope: Any) -> HttpResponse:
    """An empty workbook to fill in: one sheet per table, headers in the user's language."""
    require(scope, "import")
    response = HttpResponse(write_xlsx(spreadsheet.template_tables()), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="civicgrid-registry-template.xlsx"'
    return response


class ExportForm(forms.Form):
    """The export's format and, when ID numbers and phones go out in full, the exporter's explicit
    acknowledgement of it (the box is only there, and only required, for an unmasked export)."""

    format = forms.ChoiceField(label=gettext_lazy("Format"), initial="zip", choices=[
        ("zip", gettext_lazy("CSV files (ZIP)")), ("xlsx", gettext_lazy("Excel workbook (XLSX)"))])
    confirm_unmasked = forms.BooleanField(
        label=gettext_lazy("I understand that this file holds full ID numbers and phone numbers, and I will keep "
                           "it safe"), required=False)

    def __init__(self, *args: Any, masked: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.masked = masked
        if masked:
            del self.fields["confirm_unmasked"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.masked and not data.get("confirm_unmasked"):
            self.add_error("confirm_unmasked", gettext_lazy(
                "Tick this box to export full ID numbers and phone numbers."))
        return data


@scoped_view
@require_http_methods(["GET", "POST"])
def registry_export(request: HttpRequest, scope: Any) -> HttpResponse | StreamingHttpResponse:
    """GET says what an export holds (and whether ID numbers are masked); the POST downloads it and
    records the export in the audit log (a page view never writes). An unmasked export (full ID numbers)
    is refused unless the exporter ticked that they know it."""
    require(scope, "export")
    masked = not scope.identity_clearance
    form = ExportForm(request.POST if request.method == "POST" else None, masked=masked)
    if request.method == "GET" or not form.is_valid():
        return render(request, "registry/export.html", {"masked": masked, "form": form},
                      status=200 if request.method == "GET" else 400)
    tables = selectors.registry_tables(scope=scope)
    services.registry_export_recorded(user=request.user, scope=scope, counts={k: len(v[1]) for k, v in tables.items()},
                                      masked=not scope.identity_clearance)
    # Streamed, CSV and XLSX alike: a district's export starts at once and never sits whole in the
    # server's memory or on its disk.
    if form.cleaned_data["format"] == "xlsx":  # for people: sheets, headers and values in their language
        response = StreamingHttpResponse(stream_xlsx_export(spreadsheet.localised_tables(tables)),
                                         content_type=XLSX)
        response["Content-Disposition"] = 'attachment; filename="civicgrid-registry.xlsx"'
    else:
        response = StreamingHttpResponse(stream_csv_zip(tables), content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="civicgrid-registry.zip"'
    return response


class AuditFilterForm(forms.Form):
    """The audit page's filters; every choice comes from the viewer's scope."""

    event = forms.ChoiceField(label=gettext_lazy("Event"), required=False)
    user = forms.TypedChoiceField(label=gettext_lazy("Who"), required=False, coerce=int, empty_value=None)
    place = forms.ChoiceField(label=gettext_lazy("Place"), required=False)
    since = forms.DateField(label=gettext_lazy("From"), required=False,
                            widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    until = forms.DateField(label=gettext_lazy("To"), required=False,
                            widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))

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
    page = paginate(rows, 50, request.GET.get("page"))
    for entry in page:  # shown, never saved: birth dates hidden without identity clearance
        entry.label = event_label(entry.event)  # type: ignore[attr-defined]
        entry.changes = auditwords.audit_changes(  # type: ignore[attr-defined]
            selectors.show_audit_values(scope, entry.old), selectors.show_audit_values(scope, entry.new), entry.model)
        entry.model_label = auditwords.model_label(entry.model)  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "registry/audit.html", {"page": page, "form": form, "query": query.urlencode(),
                                                   "filtered": bool(filters)})
