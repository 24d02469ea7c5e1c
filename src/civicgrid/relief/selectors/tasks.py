"""Reads of delivery tasks: the households a task lets one see, the tasks one may claim, holds or oversees,
their stops and recipients, and counts of stops and of a round's tasks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from civicgrid.accounts.models import Role
from civicgrid.core.places import under
from civicgrid.core.scoping import Scope, require, scoped
from civicgrid.registry.models import Actor
from civicgrid.relief.models import AllocationRound, DeliveryStop, DeliveryTask, RoundAllocation
from civicgrid.relief.selectors.rounds import ROUND_BULK


# --- access given by tasks ------------------------------------------------------------------------
def task_households(user: Any) -> list[int]:
    """Households a volunteer or organisation may see because of delivery tasks: the stops of the tasks
    the user holds now, and for organisation staff those of unfinished tasks given to their organisation.
    Registered with civicgrid.core.scoping.register_task_households."""
    if not getattr(user, "is_authenticated", False):
        return []
    held = Q(task__status=DeliveryTask.Status.CLAIMED, task__claimed_by=user)
    role = Role.objects.filter(user=user).values("role", "actor_id").first()
    if role and role["role"] == "org_staff" and role["actor_id"]:
        held |= Q(task__organisation_id=role["actor_id"],
                  task__status__in=[DeliveryTask.Status.OPEN, DeliveryTask.Status.CLAIMED])
    return list(DeliveryStop.objects.filter(held).values_list("household_id", flat=True).distinct())


# --- deliveries -----------------------------------------------------------------------------------
def claimable_filter(scope: Scope, *, open_only: bool = True) -> Q:
    """Tasks a person may claim: those given to an organisation they belong to, and unassigned ones in the
    area an organisation of theirs serves (a community's volunteer team takes its community's). Roles
    without an organisation (coordinators, residents) claim nothing."""
    if not scope.actor_ids:
        return Q(pk__in=[])
    areas = list(Actor.objects.filter(pk__in=scope.actor_ids).values_list("service_area__path", flat=True))
    mine = Q(organisation_id__in=scope.actor_ids) | (Q(organisation__isnull=True) & under("place_path", areas))
    # a claim that lapsed is open again (the periodic job puts it back; reading never writes)
    lapsed = Q(status=DeliveryTask.Status.CLAIMED, claim_expires_at__lte=timezone.now())
    return mine & (Q(status=DeliveryTask.Status.OPEN) | lapsed) if open_only else mine


def task_claimable(*, scope: Scope) -> QuerySet[DeliveryTask]:
    require(scope, "relief")
    return DeliveryTask.objects.select_related("building", "point").filter(claimable_filter(scope))


def task_held(*, scope: Scope, user: Any) -> QuerySet[DeliveryTask]:
    require(scope, "relief")
    return DeliveryTask.objects.select_related("building", "point").filter(
        status=DeliveryTask.Status.CLAIMED, claimed_by=user, claim_expires_at__gt=timezone.now())


def task_area(*, scope: Scope, status: str = "") -> QuerySet[DeliveryTask]:
    """Tasks in a coordinator's area (or given to their organisation)."""
    require(scope, "relief")
    tasks = scoped(DeliveryTask.objects.select_related("building", "point", "claimed_by", "organisation"), scope)
    return tasks.filter(status=status) if status else tasks


def _task_visible(scope: Scope, user: Any) -> Q:
    return (Q(status=DeliveryTask.Status.CLAIMED, claimed_by=user) | claimable_filter(scope)
            | Q(pk__in=scoped(DeliveryTask.objects.all(), scope).values("pk")))


def task_get(*, scope: Scope, user: Any, task_id: int) -> DeliveryTask:
    """A task the user holds, may claim, or oversees."""
    require(scope, "relief")
    return DeliveryTask.objects.select_related("building", "point", "round", "claimed_by").defer(
        *ROUND_BULK).filter(_task_visible(scope, user)).get(pk=task_id)


def task_visible(*, scope: Scope, user: Any, task_id: int) -> bool:
    """Whether the user may see this task at all (held, claimable or overseen)."""
    return DeliveryTask.objects.filter(_task_visible(scope, user), pk=task_id).exists()


def task_stops(*, scope: Scope, task: DeliveryTask) -> list[DeliveryStop]:
    """The stops of a task with what each household gets; households the scope may not see (a task not yet
    claimed) are counted but not listed."""
    stops = scoped(DeliveryStop.objects.select_related("household"), scope).filter(task=task)
    return list(stops.order_by("household__code"))


def stop_lines(*, task: DeliveryTask, stops: Iterable[DeliveryStop]) -> dict[int, list[RoundAllocation]]:
    """What each of ``stops`` (of ``task``) brings: its household's allocations with units in the task's round,
    with their items, by stop id. One query, whatever the number of stops."""
    stop_of = {s.household_id: s.pk for s in stops}
    out: dict[int, list[RoundAllocation]] = {pk: [] for pk in stop_of.values()}
    if not stop_of:
        return out
    lines = RoundAllocation.objects.select_related("item").defer("explanation").filter(
        round_id=task.round_id, quantity__gt=0,
        household_id__in=DeliveryStop.objects.filter(task=task).values("household_id")).order_by("id")
    for a in lines:
        if a.household_id in stop_of:
            out[stop_of[a.household_id]].append(a)
    return out


def stop_recipients(stops: list[DeliveryStop]) -> dict[int, str]:
    """The name to ask for at each stop: the head of the household, else its first resident. Only the
    name: a delivery needs nothing else about the people (no income status, no health)."""
    from civicgrid.registry.models import Resident

    heads: dict[int, str] = {}
    first: dict[int, str] = {}
    for household_id, name, relation in Resident.objects.filter(
            household_id__in={s.household_id for s in stops}).order_by("id").values_list("household_id", "name",
                                                                                        "relation"):
        first.setdefault(household_id, name)
        if relation == "head":
            heads.setdefault(household_id, name)
    return {s.pk: heads.get(s.household_id) or first.get(s.household_id, "") for s in stops}


def task_organisations(*, scope: Scope) -> QuerySet[Actor]:
    """Organisations a coordinator may give tasks to: the society actors serving their area."""
    require(scope, "relief_manage")
    return scoped(Actor.objects.filter(sector="society"), scope).order_by("code")


def task_stop_count(task: DeliveryTask) -> int:
    return DeliveryStop.objects.filter(task=task).count()


def stop_counts(task_ids: list[int]) -> dict[int, int]:
    """Stops per task for a list of tasks, in one grouped query."""
    if not task_ids:
        return {}
    return dict(DeliveryStop.objects.filter(task_id__in=task_ids).values_list("task_id").annotate(n=Count("id"))
                .order_by())



def round_task_counts(*, scope: Scope, round: AllocationRound) -> dict[str, int]:
    """The round's delivery tasks in the scope by status (every status, 0 where none), in one query."""
    found = dict(task_area(scope=scope).filter(round=round).order_by().values_list("status").annotate(n=Count("id")))
    return {status: int(found.get(status, 0)) for status in DeliveryTask.Status.values}
