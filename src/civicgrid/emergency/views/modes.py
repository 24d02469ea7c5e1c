"""Modes and plans: the normal/emergency switch, an emergency's live page, drills, 'emergency now'."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicgrid.core.errors import FORM_ERRORS, error_text
from civicgrid.core.scoping import require
from civicgrid.core.views import form_errors, scoped_view
from civicgrid.emergency import services
from civicgrid.emergency.forms import ActivateForm, DeactivateForm, DrillForm
from civicgrid.emergency.selectors import modes
from civicgrid.emergency.selectors import now as now_board
from civicgrid.emergency.selectors import sweeps as sw


@scoped_view
def index(request: HttpRequest, scope: Any) -> HttpResponse:
    require(scope, "emergency")
    manage = scope.may("emergency_manage")
    return render(request, "emergency/index.html", {
        "modes": modes.community_modes(scope=scope), "plans": modes.plans(),
        "activate_form": ActivateForm(scope=scope) if manage else None,
        "drill_form": DrillForm(scope=scope) if manage else None,
        "recent": modes.emergency_list(scope=scope).order_by("-activated_at")[:10],
        "drills": modes.drills(scope=scope)[:10]})


@scoped_view
@require_POST
def activate(request: HttpRequest, scope: Any) -> HttpResponse:
    require(scope, "emergency_manage")
    form = ActivateForm(request.POST, scope=scope)
    if form.is_valid() and request.POST.get("confirmed") != "1":
        # ask first: what activating does and whom it alerts, before anything is written
        return render(request, "emergency/activate_confirm.html", {
            "form": form, "community": form.cleaned_data["community"], "plan": form.cleaned_data["plan"],
            "level": form.cleaned_data["level"] or form.cleaned_data["plan"].default_level,
            "reach": modes.activation_reach(scope=scope, community=form.cleaned_data["community"])})
    if form.is_valid():
        try:
            result = services.emergency_activate(user=request.user, scope=scope, community=form.cleaned_data["community"],
                                                 plan=form.cleaned_data["plan"],
                                                 level=form.cleaned_data["level"] or None)
        except FORM_ERRORS as exc:
            form_errors(form, exc)
        else:
            if result.created:
                messages.success(request, _("Emergency mode is on: live tasks assigned, opening alert sent."))
            else:
                messages.info(request, _("This emergency was already active; nothing changed."))
            return redirect("emergency:detail", emergency_id=result.emergency.pk)
    return render(request, "emergency/index.html", {
        "modes": modes.community_modes(scope=scope), "plans": modes.plans(), "activate_form": form,
        "drill_form": DrillForm(scope=scope), "recent": [], "drills": []}, status=400)


@scoped_view
def detail(request: HttpRequest, scope: Any, emergency_id: int) -> HttpResponse:
    emergency = modes.emergency_get(scope=scope, emergency_id=emergency_id)
    return _detail(request, scope, emergency, DeactivateForm(open_work=_open_work(scope, emergency)))


def _open_work(scope: Any, emergency: Any) -> modes.OpenWork | None:
    if emergency.status != "active":
        return None
    return modes.closing_open_work(scope=scope, emergency=emergency, today=timezone.localdate())


def _detail(request: HttpRequest, scope: Any, emergency: Any, form: DeactivateForm, status: int = 200) -> HttpResponse:
    tasks = modes.live_tasks(scope=scope, emergency=emergency)
    sweep = emergency.sweeps.order_by("-created_at").first()
    return render(request, "emergency/detail.html", {
        "emergency": emergency, "tasks": tasks, "n_done": tasks.filter(state="done").count(),
        "checklists": modes.emergency_checklists(emergency), "sweep": sweep,
        "progress": sw.sweep_progress(scope=scope, sweep=sweep) if sweep else [],
        "form": form if emergency.status == "active" and scope.may("emergency_manage") else None,
        "open_work": form.open_work,
        "today": timezone.localdate()}, status=status)


@scoped_view
@require_POST
def deactivate(request: HttpRequest, scope: Any, emergency_id: int) -> HttpResponse:
    require(scope, "emergency_manage")
    emergency = modes.emergency_get(scope=scope, emergency_id=emergency_id)
    form = DeactivateForm(request.POST, open_work=_open_work(scope, emergency))
    if form.is_valid():
        try:
            services.emergency_deactivate(user=request.user, scope=scope, emergency=emergency, **form.cleaned_data)
        except FORM_ERRORS as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Back to normal mode; the review is recorded."))
            return redirect("emergency:detail", emergency_id=emergency.pk)
    return _detail(request, scope, emergency, form, status=400)


@scoped_view
@require_POST
def task_done(request: HttpRequest, scope: Any, task_id: int) -> HttpResponse:
    task = modes.task_get(scope=scope, task_id=task_id)
    try:
        services.live_task_complete(user=request.user, scope=scope, task=task, note=request.POST.get("note", ""))
    except (*FORM_ERRORS, PermissionDenied) as exc:
        messages.error(request, error_text(exc))
    if request.POST.get("back") == "now":
        return redirect("emergency:now")
    return redirect("emergency:detail", emergency_id=task.emergency_id)


@scoped_view
@require_POST
def drill_start(request: HttpRequest, scope: Any) -> HttpResponse:
    require(scope, "emergency_manage")
    form = DrillForm(request.POST, scope=scope)
    if not form.is_valid():
        messages.error(request, _("Choose a community and a plan for the drill."))
        return redirect("emergency:index")
    drill = services.drill_start(user=request.user, scope=scope, **form.cleaned_data)
    messages.success(request, _("Drill started: the clock runs until the plan is activated."))
    return redirect("emergency:drill", drill_id=drill.pk)


@scoped_view
def drill(request: HttpRequest, scope: Any, drill_id: int) -> HttpResponse:
    if request.method == "POST":
        require(scope, "emergency_manage")
    item = modes.drills(scope=scope).get(pk=drill_id)
    if request.method == "POST":
        try:
            result = services.emergency_activate(user=request.user, scope=scope, community=item.community, plan=item.plan,
                                                 drill=item)
        except FORM_ERRORS as exc:
            messages.error(request, error_text(exc))
        else:
            return redirect("emergency:detail", emergency_id=result.emergency.pk)
    reach = modes.activation_reach(scope=scope, community=item.community) \
        if item.emergency_id is None and scope.may("emergency_manage") else None
    return render(request, "emergency/drill.html", {"drill": item, "reach": reach})


@scoped_view
def now(request: HttpRequest, scope: Any) -> HttpResponse:
    require(scope, "emergency")
    return render(request, "emergency/now.html", {
        "board": now_board.board(scope=scope, user=request.user, today=timezone.localdate())})
