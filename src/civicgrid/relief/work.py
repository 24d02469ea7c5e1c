"""The relief app's part of each user's home page (``AppPlugin.work_items`` and ``glance``), read through
the caller's scope only.

* grid members: needs filed for households in their grids, life-critical first (coordinators: the
  life-critical ones still unmet);
* volunteers: the tasks they hold, then open tasks near them (their own building, then their grid),
  with the pick-up totals per distribution point;
* social-organisation staff: delivery tasks given to their organisation;
* residents: their own needs, with the one-time code of a delivery on its way;
* whoever manages relief: their round confirmations running in the background, or refused in the last day.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.db.models import Case, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from civicgrid.accounts.models import Role
from civicgrid.core.plugins import (
    DUE,
    LIFE_CRITICAL,
    OPEN,
    OVERDUE,
    WORK_LIMIT,
    Glance,
    WorkItem,
    with_rest,
)
from civicgrid.core.scoping import Scope
from civicgrid.relief import needcounts, selectors
from civicgrid.relief.models import (
    DeliveryStop,
    DeliveryTask,
    Item,
    Need,
    RoundAllocation,
    RoundConfirmation,
)

URGENCY = {"critical": LIFE_CRITICAL, "urgent": DUE, "normal": OPEN}
AREA_ROLES = {"district_official", "community_director", "grid_member"}


def open_needs(*, scope: Scope, critical_only: bool = False) -> QuerySet[Need]:
    """Open needs in the scope, life-critical first, then urgent, then the oldest."""
    needs = selectors.need_list(scope=scope, status=Need.Status.OPEN)
    if critical_only:  # all of tier 0: the list's tier index gives them oldest first, no sort (issue 15)
        return needs.filter(urgency="critical").order_by("tier", "filed_at", "id")
    rank = Case(When(urgency="critical", then=Value(0)), When(urgency="urgent", then=Value(1)), default=Value(2),
                output_field=IntegerField())
    return needs.annotate(rank=rank).order_by("rank", "filed_at", "id")


def open_count(*, scope: Scope, critical_only: bool = False) -> int:
    """How many :func:`open_needs` there are: from the needs tally for an area of whole grids (a district's
    count was a scan of its 1.7 M needs, twice per home page: work list and glance, issue 15), else counted."""
    counted = needcounts.by_status(scope=scope)
    if counted is None:
        return open_needs(scope=scope, critical_only=critical_only).count()
    return counted.get(Need.Status.OPEN, {}).get("critical" if critical_only else "needs", 0)


def home_paths(user: Any) -> tuple[str, str]:
    """The (building path, grid path) where a volunteer lives, when their person is a registered resident."""
    row: Any = Role.objects.filter(user_id=getattr(user, "pk", None) or 0).values(
        "person__resident__household__building__path", "person__resident__household__grid__path").first() or {}
    return (row.get("person__resident__household__building__path") or "",
            row.get("person__resident__household__grid__path") or "")


def tasks_near(*, scope: Scope, user: Any) -> QuerySet[DeliveryTask]:
    """Open tasks the user may claim: in their own building first, then their grid, then by due time."""
    building, grid = home_paths(user)
    near = Case(When(place_path=building or "-", then=Value(0)),
                When(place_path__startswith=grid or "-", then=Value(1)), default=Value(2),
                output_field=IntegerField())
    return selectors.task_claimable(scope=scope).annotate(near=near).order_by("near", "due_at", "id")


def pickup_totals(tasks: QuerySet[DeliveryTask]) -> dict[str, list[tuple[str, int]]]:
    """Per distribution point, the units of each item to pick up for ``tasks`` (no household is named)."""
    # a served allocation's point is its stop's task's (where the volunteer picks the units up); its stop is its
    # household's in its round (RoundAllocation says why there is no key). Summed in the database: a district
    # round's tasks hold half a million stops
    stops = DeliveryStop.objects.filter(task__in=tasks.values("pk")).order_by()
    point = stops.filter(round_id=OuterRef("round_id"), household_id=OuterRef("household_id")).values(
        "task__point__name")[:1]
    rows = RoundAllocation.objects.filter(
        quantity__gt=0, round_id__in=tasks.values("round_id"), household_id__in=stops.values("household_id")
    ).annotate(point=Subquery(point)).exclude(point=None).values("point", "item_id").annotate(
        units=Sum("quantity")).order_by("point", "item_id")
    items = {i.pk: i for i in Item.objects.filter(pk__in={r["item_id"] for r in rows})}
    totals: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for r in rows:
        item = items[r["item_id"]]
        totals[r["point"]].append((f"{item.label} ({item.unit_label})", int(r["units"])))
    return dict(totals)


def _task_item(t: DeliveryTask, kind: str, now: Any, detail: str) -> WorkItem:
    return WorkItem(kind=kind, app="relief", title=_("Delivery to %(building)s") % {"building": t.building.name},
                    url=reverse("relief:task", args=[t.pk]), place=t.point.name, due=t.due_at,
                    urgency=OVERDUE if t.due_at < now else DUE, detail=detail)


def _tasks(tasks: QuerySet[DeliveryTask], kind: str, now: Any, detail: str, rest: Any) -> list[WorkItem]:
    return with_rest([_task_item(t, kind, now, detail) for t in tasks[:WORK_LIMIT]], tasks.count(),
                     lambda n: WorkItem(kind=kind, app="relief", url=reverse("relief:tasks"), count=n, urgency=DUE,
                                        title=rest(n)))


def _confirmations(*, user: Any, scope: Scope, now: Any) -> list[WorkItem]:
    """The user's round confirmations running in the background, and those refused in the last day (to preview
    again): a done one is in the rounds list."""
    mine = selectors.confirmation_list(scope=scope).filter(requested_by=user, created_at__gte=now - timedelta(days=1))
    return [WorkItem(kind="relief.confirmation", app="relief", urgency=DUE if c.status == c.Status.FAILED else OPEN,
                     url=reverse("relief:round_confirmation", args=[c.pk]),
                     title=_("Round confirmation #%(id)d") % {"id": c.pk},
                     detail=_("not confirmed: preview the round again") if c.status == c.Status.FAILED
                     else f"{c.get_status_display()} {c.progress}%")
            for c in mine.exclude(status=RoundConfirmation.Status.DONE)[:WORK_LIMIT]]


def work_items(*, user: Any, scope: Scope) -> list[WorkItem]:
    if not scope.may("relief"):
        return []
    now = timezone.now()
    items: list[WorkItem] = []
    if scope.role in AREA_ROLES:
        needs = open_needs(scope=scope, critical_only=scope.role != "grid_member")
        items += with_rest([WorkItem(kind="relief.need", app="relief", url=reverse("relief:need", args=[n.pk]),
                                     title=f"{n.item.label} × {n.quantity}", place=n.household.address,
                                     urgency=URGENCY.get(n.urgency, OPEN), detail=str(n.get_urgency_display()))
                            for n in needs[:WORK_LIMIT]], open_count(scope=scope, critical_only=scope.role != "grid_member"),
            lambda k: WorkItem(
            kind="relief.need", app="relief", url=reverse("relief:needs"), count=k,
            urgency=LIFE_CRITICAL if scope.role != "grid_member" else OPEN,
            title=ngettext("%(n)d more open need", "%(n)d more open needs", k) % {"n": k}))
    if scope.may("relief_manage"):
        items += _confirmations(user=user, scope=scope, now=now)
    if scope.role in {"volunteer", "org_staff"}:
        items += _tasks(selectors.task_held(scope=scope, user=user), "relief.held", now, _("you hold this task"),
                        lambda n: ngettext("%(n)d more task you hold", "%(n)d more tasks you hold", n) % {"n": n})
    if scope.role == "volunteer":
        items += _tasks(tasks_near(scope=scope, user=user), "relief.near", now, _("open: you can take it"),
                        lambda n: ngettext("%(n)d more open task", "%(n)d more open tasks", n) % {"n": n})
    if scope.role == "org_staff":
        given = selectors.task_area(scope=scope).filter(
            organisation_id__in=scope.actor_ids, status__in=[DeliveryTask.Status.OPEN, DeliveryTask.Status.CLAIMED])
        items += _tasks(given.order_by("due_at", "id"), "relief.given", now, _("given to your organisation"),
                        lambda n: ngettext("%(n)d more delivery given to your organisation",
                                           "%(n)d more deliveries given to your organisation", n) % {"n": n})
    if scope.role == "resident":
        for p in selectors.my_needs(scope=scope):
            if p.state in ("delivered", "cancelled"):
                continue
            detail = p.label
            if p.code:
                detail = _("%(state)s. Your one-time code: %(code)s (give it to the volunteer when it arrives)") % {
                    "state": p.label, "code": p.code}
            items.append(WorkItem(kind="relief.my_need", app="relief", url=reverse("relief:my_needs"),
                                  title=f"{p.need.item.label} × {p.need.quantity}", due=p.expected_at,
                                  urgency=DUE if p.code else OPEN, detail=detail))
    return items


def glance(*, user: Any, scope: Scope) -> list[Glance]:
    if not scope.may("relief"):
        return []
    if scope.role in AREA_ROLES:
        n = open_count(scope=scope, critical_only=True)
        return [Glance(key="relief.critical", app="relief", order=25, alarm=n > 0, value=str(n),
                       url=reverse("relief:needs"), label=_("Unmet life-critical needs"))]
    if scope.role == "volunteer":
        made = DeliveryStop.objects.filter(delivered_by=user, status=DeliveryStop.Status.DELIVERED).count()
        near = tasks_near(scope=scope, user=user)
        lines = tuple(f"{point}: " + ", ".join(f"{label} × {units}" for label, units in rows)
                      for point, rows in pickup_totals(near).items())
        return [
            # the hours these deliveries earned are in the volunteers app's ledger (posted once per delivery)
            Glance(key="relief.made", app="relief", order=25, value=str(made), label=_("Deliveries you made")),
            Glance(key="relief.pickup", app="relief", order=26, url=reverse("relief:tasks"),
                   value=str(near.count()), label=_("Open tasks near you"),
                   lines=((_("To pick up, per distribution point:"), *lines) if lines else ())),
        ]
    return []
