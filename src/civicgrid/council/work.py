"""The council app's part of each user's home page (``AppPlugin.work_items`` and ``glance``), read
through the caller's scope only: coordinators see the meetings coming and the decisions still to publish;
a resident the meetings their household is invited to, drafts open for comment and the covenant in force
their household has not signed."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.plugins import DUE, OPEN, Glance, WorkItem
from civicgrid.core.scoping import Scope
from civicgrid.council import selectors
from civicgrid.council.models import CovenantVersion, Meeting

MANAGERS = {"district_official", "community_director"}


def work_items(*, user: Any, scope: Scope) -> list[WorkItem]:
    if not scope.may("council"):
        return []
    now = timezone.now()
    items: list[WorkItem] = []
    meetings = selectors.meeting_list(scope=scope).filter(state=Meeting.State.PLANNED)
    if scope.role == "resident":
        meetings = meetings.filter(invitations__household_id__in=scope.household_ids,
                                   invitations__attended_at__isnull=True)
    elif scope.role not in MANAGERS:
        return []
    for m in meetings.order_by("starts_at")[:10]:
        items.append(WorkItem(kind="council.meeting", title=_("Meeting: %(title)s") % {"title": m.title},
                              url=reverse("council:meeting", args=[m.pk]), app="council", place=m.community.name,
                              due=m.starts_at, urgency=DUE if m.starts_at <= now else OPEN))
    if scope.role in MANAGERS:
        waiting = selectors.decisions(scope=scope).filter(published_at__isnull=True).count()
        if waiting:
            items.append(WorkItem(kind="council.unpublished", title=_("Decisions to publish to residents"),
                                  url=reverse("council:meetings"), app="council", count=waiting))
    else:
        for covenant in selectors.covenant_list(scope=scope)[:5]:
            current = selectors.in_force(covenant)
            if current is not None and selectors.own_signature(scope=scope, version=current) is None:
                items.append(WorkItem(kind="council.sign", title=_("Sign the residents' covenant"),
                                      url=reverse("council:covenant", args=[covenant.pk]), app="council",
                                      place=covenant.community.name))
            if covenant.versions.filter(state=CovenantVersion.State.DRAFT).exists():
                items.append(WorkItem(kind="council.comment", title=_("A covenant draft is open for comment"),
                                      url=reverse("council:covenant", args=[covenant.pk]), app="council",
                                      place=covenant.community.name))
    return items


def glance(*, user: Any, scope: Scope) -> list[Glance]:
    if not scope.may("council") or scope.role not in MANAGERS:
        return []
    shares = selectors.sector_shares(selectors.decisions(scope=scope))
    if not shares["total"]:
        return []
    return [Glance(key="council.residents_share", label=_("Decisions by residents' own bodies"),
                   value=f"{shares['residents_share']:.0%}", url=reverse("council:decisions"), app="council",
                   order=60, lines=(_("%(n)d decisions recorded") % {"n": shares["total"]},))]
