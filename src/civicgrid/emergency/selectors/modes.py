"""Modes, plans, live tasks and drills, as the caller's scope sees them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet

from civicgrid.alerts.models import Alert
from civicgrid.alerts.targeting import target_households
from civicgrid.core.scoping import Scope, require, scoped
from civicgrid.emergency.models import (
    ChecklistTemplate,
    Drill,
    Emergency,
    Isolation,
    LiveTask,
    PlanTemplate,
)
from civicgrid.registry.models import Place


@dataclass(frozen=True)
class CommunityMode:
    community: Place
    emergencies: list[Emergency]  # the active ones; empty: normal mode

    @property
    def mode(self) -> str:
        return "emergency" if self.emergencies else "normal"


def communities(*, scope: Scope) -> QuerySet[Place]:
    """Communities the scope may switch or watch: those in its area and the one its grids belong to."""
    require(scope, "emergency")
    visible = scoped(Place.objects.all(), scope)
    if scope.unrestricted:
        return Place.objects.filter(level="community")
    return Place.objects.filter(level="community").filter(
        pk__in=visible.filter(level="community").values("pk")) | Place.objects.filter(
        level="community", pk__in=visible.filter(level="grid").values("parent_id"))


def community_modes(*, scope: Scope) -> list[CommunityMode]:
    places = list(communities(scope=scope).order_by("code"))
    active: dict[int, list[Emergency]] = {}
    for emergency in emergency_list(scope=scope).filter(status=Emergency.Status.ACTIVE):
        active.setdefault(emergency.community_id, []).append(emergency)
    return [CommunityMode(community=p, emergencies=active.get(p.pk, [])) for p in places]


def emergency_list(*, scope: Scope) -> QuerySet[Emergency]:
    require(scope, "emergency")
    return scoped(Emergency.objects.select_related("community", "plan", "opening_alert"), scope)


def emergency_get(*, scope: Scope, emergency_id: int) -> Emergency:
    return emergency_list(scope=scope).get(pk=emergency_id)


def live_tasks(*, scope: Scope, emergency: Emergency) -> QuerySet[LiveTask]:
    return scoped(LiveTask.objects.filter(emergency=emergency).select_related("actor", "person", "grid"), scope)


def task_get(*, scope: Scope, task_id: int) -> LiveTask:
    require(scope, "emergency")
    return scoped(LiveTask.objects.select_related("emergency"), scope).get(pk=task_id)


def plans() -> QuerySet[PlanTemplate]:
    """Plan and checklist templates are shared reference data, the same for every area."""
    return PlanTemplate.objects.all()


def checklist_templates() -> QuerySet[ChecklistTemplate]:
    return ChecklistTemplate.objects.prefetch_related("items")


def drills(*, scope: Scope) -> QuerySet[Drill]:
    require(scope, "emergency")
    return scoped(Drill.objects.select_related("community", "plan", "emergency"), scope)


def emergency_checklists(emergency: Emergency) -> list[ChecklistTemplate]:
    codes: list[Any] = emergency.plan_snapshot.get("checklists", [])
    by_code = {t.code: t for t in ChecklistTemplate.objects.filter(code__in=codes)}
    return [by_code[c] for c in codes if c in by_code]


@dataclass(frozen=True)
class ActivationReach:
    """Whom activating an emergency in a community alerts: the opening alert goes to every household of the
    community (the alert's own targeting), by SMS to those with a phone."""

    households: int
    by_sms: int


def activation_reach(*, scope: Scope, community: Place) -> ActivationReach:
    require(scope, "emergency_manage")
    community = communities(scope=scope).get(pk=community.pk)
    households = target_households(area=community, group=Alert.Group.ALL)
    return ActivationReach(households=households.count(),
                           by_sms=households.exclude(contact_phone_digest="").count())


@dataclass(frozen=True)
class OpenWork:
    """What is still under way in an emergency's community when someone moves to close it."""

    open_tasks: int
    in_isolation: int

    @property
    def any(self) -> bool:
        return bool(self.open_tasks or self.in_isolation)


def closing_open_work(*, scope: Scope, emergency: Emergency, today: date) -> OpenWork:
    """The emergency's live tasks not done, and the residents of its community in home isolation today."""
    emergency = emergency_get(scope=scope, emergency_id=emergency.pk)
    isolated = Isolation.objects.filter(place_path__startswith=emergency.community.path, start_date__lte=today,
                                        end_date__gte=today)
    return OpenWork(open_tasks=LiveTask.objects.filter(emergency=emergency, state=LiveTask.State.OPEN).count(),
                    in_isolation=isolated.values("resident_id").distinct().count())
