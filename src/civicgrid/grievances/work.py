"""The grievances app's part of each user's home page (``AppPlugin.work_items`` and ``glance``): reads
through the caller's scope only. Handlers see the complaints waiting at their level (overdue first), reviewers
the appeals they may decide, residents their own complaints to follow or rate."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from civicgrid.core.plugins import DUE, OPEN, OVERDUE, WORK_LIMIT, Glance, WorkItem, with_rest
from civicgrid.core.scoping import Scope
from civicgrid.grievances import chain, selectors
from civicgrid.grievances.models import Grievance

HANDLERS = {"grid_member", "community_director", "district_official"}


def _item(g: Grievance, kind: str, urgency: int, title: str, due: Any) -> WorkItem:
    return WorkItem(kind=kind, title=title, url=reverse("grievances:detail", args=[g.pk]), app="grievances",
                    place=g.grid.name, due=due, urgency=urgency, detail=str(g.get_state_display()))


def work_items(*, user: Any, scope: Scope) -> list[WorkItem]:
    if not scope.may("grievances"):
        return []
    now, items = timezone.now(), []
    list_url = reverse("grievances:list")
    if scope.role in HANDLERS and scope.may("grievances_handle"):
        level = chain.level_of_user(user)
        waiting = selectors.grievance_list(scope=scope, state="open").filter(level=level).order_by("level_due_at", "id")
        shown = []
        for g in waiting[:WORK_LIMIT]:
            due = min((d for d in (g.level_due_at, g.due_at) if d is not None), default=None)
            urgency = OVERDUE if due is not None and due < now else DUE
            shown.append(_item(g, "grievances.waiting", urgency, _("Complaint %(code)s: %(about)s") % {
                "code": g.code, "about": g.get_kind_display()}, due))
        items += with_rest(shown, waiting.count(), lambda n: WorkItem(
            kind="grievances.waiting", title=ngettext("%(n)d more complaint waiting", "%(n)d more complaints waiting",
                                                      n) % {"n": n}, url=list_url + "?state=open", app="grievances",
            urgency=DUE, count=n))
    if scope.may("grievances_review"):
        appeals = list(selectors.pending_appeals(scope=scope).order_by("due_at")[:WORK_LIMIT])
        # nobody reviews an appeal of a complaint they handled: the chains of all shown appeals asked at once
        held = chain.chains_holding(user, [a.grievance for a in appeals])
        for appeal in appeals:
            g = appeal.grievance
            if g.pk in held:
                continue
            items.append(WorkItem(kind="grievances.appeal", title=_("Appeal of complaint %(code)s to review") % {
                "code": g.code}, url=reverse("grievances:detail", args=[g.pk]), app="grievances", due=appeal.due_at,
                urgency=OVERDUE if appeal.due_at < now else DUE))
    if scope.role == "resident":
        mine = selectors.grievance_list(scope=scope).filter(household_id__in=scope.household_ids)
        for g in mine.exclude(state="closed", rating__isnull=False)[:WORK_LIMIT]:
            title = (_("Complaint %(code)s is answered: rate it or appeal") if g.state == "closed"
                     else _("Your complaint %(code)s")) % {"code": g.code}
            items.append(_item(g, "grievances.mine", OPEN, title, g.due_at))
    return items


def glance(*, user: Any, scope: Scope) -> list[Glance]:
    if not scope.may("grievances"):
        return []
    if scope.role == "resident":
        return [Glance(key="grievances.file", label=_("Complain or appeal"), url=reverse("grievances:new"),
                       app="grievances", order=45, lines=(_("Not treated fairly? File a complaint; you get an answer "
                                                           "on time and may appeal."),))]
    if scope.may("grievances_handle"):
        n = selectors.grievance_list(scope=scope, overdue=True).count()
        return [Glance(key="grievances.overdue", label=_("Overdue complaints"), value=str(n),
                       url=reverse("grievances:list") + "?state=open", app="grievances", order=25, alarm=n > 0)]
    return []
