"""The fund app's part of each user's home page (``AppPlugin.work_items`` and ``glance``), read through the
caller's scope only:

* directors and district officials: proposals awaiting the committee's review, a closed vote to publish;
* grid members: a vote that is open, with the ballot codes to hand out;
* everyone who may use the fund: the rounds of their community still under way, with their phase (a
  resident sees "proposals open" or "voting" on their home)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from civicgrid.core.plugins import DUE, OPEN, WORK_LIMIT, Glance, WorkItem
from civicgrid.core.scoping import Scope
from civicgrid.fund import selectors
from civicgrid.fund.models import Proposal
from civicgrid.fund.services.rounds import phase


def _live(scope: Scope) -> list[Any]:
    return list(selectors.rounds(scope=scope).filter(results_published_at__isnull=True)
                .annotate(pending=Count("proposals", filter=Q(proposals__status=Proposal.Status.SUBMITTED)))
                .order_by("voting_close", "id")[:WORK_LIMIT])


def work_items(*, user: Any, scope: Scope) -> list[WorkItem]:
    if not scope.may("fund"):
        return []
    items: list[WorkItem] = []
    now = timezone.now()
    for r in _live(scope):
        current = phase(r, now)
        url = reverse("fund:round", args=[r.pk])
        if scope.may("fund_manage") and r.pending and current in {"proposals", "review"}:
            items.append(WorkItem(kind="fund.review", app="fund", url=url, urgency=DUE, due=r.voting_open,
                                  title=ngettext("%(n)d proposal awaits review", "%(n)d proposals await review",
                                                 r.pending) % {"n": r.pending},
                                  place=r.fund.community.name, detail=r.title, count=r.pending))
        if scope.may("fund_manage") and current == "counting":
            items.append(WorkItem(kind="fund.publish", app="fund", url=url, urgency=DUE, title=_("Publish the results"),
                                  place=r.fund.community.name, detail=r.title))
        if scope.role == "grid_member" and current == "voting":
            items.append(WorkItem(kind="fund.codes", app="fund", url=reverse("fund:codes", args=[r.pk]), urgency=OPEN,
                                  due=r.voting_close, title=_("Hand out ballot codes"), place=r.fund.community.name,
                                  detail=r.title))
    return items


def glance(*, user: Any, scope: Scope) -> list[Glance]:
    if not scope.may("fund"):
        return []
    from civicgrid.fund.views import PHASE_LABELS

    now = timezone.now()
    return [Glance(key=f"fund.round.{r.pk}", label=r.title, value=str(PHASE_LABELS[phase(r, now)]),
                   url=reverse("fund:round", args=[r.pk]), app="fund", order=60,
                   lines=(r.fund.community.name,))
            for r in _live(scope) if phase(r, now) != "upcoming"][:3]
