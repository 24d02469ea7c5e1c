"""Plan and checklist templates: read by everyone working on emergencies, edited by coordinators."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from civicgrid.core.errors import FORM_ERRORS
from civicgrid.core.scoping import require
from civicgrid.core.views import form_errors, scoped_view
from civicgrid.emergency import plan_format as pf
from civicgrid.emergency import services
from civicgrid.emergency.forms import ChecklistItemFormSet, PlanEditForm
from civicgrid.emergency.models import ChecklistTemplate
from civicgrid.emergency.selectors import modes


@scoped_view
def plan_list(request: HttpRequest, scope: Any) -> HttpResponse:
    require(scope, "emergency")
    return render(request, "emergency/plans.html", {"plans": modes.plans(),
                                                    "checklists": modes.checklist_templates()})


@scoped_view
def plan_detail(request: HttpRequest, scope: Any, plan_id: int) -> HttpResponse:
    require(scope, "emergency")
    plan = modes.plans().get(pk=plan_id)
    doc = plan.body
    # names, not keys: a task's command unit, the plan's checklists, the moments of its alert texts
    units = {u.get("key"): u.get("name") for u in doc.get("command_structure", [])}
    tasks = [{**t, "unit_name": units.get(t.get("unit"), t.get("unit"))} for t in doc.get("tasks", [])]
    names = {c.code: c.name for c in ChecklistTemplate.objects.filter(code__in=doc.get("checklists", []))}
    checklists = [names.get(code, code) for code in doc.get("checklists", [])]
    moments = {"opening": _("When the emergency opens"), "closing": _("When it closes")}
    alert_texts = [(moments.get(k, k), t) for k, t in doc.get("alert_texts", {}).items()]
    return render(request, "emergency/plan_detail.html", {
        "plan": plan, "doc": doc, "tasks": tasks, "checklists": checklists, "alert_texts": alert_texts,
        "can_edit": services.templates_editable(scope)})


@scoped_view
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, scope: Any, plan_id: int) -> HttpResponse:
    services.template_editor(scope)  # district-wide: 403 with the reason for anyone else
    plan = modes.plans().get(pk=plan_id)
    form = PlanEditForm(request.POST or None, initial={"document": pf.dump_yaml(plan.body)})
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_update(user=request.user, scope=scope, plan=plan, document_yaml=form.cleaned_data["document"])
        except FORM_ERRORS as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Plan saved."))
            return redirect("emergency:plan", plan_id=plan.pk)
    return render(request, "emergency/plan_edit.html", {"plan": plan, "form": form},
                  status=400 if form.errors else 200)


@scoped_view
@require_http_methods(["GET", "POST"])
def checklist_template(request: HttpRequest, scope: Any, template_id: int) -> HttpResponse:
    require(scope, "emergency")
    if request.method == "POST":
        services.template_editor(scope)  # district-wide: 403 with the reason for anyone else
    template = modes.checklist_templates().get(pk=template_id)
    items = list(template.items.all())
    initial = [{"id": i.pk, "text_zh": i.text_zh, "text_en": i.text_en, "kind": i.kind, "active": i.active}
               for i in items]
    formset = None
    if services.templates_editable(scope):
        formset = ChecklistItemFormSet(request.POST or None, initial=initial)
        if request.method == "POST" and formset.is_valid():
            try:
                n = services.checklist_items_update(user=request.user, scope=scope, template=template,
                                                    rows=[f.cleaned_data for f in formset.forms if f.cleaned_data])
            except FORM_ERRORS as exc:
                messages.error(request, "; ".join(exc.messages))
            else:
                messages.success(request, _("%(n)d items saved.") % {"n": n})
                return redirect("emergency:checklist_template", template_id=template.pk)
    return render(request, "emergency/checklist_template.html",
                  {"template": template, "items": items, "formset": formset})
