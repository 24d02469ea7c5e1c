"""Relief pages. Thin: scope from the role, data from selectors, writes through services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST

from civicgrid.analytics.charts import to_div
from civicgrid.core.errors import FORM_ERRORS, error_text
from civicgrid.core.limits import int_param
from civicgrid.core.paging import paginate
from civicgrid.core.scoping import Scope, require
from civicgrid.core.views import form_errors, scoped_view
from civicgrid.registry.vulnerability_words import summary_text
from civicgrid.relief import forms as f
from civicgrid.relief import jobs, selectors, services
from civicgrid.relief.models import (
    CATEGORIES,
    SEED_CEILING,
    URGENCIES,
    DeliveryTask,
    Need,
    RoundConfirmation,
)
from civicgrid.relief.preview import RECOMMENDED, lead_sentence
from civicgrid.relief.preview import chart as preview_chart
from civicgrid.relief.text import allocation_sentence, policy_rows, rule_version_label
from civicgrid.relief.work import tasks_near


# --- needs ----------------------------------------------------------------------------------------
def _act(request: HttpRequest, action: Callable[[], object], *, success: str) -> bool:
    """Run a service for a POST button and report the outcome as a message: a refused action shows its
    reason instead of failing. Returns whether it succeeded."""
    try:
        action()
    except FORM_ERRORS as error:
        messages.error(request, " ".join(error.messages))
        return False
    messages.success(request, success)
    return True


SORT_LABELS = {"urgency": _lazy("Most urgent first"), "newest": _lazy("Newest first"), "oldest": _lazy("Oldest first")}

@scoped_view
def need_list(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, "relief")
    if scope.role == "resident":
        return redirect("relief:my_needs")
    status, category, query, urgency, sort = (request.GET.get(k, "") for k in ("status", "category", "q", "urgency",
                                                                             "sort"))
    urgency = urgency if urgency in URGENCIES else ""
    sort = sort if sort in selectors.NEED_SORTS else "urgency"
    needs = selectors.need_list(scope=scope, status=status, category=category, query=query, urgency=urgency,
                                sort=sort)
    page = paginate(needs, 50, request.GET.get("page"))
    counts = selectors.need_counts(scope=scope)
    return render(request, "relief/needs.html", {
        "page": page, "status": status, "category": category, "q": query, "statuses": Need.Status.choices,
        "categories": CATEGORIES.items(), "urgency": urgency, "urgencies": URGENCIES.items(), "sort": sort,
        "sorts": ((s, SORT_LABELS[s]) for s in selectors.NEED_SORTS),
        "status_cards": [(label, counts.get(value, 0)) for value, label in Need.Status.choices],
        "filters": urlencode({k: v for k, v in (("status", status), ("category", category), ("q", query),
                                                ("urgency", urgency), ("sort", sort)) if v}),
    })


@scoped_view
@require_http_methods(["GET", "POST"])
def need_new(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, "relief")
    initial = {"household": request.GET.get("household", "")}
    form = f.NeedForm(request.POST or None, scope=scope, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        household_id = data.get("household") or next(iter(scope.household_ids), None)
        try:
            filing = services.need_file(
                user=request.user, scope=scope, household_id=household_id, item=data["item"],
                category=data["category"], quantity=data["quantity"], urgency=data["urgency"], note=data["note"],
                channel=data.get("channel", ""), key=data["idempotency_key"])
        except FORM_ERRORS as error:
            form_errors(form, error)
        else:
            if filing.replayed:
                messages.info(request, _("This form was already sent; nothing new was recorded."))
            elif filing.merged:
                messages.success(request, _("Merged into the open need for the same item: it now asks for %(n)d "
                                            "(was %(before)d).") % {"n": filing.filing.quantity_after,
                                                                    "before": filing.filing.quantity_before})
            else:
                messages.success(request, _("Need recorded."))
            return redirect("relief:need", need_id=filing.need.pk)
    return render(request, "relief/need_form.html", {"form": form}, status=400 if form.errors else 200)


@scoped_view
def need_detail(request: HttpRequest, scope: Scope, need_id: int) -> HttpResponse:
    need = selectors.need_get(scope=scope, need_id=need_id)
    progress = selectors.need_progress(scope=scope, needs=[need], with_codes=scope.role == "resident"
                                       or selectors.show_codes(scope))[0]
    return render(request, "relief/need_detail.html", {
        "need": need, "progress": progress, "filings": selectors.need_filings(scope=scope, need=need, newest=100),
        "allocations": [(a, allocation_sentence(a)) for a in progress.allocations],
    })


@scoped_view
@require_POST
def need_cancel(request: HttpRequest, scope: Scope, need_id: int) -> HttpResponse:
    _act(request, lambda: services.need_cancel(user=request.user, scope=scope, need_id=need_id),
         success=_("Need cancelled."))
    return redirect("relief:need", need_id=need_id)


@scoped_view
def my_needs(request: HttpRequest, scope: Scope) -> HttpResponse:
    progress = selectors.my_needs(scope=scope)
    return render(request, "relief/my_needs.html", {
        "rows": [(p, [allocation_sentence(a) for a in p.allocations]) for p in progress]})


# --- stock ----------------------------------------------------------------------------------------
@scoped_view
@require_http_methods(["GET", "POST"])
def stock(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, "relief")
    if request.method == "POST":  # receiving and issuing are the coordinator's (403 before the form is read)
        require(scope, "relief_manage")
    issue = f.IssueForm(request.POST if request.POST.get("action") == "issue" else None, scope=scope, prefix="issue")
    receive = f.ReceiveForm(request.POST if request.POST.get("action") == "receive" else None, scope=scope,
                            prefix="receive")
    if request.method == "POST":
        form = issue if request.POST.get("action") == "issue" else receive
        if form.is_valid():
            data = form.cleaned_data
            try:
                if form is issue:
                    entries = services.stock_issue(user=request.user, scope=scope, item=data["item"],
                                                   point_id=data["point"], quantity=data["quantity"],
                                                   reason=data["reason"])
                    messages.success(request, _("Issued %(n)d units from %(lots)d lot(s).") % {
                        "n": data["quantity"], "lots": len(entries)})
                else:
                    require(scope, "relief_manage")
                    point = selectors.point_get(scope=scope, point_id=int(data["point"]))
                    services.stock_receive(user=request.user, scope=scope, item=selectors.catalogue_item(data["item"]),
                                           point=point, quantity=data["quantity"], expiry=data["expiry"],
                                           source=data["reason"])
                    messages.success(request, _("Stock received."))
                return redirect("relief:stock")
            except FORM_ERRORS as error:
                form_errors(form, error)
    status = 400 if issue.errors or receive.errors else 200
    return render(request, "relief/stock.html", {
        "levels": selectors.stock_levels(scope=scope), "issue": issue, "receive": receive,
        "points": selectors.point_list(scope=scope)}, status=status)


@scoped_view
def ledger(request: HttpRequest, scope: Scope) -> HttpResponse:
    entries = selectors.ledger_list(scope=scope)
    return render(request, "relief/ledger.html", {
        "page": paginate(entries, 100, request.GET.get("page"))})


# --- offers ---------------------------------------------------------------------------------------
@scoped_view
@require_http_methods(["GET", "POST"])
def offers(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, "relief")
    form = f.OfferForm(request.POST or None, scope=scope)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.offer_pledge(user=request.user, scope=scope, donor_id=int(data["donor"]), item=data["item"],
                                  quantity=data["quantity"], point_id=int(data["point"]), expiry=data["expiry"],
                                  note=data["note"])
            messages.success(request, _("Pledge recorded."))
            return redirect("relief:offers")
        except FORM_ERRORS as error:
            form_errors(form, error)
    page = paginate(selectors.offer_list(scope=scope), 50, request.GET.get("page"))
    return render(request, "relief/offers.html", {"form": form, "page": page, "step": f.OfferStepForm()},
                  status=400 if form.errors else 200)


@scoped_view
@require_POST
def offer_step(request: HttpRequest, scope: Scope, offer_id: int) -> HttpResponse:
    require(scope, "relief_manage")
    offer = selectors.offer_get(scope=scope, offer_id=offer_id)
    form = f.OfferStepForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors.as_text())
        return redirect("relief:offers")
    try:
        services.offer_advance(user=request.user, scope=scope, offer_id=offer.pk, **form.cleaned_data)
        messages.success(request, _("Offer updated."))
    except FORM_ERRORS as error:
        messages.error(request, error_text(error))
    return redirect("relief:offers")


# --- allocation rounds ----------------------------------------------------------------------------
@scoped_view
def rounds(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = f.RoundForm(scope=scope)
    return render(request, "relief/rounds.html", {"rounds": selectors.round_list(scope=scope)[:50], "form": form,
                                                  "confirmations": selectors.confirmation_list(scope=scope)[:10]})


@scoped_view
@require_http_methods(["GET", "POST"])
def round_preview(request: HttpRequest, scope: Scope) -> HttpResponse:
    """GET: the preview of every policy; POST: confirm the chosen one."""
    require(scope, "relief_manage")
    data = request.POST if request.method == "POST" else request.GET
    form = f.RoundForm(data, scope=scope)
    if not form.is_valid():
        return render(request, "relief/rounds.html", {"rounds": selectors.round_list(scope=scope)[:50],
                                                      "form": form}, status=400)
    selection = {"place_ids": form.cleaned_data["places"], "item_codes": form.cleaned_data["items"],
                 "days": form.cleaned_data["days"]}
    confirm = f.ConfirmForm(data if request.method == "POST" else None, scope=scope)
    if request.method == "POST" and confirm.is_valid():
        confirmed = _confirm(request, scope, confirm.cleaned_data, selection)
        if confirmed is not None:
            return confirmed
    elif request.method == "POST":  # its fields are hidden: a bad one (an old or altered page) is said at the top
        messages.error(request, _("Preview the round again before confirming it."))
    try:
        seed_set = bool(data.get("seed"))
        preview = selectors.round_preview(scope=scope, seed=int_param(data["seed"], "seed", minimum=0,
                                                                      maximum=SEED_CEILING - 1) if seed_set else None,
                                          **selection)
        seed = preview.seed
    except FORM_ERRORS as error:
        form_errors(form, error)
        return render(request, "relief/rounds.html", {"rounds": selectors.round_list(scope=scope)[:50],
                                                      "form": form}, status=400)
    confirm = f.ConfirmForm(scope=scope, initial={
        "places": selection["place_ids"], "items": selection["item_codes"], "days": selection["days"],
        "seed": seed, "fingerprint": preview.inputs.fingerprint, "needs_up_to": preview.inputs.last_need_id,
        "policy": data.get("policy", "equity")})
    by_policy = {o.policy: o.metrics for o in preview.outcomes}
    return render(request, "relief/round_preview.html", {
        "form": confirm, "inputs": preview.inputs, "seed": seed, "seed_set": seed_set,
        "rows": policy_rows(by_policy, recommended=RECOMMENDED), "examples": _examples(preview),
        "sentence": lead_sentence(by_policy, recommended=RECOMMENDED),
        "chart": to_div(preview_chart(by_policy)) if len(preview.inputs.requests) else "",
        "selection": selection,
        "n_requests": len(preview.inputs.requests), "need_units": int(preview.inputs.requests["need"].sum())
        if len(preview.inputs.requests) else 0,
        "stock_units": int(preview.inputs.stock["quantity"].sum()) if len(preview.inputs.stock) else 0,
    })


def _confirm(request: HttpRequest, scope: Scope, data: dict[str, Any], selection: dict[str, Any]
             ) -> HttpResponse | None:
    """Confirm the previewed round: at once, or, from ``background_requests`` needs waiting on (a district round
    takes a minute; :func:`services.round_confirm_or_queue` decides), as a job whose page shows its progress. None
    (and the reason as a message) when refused."""
    try:
        made = services.round_confirm_or_queue(
            user=request.user, scope=scope, policy=data["policy"], seed=data["seed"], fingerprint=data["fingerprint"],
            needs_up_to=data.get("needs_up_to"), **selection)
    except FORM_ERRORS as error:
        messages.error(request, " ".join(error.messages))
        return None
    if isinstance(made, RoundConfirmation):
        return redirect("relief:round_confirmation", confirmation_id=made.pk)
    round = made
    messages.success(request, _("Round confirmed: %(units)d units to %(n)d requests.") % {
        "units": round.units_allocated, "n": round.n_requests})
    return redirect("relief:round", round_id=round.pk)


def _examples(preview: selectors.RoundPreview, n: int = 8) -> list[dict[str, Any]]:
    """The most vulnerable requests, and what each policy gives them."""
    requests = preview.inputs.requests
    if requests.empty:
        return []
    labels = {i.code: i.label for i in selectors.item_list(active_only=False)}
    top = requests.sort_values(["weight", "request_id"], ascending=[False, True]).head(n).index
    return [{"weight": requests.at[i, "weight"], "item": labels.get(requests.at[i, "item"], requests.at[i, "item"]),
             "need": int(requests.at[i, "need"]), "floor": int(requests.at[i, "floor"]),
             "reason": summary_text(requests.at[i, "weight_reason"] or ""),  # stored in the engine's English
             "allocated": [{"policy": o.policy, "units": int(o.result.at[i, "allocated"])} for o in preview.outcomes]}
            for i in top]


@scoped_view
def round_detail(request: HttpRequest, scope: Scope, round_id: int) -> HttpResponse:
    # the snapshot's summary, not the snapshot (a district's is seconds to decode); a recomputation reads it whole
    round = selectors.round_get(scope=scope, round_id=round_id, frozen=False)
    check = selectors.round_check(scope=scope, round=round) if request.GET.get("verify") else None
    summary = round.snapshot_summary
    tasks = selectors.round_task_counts(scope=scope, round=round)
    names = {i.code: i.label for i in selectors.item_list(active_only=False)}
    return render(request, "relief/round_detail.html", {
        "round": round, "rows": policy_rows(round.metrics), "check": check,
        "rules": rule_version_label(round.rule_version),
        "items": selectors.item_list(active_only=False).filter(code__in=round.item_codes),
        "task_counts": [(label, tasks[s]) for s, label in DeliveryTask.Status.choices],
        "snapshot": {k: v for k, v in summary.items() if k != "stock"},
        "stock": [(names.get(item, item), point, quantity) for item, point, quantity in
                  zip(*(summary["stock"][c] for c in ("item", "point", "quantity")), strict=True)],
    })


@scoped_view
def round_confirmation(request: HttpRequest, scope: Scope, confirmation_id: int) -> HttpResponse:
    """A queued round's confirmation: its progress while the job runs (the page refreshes itself), then its
    round, or why it was refused, in the reader's language."""
    confirmation = selectors.confirmation_get(scope=scope, confirmation_id=confirmation_id)
    names = {i.code: i.label for i in selectors.item_list(active_only=False).filter(code__in=confirmation.item_codes)}
    return render(request, "relief/round_confirmation.html", {
        "confirmation": confirmation, "under_way": confirmation.status in (RoundConfirmation.Status.QUEUED,
                                                                           RoundConfirmation.Status.RUNNING),
        "items": [names.get(code, code) for code in confirmation.item_codes],
        "places": len(confirmation.place_ids), "reasons": jobs.reasons(confirmation)})


# --- deliveries -----------------------------------------------------------------------------------
@scoped_view
def tasks(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, "relief")
    # open tasks: near the user first (own building, own grid) or by due time or building; by pick-up point;
    # one page at a time, with the count
    sort = request.GET.get("sort", "near")
    claimable = tasks_near(scope=scope, user=request.user)
    if sort == "due":
        claimable = claimable.order_by("due_at", "id")
    elif sort == "building":
        claimable = claimable.order_by("building__name", "due_at", "id")
    else:
        sort = "near"
    points = list(claimable.order_by().values_list("point_id", "point__name").distinct())
    point = request.GET.get("point", "")
    if point.isdigit():
        claimable = claimable.filter(point_id=int(point))
    context: dict[str, Any] = {
        "held": selectors.task_held(scope=scope, user=request.user),
        "claimable": paginate(claimable, 20, request.GET.get("cpage")),
        "sort": sort, "point": point, "points": sorted(points, key=lambda p: p[1]),
        "sorts": [("near", _("nearest first")), ("due", _("soonest due first")), ("building", _("by building"))],
    }
    if scope.area_paths or scope.unrestricted:
        status = request.GET.get("status", "")
        context["area"] = paginate(selectors.task_area(scope=scope, status=status), 50, request.GET.get("page"))
        context["status"] = status
        context["statuses"] = DeliveryTask.Status.choices
    return render(request, "relief/tasks.html", context)


@scoped_view
def task_detail(request: HttpRequest, scope: Scope, task_id: int) -> HttpResponse:
    task = selectors.task_get(scope=scope, user=request.user, task_id=task_id)
    return _task_page(request, scope, task)


def _task_page(request: HttpRequest, scope: Scope, task: DeliveryTask, *, forms: dict[int, Any] | None = None,
               status: int = 200) -> HttpResponse:
    holder = task.status == DeliveryTask.Status.CLAIMED and task.claimed_by_id == request.user.pk
    stops = selectors.task_stops(scope=scope, task=task)
    forms = forms or {}
    recipients = selectors.stop_recipients(stops)
    lines = selectors.stop_lines(task=task, stops=stops)
    rows = [{"stop": s, "recipient": recipients.get(s.pk, ""),
             "deliver": forms.get(s.pk, (f.DeliverForm(prefix=f"s{s.pk}"), None))[0],
             "fail": forms.get(s.pk, (None, f.FailForm(prefix=f"f{s.pk}")))[1] or f.FailForm(prefix=f"f{s.pk}"),
             "lines": lines[s.pk]} for s in stops]
    manage = scope.may("relief_manage")
    return render(request, "relief/task_detail.html", {
        "task": task, "holder": holder, "rows": rows, "n_stops": selectors.task_stop_count(task),
        "claimable": selectors.task_claimable(scope=scope).filter(pk=task.pk).exists(), "manage": manage,
        "assign": f.AssignForm(scope=scope, initial={"organisation": task.organisation_id}) if manage else None,
    }, status=status)


@scoped_view
@require_POST
def task_assign(request: HttpRequest, scope: Scope, task_id: int) -> HttpResponse:
    form = f.AssignForm(request.POST, scope=scope)
    if form.is_valid():
        organisation = form.cleaned_data["organisation"]
        try:
            services.delivery_task_assign(user=request.user, scope=scope, task_id=task_id,
                                          organisation_id=int(organisation) if organisation else None)
            messages.success(request, _("Task updated."))
        except FORM_ERRORS as error:
            messages.error(request, " ".join(error.messages))
    return redirect("relief:task", task_id=task_id)


@scoped_view
@require_POST
def stop_new_code(request: HttpRequest, scope: Scope, task_id: int, stop_id: int) -> HttpResponse:
    _act(request, lambda: services.stop_code_reissue(user=request.user, scope=scope, stop_id=stop_id),
         success=_("A new code was issued; the household sees it on its page."))
    return redirect("relief:task", task_id=task_id)


@scoped_view
@require_POST
def task_claim(request: HttpRequest, scope: Scope, task_id: int) -> HttpResponse:
    claimed = _act(request, lambda: services.delivery_task_claim(user=request.user, scope=scope, task_id=task_id),
                   success=_("The task is yours: the addresses are below."))
    return redirect("relief:task", task_id=task_id) if claimed else redirect("relief:tasks")


@scoped_view
@require_POST
def task_release(request: HttpRequest, scope: Scope, task_id: int) -> HttpResponse:
    services.delivery_task_release(user=request.user, scope=scope, task_id=task_id)
    messages.success(request, _("The task is back in the queue."))
    return redirect("relief:tasks")


@scoped_view
@require_POST
def stop_deliver(request: HttpRequest, scope: Scope, task_id: int, stop_id: int) -> HttpResponse:
    task = selectors.task_get(scope=scope, user=request.user, task_id=task_id)
    form = f.DeliverForm(request.POST, prefix=f"s{stop_id}")
    if form.is_valid():
        try:
            services.delivery_stop_deliver(user=request.user, scope=scope, stop_id=stop_id, code=form.cleaned_data["code"])
            messages.success(request, _("Delivery confirmed."))
            return redirect(reverse("relief:task", args=[task_id]) if _still_held(task, request) else
                            reverse("relief:tasks"))
        except FORM_ERRORS as error:
            form_errors(form, error)
    return _task_page(request, scope, task, forms={stop_id: (form, None)}, status=400)


@scoped_view
@require_POST
def stop_call(request: HttpRequest, scope: Scope, task_id: int, stop_id: int) -> HttpResponse:
    """Record the call, then show the number with a tap-to-call link (a POST: calling is logged)."""
    task = selectors.task_get(scope=scope, user=request.user, task_id=task_id)
    phone = services.delivery_stop_call(user=request.user, scope=scope, task_id=task.pk, stop_id=stop_id)
    stop = next(s for s in selectors.task_stops(scope=scope, task=task) if s.pk == stop_id)
    return render(request, "relief/call.html", {"task": task, "stop": stop, "phone": phone,
                                                "recipient": selectors.stop_recipients([stop]).get(stop.pk, "")})


@scoped_view
@require_POST
def stop_fail(request: HttpRequest, scope: Scope, task_id: int, stop_id: int) -> HttpResponse:
    task = selectors.task_get(scope=scope, user=request.user, task_id=task_id)
    form = f.FailForm(request.POST, prefix=f"f{stop_id}")
    if form.is_valid():
        try:
            services.delivery_stop_fail(user=request.user, scope=scope, stop_id=stop_id, reason=form.cleaned_data["reason"],
                                        note=form.cleaned_data["note"])
            messages.success(request, _("Recorded; the delivery goes back to the queue."))
            return redirect(reverse("relief:task", args=[task_id]) if _still_held(task, request) else
                            reverse("relief:tasks"))
        except FORM_ERRORS as error:
            form_errors(form, error)
    return _task_page(request, scope, task, forms={stop_id: (None, form)}, status=400)


def _still_held(task: DeliveryTask, request: HttpRequest) -> bool:
    return DeliveryTask.objects.filter(pk=task.pk, status=DeliveryTask.Status.CLAIMED,
                                       claimed_by_id=request.user.pk).exists()
