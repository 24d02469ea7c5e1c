"""The mediation app's part of the home page: follow-up visits due (marked by the periodic job) for the
mediator and the director, and open mediations for the mediator. Nothing here names a party."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from civicgrid.core.plugins import DUE, OPEN, WORK_LIMIT, Glance, WorkItem
from civicgrid.core.scoping import Scope
from civicgrid.mediation import selectors


def work_items(*, user: Any, scope: Scope) -> list[WorkItem]:
    if not scope.may("mediation"):
        return []
    items = [WorkItem(kind="mediation.follow_up", title=_("Follow-up visit of mediation %(code)s") % {"code": c.code},
                      url=reverse("mediation:detail", args=[c.pk]), app="mediation", place=c.grid.name,
                      due=c.follow_up_due_at, urgency=DUE)
             for c in selectors.followups_due(user=user, scope=scope)[:WORK_LIMIT]]
    mine = selectors.case_list(scope=scope, state="open").filter(mediator_id=getattr(user, "pk", None) or 0)
    items += [WorkItem(kind="mediation.open", title=_("Mediation %(code)s") % {"code": c.code},
                       url=reverse("mediation:detail", args=[c.pk]), app="mediation", place=c.grid.name, urgency=OPEN,
                       detail=str(c.get_state_display())) for c in mine[:WORK_LIMIT]]
    return items


def glance(*, user: Any, scope: Scope) -> list[Glance]:
    if not scope.may("mediation_manage"):
        return []
    n = selectors.case_list(scope=scope, state="open").count()
    return [Glance(key="mediation.open", label=_("Mediations open"), value=str(n), url=reverse("mediation:list"),
                   app="mediation", order=60)]
