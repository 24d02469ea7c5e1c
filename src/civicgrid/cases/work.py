"""The cases app's part of each user's home page (see ``AppPlugin.work_items`` and ``glance``): reads
through the caller's scope only.

* grid members: cases in their grids past or within a day of their time limit, and handled cases to verify;
* social-organisation staff: cases dispatched to their organisation;
* directors and district officials: overdue cases in their area, verified cases to close;
* residents: their own open reports.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from civicgrid.cases import transitions as tx
from civicgrid.cases.models import Case
from civicgrid.cases.selectors import case_list
from civicgrid.core.plugins import DUE, OPEN, OVERDUE, WORK_LIMIT, Glance, WorkItem, with_rest
from civicgrid.core.scoping import Scope

AREA_ROLES = {"district_official", "community_director", "grid_member"}


def _item(case: Case, kind: str, urgency: int, detail: str = "") -> WorkItem:
    return WorkItem(kind=kind, title=f"{case.category.name}: {case.description[:60]}",
                    url=reverse("cases:detail", args=[case.pk]), app="cases", place=case.grid.name,
                    due=case.due_at, urgency=urgency, detail=detail or str(case.get_state_display()))


def _listed(cases: QuerySet[Case], kind: str, urgency: Any, rest_title: Any, rest_url: str) -> list[WorkItem]:
    shown = [_item(c, kind, urgency(c)) for c in cases.order_by("due_at", "id")[:WORK_LIMIT]]
    return with_rest(shown, cases.count(), lambda n: WorkItem(
        kind=kind, title=rest_title(n), url=rest_url, app="cases", urgency=min((i.urgency for i in shown), default=OPEN),
        count=n))


def due_cases(*, scope: Scope, now: Any = None) -> QuerySet[Case]:
    """Cases still waiting for handling whose time limit has passed or passes within a day."""
    now = now or timezone.now()
    return case_list(scope=scope).filter(state__in=tx.OPEN_STATES, due_at__lt=now + timedelta(days=1))


def work_items(*, user: Any, scope: Scope) -> list[WorkItem]:
    if not scope.may("cases"):
        return []
    now = timezone.now()
    items: list[WorkItem] = []
    list_url = reverse("cases:list")
    if scope.role == "grid_member":
        items += _listed(due_cases(scope=scope, now=now), "cases.due",
                         lambda c: OVERDUE if c.due_at < now else DUE,
                         lambda n: ngettext("%(n)d more case due", "%(n)d more cases due", n) % {"n": n},
                         f"{list_url}?overdue=1")
        items += _listed(case_list(scope=scope, state="handled"), "cases.verify", lambda c: OPEN,
                         lambda n: ngettext("%(n)d more case to verify", "%(n)d more cases to verify", n) % {"n": n},
                         f"{list_url}?state=handled")
    elif scope.role in AREA_ROLES:
        items += _listed(case_list(scope=scope, overdue=True, now=now), "cases.overdue", lambda c: OVERDUE,
                         lambda n: ngettext("%(n)d more overdue case", "%(n)d more overdue cases", n) % {"n": n},
                         f"{list_url}?overdue=1")
        items += _listed(case_list(scope=scope, state="verified"), "cases.close", lambda c: OPEN,
                         lambda n: ngettext("%(n)d more case to close", "%(n)d more cases to close", n) % {"n": n},
                         f"{list_url}?state=verified")
    elif scope.role == "org_staff":
        given = case_list(scope=scope, state="dispatched").filter(handler_id__in=scope.actor_ids)
        items += _listed(given, "cases.dispatched", lambda c: OVERDUE if c.due_at < now else DUE,
                         lambda n: ngettext("%(n)d more case given to your organisation",
                                            "%(n)d more cases given to your organisation", n) % {"n": n},
                         f"{list_url}?state=dispatched")
    elif scope.role == "resident":
        mine = case_list(scope=scope, open_only=True).filter(household_id__in=scope.household_ids)
        items += _listed(mine, "cases.mine", lambda c: OPEN,
                         lambda n: ngettext("%(n)d more of your reports", "%(n)d more of your reports", n) % {"n": n},
                         list_url)
    return items


def glance(*, user: Any, scope: Scope) -> list[Glance]:
    if not scope.may("cases"):
        return []
    if scope.role == "resident":
        return [Glance(key="cases.report", label=_("Report a problem"), url=reverse("cases:new"), app="cases",
                       order=40, lines=(_("A broken light, a blocked stairwell, a neighbour who needs help: "
                                          "tell your grid member."),))]
    if scope.role in AREA_ROLES:
        n = case_list(scope=scope, overdue=True).count()
        return [Glance(key="cases.overdue", label=_("Overdue cases"), value=str(n),
                       url=reverse("cases:list") + "?overdue=1", app="cases", order=20, alarm=n > 0)]
    return []
