"""This app's part of each user's "my work" list and home figures (AppPlugin.work_items, glance)."""

from __future__ import annotations

from typing import Any

from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.plugins import DUE, OPEN, OVERDUE, Glance, WorkItem
from civicgrid.core.scoping import Scope, scoped
from civicgrid.procurement.conf import yuan
from civicgrid.procurement.models import Application, Appropriation, Call, Milestone, Reviewer

APP = "procurement"


def work_items(*, user: Any, scope: Scope) -> list[WorkItem]:
    if not scope.may("procurement") or not getattr(user, "pk", None):
        return []
    items = []
    calls = Reviewer.objects.filter(user_id=user.pk, call__status=Call.Status.OPEN).values("call_id")
    to_score = (Application.objects.filter(call_id__in=calls).exclude(scores__reviewer_id=user.pk)
                .select_related("call", "organisation__actor").order_by("call__deadline", "id")[:20])
    for a in to_score:
        items.append(WorkItem(kind="procurement.score", title=_("Score the application of %(org)s") % {
            "org": a.organisation.actor.name}, detail=a.call.title, app=APP, urgency=DUE,
            url=reverse("procurement:application", args=[a.pk])))
    to_decide = (Milestone.objects.filter(contract__arbiter_id=user.pk, status=Milestone.Status.PENDING)
                 .select_related("contract__call").order_by("due_on", "id")[:20])
    today = timezone.localdate()
    for m in to_decide:
        items.append(WorkItem(kind="procurement.decide", title=_("Accept or reject milestone: %(title)s") % {
            "title": m.title}, detail=m.contract.call.title, app=APP, urgency=OVERDUE if m.due_on < today else OPEN,
            url=reverse("procurement:contract", args=[m.contract_id])))
    if scope.may("procurement_manage"):
        to_pay = (scoped(Milestone.objects.filter(status=Milestone.Status.ACCEPTED), scope)
                  .select_related("contract__call").order_by("decided_at", "id")[:20])
        for m in to_pay:
            items.append(WorkItem(kind="procurement.pay", title=_("Pay milestone: %(title)s") % {"title": m.title},
                                  detail=f"{m.contract.call.title} · {yuan(m.amount_fen)} " + _("yuan"), app=APP,
                                  urgency=DUE, url=reverse("procurement:contract", args=[m.contract_id])))
    return items


def glance(*, user: Any, scope: Scope) -> list[Glance]:
    if not scope.may("procurement_manage"):
        return []
    totals = scoped(Appropriation.objects.all(), scope).aggregate(amount=Sum("amount_fen"), spent=Sum("spent_fen"))
    if not totals["amount"]:
        return []
    return [Glance(key="procurement.spent", label=_("Purchased services: paid / appropriated"), app=APP, order=70,
                   value=f"{yuan(totals['spent'] or 0)} / {yuan(totals['amount'])} " + _("yuan"),
                   url=reverse("procurement:calls"))]
