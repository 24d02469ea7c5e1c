"""The normal -> emergency switch: ONE audited action turns a plan into live operations (mode, command
structure, live tasks, stock targets, opening alert), and its reverse with an after-action review.
Repeating an activation changes nothing; drills run the same activation, flagged."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Role
from civicgrid.alerts.models import Alert
from civicgrid.alerts.services import alert_publish
from civicgrid.core import audit
from civicgrid.core.errors import Forbidden, Invalid
from civicgrid.core.locking import locked, serialised, serialised_block
from civicgrid.core.places import ancestors
from civicgrid.core.scoping import Scope, check_in_scope, require
from civicgrid.emergency import plan_format as pf
from civicgrid.emergency.events import EmergencyEvent
from civicgrid.emergency.models import (
    Drill,
    Emergency,
    LiveTask,
    PlanTemplate,
    Sweep,
)
from civicgrid.emergency.selectors.review import review_facts
from civicgrid.emergency.services.common import grids_of, serves_grid_person
from civicgrid.registry.models import Actor, Household, Place, Post

LEVEL_SEVERITY = {"I": Alert.Severity.EXTREME, "II": Alert.Severity.SEVERE, "III": Alert.Severity.MODERATE,
                  "IV": Alert.Severity.MINOR}
DRILL_PREFIX = {"en": "[Drill] ", "zh": "【演练】"}


@dataclass(frozen=True)
class Activation:
    emergency: Emergency
    created: bool  # False: it was already active, and nothing changed


def _active(community: Place, hazard: str) -> Emergency | None:
    return Emergency.objects.filter(community=community, hazard=hazard, status=Emergency.Status.ACTIVE).first()


def emergency_activate(*, user: Any, scope: Scope, community: Place, plan: PlanTemplate, level: str | None = None,
                       drill: Drill | None = None, now: datetime | None = None) -> Activation:
    """Put ``community`` in emergency mode under ``plan``: live tasks for the actors and people the plan's
    command structure names, stock targets for its households, and the opening alert (queued).

    Needs the ``emergency_manage`` resource. At most one active emergency per community and hazard:
    if one is active (or this drill was already activated), it is returned unchanged.
    """
    require(scope, "emergency_manage")
    if community.level != "community":
        raise Invalid({"community": _("Emergency mode is switched per community.")})
    check_in_scope(scope, community)
    level = level or plan.default_level
    if level not in pf.LEVELS:
        raise Invalid({"level": _("The response level must be I, II, III or IV.")})
    if drill is not None and (drill.community_id != community.pk or drill.plan_id != plan.pk):
        raise Invalid(_("This drill was started for another community or plan."))
    now = now or timezone.now()
    with serialised_block():
        locked(Place.objects.all()).filter(pk=community.pk).first()  # one activation at a time
        if drill is not None:
            drill = locked(Drill.objects.all()).get(pk=drill.pk)
            if drill.emergency_id:
                return Activation(drill.emergency, False)  # type: ignore[arg-type]
        existing = _active(community, plan.hazard)
        if existing is not None:
            return Activation(existing, False)
        try:
            with transaction.atomic():
                emergency = _activate(user=user, scope=scope, community=community, plan=plan, level=level, drill=drill, now=now)
        except IntegrityError:  # a concurrent activation committed first (the unique active constraint)
            winner = _active(community, plan.hazard)
            if winner is None:
                raise
            return Activation(winner, False)
    return Activation(emergency, True)


def _activate(*, user: Any, scope: Scope, community: Place, plan: PlanTemplate, level: str, drill: Drill | None,
              now: datetime) -> Emergency:
    doc = pf.validate_plan(plan.body)
    emergency = Emergency.objects.create(
        community=community, hazard=plan.hazard, level=level, plan=plan, plan_version=plan.version,
        plan_snapshot=doc, is_drill=drill is not None, activated_at=now, activated_by=user)
    command, tasks = _command_and_tasks(emergency, doc, community, now)
    LiveTask.objects.bulk_create(tasks)
    emergency.command = command
    emergency.stock_targets = _stock_targets(doc, community)
    emergency.opening_alert = _alert(user=user, scope=scope, emergency=emergency, doc=doc, moment="opening", now=now)
    emergency.save()
    if drill is not None:
        drill.emergency = emergency
        drill.save(update_fields=["emergency"])
    new = {k: v for k, v in audit.snapshot(emergency).items() if k != "plan_snapshot"}
    audit.record(user=user, event=EmergencyEvent.ACTIVATED, instance=emergency,
                 new={**new, "live_tasks": len(tasks), "opening_alert": emergency.opening_alert.identifier,
                      "drill": drill.pk if drill else None})
    return emergency


def _command_and_tasks(emergency: Emergency, doc: dict[str, Any], community: Place,
                       now: datetime) -> tuple[list[dict[str, Any]], list[LiveTask]]:
    """Each unit of the command structure gets the best-placed actor of its kinds (the community's own
    before those of the sub-district) and that actor's key person; per-grid units get each grid's
    grid member. Tasks follow their unit."""
    actors = list(Actor.objects.filter(service_area__path__in=ancestors(community.path))
                  .select_related("service_area"))
    lead: dict[int, Any] = {}
    for post in Post.objects.filter(actor__in=actors, is_key=True).select_related("person").order_by("id"):
        lead.setdefault(post.actor_id, post.person)
    grids = list(grids_of(community))
    grid_member: dict[int, Any] = {}
    for post in Post.objects.filter(role="grid_member", place__in=grids).select_related("person").order_by("id"):
        grid_member.setdefault(post.place_id, post.person)  # type: ignore[arg-type]
    units: dict[str, dict[str, Any]] = {}
    for unit in doc["command_structure"]:
        kinds = unit["actor_kinds"]
        candidates = sorted((a for a in actors if a.kind in kinds),
                            key=lambda a: (kinds.index(a.kind), -len(a.service_area.path), a.code))
        actor = candidates[0] if candidates else None
        person = lead.get(actor.pk) if actor else None
        units[unit["key"]] = {
            "key": unit["key"], "name": unit["name"], "per_grid": unit["per_grid"],
            "actor_id": actor.pk if actor else None, "actor_name": actor.name if actor else "",
            "sector": actor.sector if actor else "", "person_id": person.pk if person else None,
            "person_name": person.name if person else "",
            "grids": [{"grid_id": g.pk, "grid_name": g.name, "person_id": getattr(grid_member.get(g.pk), "pk", None),
                       "person_name": getattr(grid_member.get(g.pk), "name", "")} for g in grids]
            if unit["per_grid"] else []}
    tasks: list[LiveTask] = []
    for task in doc["tasks"]:
        unit = units[task["unit"]]
        common = {"emergency": emergency, "key": task["key"], "unit": task["unit"], "title_en": task["title"]["en"],
                  "title_zh": task["title"]["zh"], "actor_id": unit["actor_id"],
                  "due_at": now + timedelta(hours=task["due_hours"])}
        if task["per_grid"]:
            tasks += [LiveTask(**common, grid=g, place_path=g.path, person=grid_member.get(g.pk)) for g in grids]
        else:
            tasks.append(LiveTask(**common, place_path=community.path, person_id=unit["person_id"]))
    return list(units.values()), tasks


def _stock_targets(doc: dict[str, Any], community: Place) -> list[dict[str, Any]]:
    households = Household.objects.filter(place_path__startswith=community.path)
    n, n_vulnerable = households.count(), households.vulnerable().count()
    return [{"key": s["key"], "name": s["name"], "unit": s["unit"], "households": n, "vulnerable": n_vulnerable,
             "quantity": math.ceil(s["per_household"] * n + s["per_vulnerable_household"] * n_vulnerable)}
            for s in doc["stock_targets"]]


def _alert(*, user: Any, scope: Scope, emergency: Emergency, doc: dict[str, Any], moment: str, now: datetime) -> Alert:
    texts, cap = doc["alert_texts"][moment], doc["cap"]
    prefix = DRILL_PREFIX if emergency.is_drill else {"en": "", "zh": ""}
    opening = moment == "opening"
    return alert_publish(
        user=user, scope=scope, area=emergency.community, group=Alert.Group.ALL,
        headline_en=prefix["en"] + texts["headline"]["en"] if texts["headline"]["en"] else "",
        headline_zh=prefix["zh"] + texts["headline"]["zh"] if texts["headline"]["zh"] else "",
        description_en=texts["description"]["en"], description_zh=texts["description"]["zh"],
        instruction_en=texts["instruction"]["en"], instruction_zh=texts["instruction"]["zh"],
        category=cap["category"], event_en=cap["event"]["en"], event_zh=cap["event"]["zh"],
        urgency=cap["urgency"] if opening else Alert.Urgency.PAST,
        certainty=cap["certainty"] if opening else Alert.Certainty.OBSERVED,
        severity=LEVEL_SEVERITY[emergency.level] if opening else Alert.Severity.MINOR,
        status=Alert.Status.EXERCISE if emergency.is_drill else Alert.Status.ACTUAL,
        msg_type=Alert.MsgType.ALERT if opening else Alert.MsgType.UPDATE,
        references=None if opening else emergency.opening_alert, source=f"emergency:{emergency.pk}", now=now)


# --- back to normal -----------------------------------------------------------------------------
@serialised
def emergency_deactivate(*, user: Any, scope: Scope, emergency: Emergency, summary: str, went_well: str = "",
                         to_improve: str = "", now: datetime | None = None) -> Emergency:
    """Return the community to normal: close the emergency and its sweeps, record the after-action review
    (the reviewers' words and the measured facts) and send the closing alert."""
    require(scope, "emergency_manage")
    check_in_scope(scope, emergency)
    now = now or timezone.now()
    emergency = locked(Emergency.objects.all()).select_related(
        "community", "opening_alert").get(pk=emergency.pk)
    if emergency.status != Emergency.Status.ACTIVE:
        raise Invalid(_("This emergency is already over."))
    if not summary.strip():
        raise Invalid({"review_summary": _("Write what happened: the review is part of closing.")})
    before = {k: v for k, v in audit.snapshot(emergency).items() if k != "plan_snapshot"}
    emergency.review_facts = review_facts(emergency, now)
    emergency.status, emergency.deactivated_at, emergency.deactivated_by = Emergency.Status.CLOSED, now, user
    emergency.review_summary, emergency.review_went_well = summary.strip(), went_well.strip()
    emergency.review_to_improve = to_improve.strip()
    Sweep.objects.filter(emergency=emergency, closed_at__isnull=True).update(closed_at=now)
    emergency.closing_alert = _alert(user=user, scope=scope, emergency=emergency, doc=emergency.plan_snapshot,
                                     moment="closing", now=now)
    emergency.save()
    after = {k: v for k, v in audit.snapshot(emergency).items() if k != "plan_snapshot"}
    old, new = audit.changed(before, after)
    audit.record(user=user, event=EmergencyEvent.CLOSED, instance=emergency, old=old, new=new)
    return emergency


# --- drills and tasks ---------------------------------------------------------------------------
@transaction.atomic
def drill_start(*, user: Any, scope: Scope, community: Place, plan: PlanTemplate, now: datetime | None = None) -> Drill:
    """Start a drill's clock; activating with ``drill=`` stops the first timer."""
    require(scope, "emergency_manage")
    check_in_scope(scope, community)
    if community.level != "community":
        raise Invalid({"community": _("Emergency mode is switched per community.")})
    drill = Drill.objects.create(community=community, plan=plan, started_at=now or timezone.now(), started_by=user)
    audit.record(user=user, event=EmergencyEvent.DRILL_STARTED, instance=drill, new=audit.snapshot(drill))
    return drill


@serialised
def live_task_complete(*, user: Any, scope: Scope, task: LiveTask, note: str = "", now: datetime | None = None) -> LiveTask:
    """Mark a live task done: by a coordinator, the person it was given to, the staff of the organisation it
    was given to, or the grid's grid member.
    Marking a done task again changes nothing."""
    require(scope, "emergency")
    check_in_scope(scope, task)
    task = locked(LiveTask.objects.all()).select_related("emergency").get(pk=task.pk)
    if task.state == LiveTask.State.DONE:
        return task
    if task.emergency.status != Emergency.Status.ACTIVE:
        raise Invalid(_("This emergency is over."))
    person_id = Role.objects.filter(user=user).values_list("person_id", flat=True).first()
    if not (scope.may("emergency_manage") or (person_id and person_id == task.person_id)
            or (scope.role == "org_staff" and task.actor_id is not None and task.actor_id in scope.actor_ids)
            or (task.grid_id and serves_grid_person(person_id, task.grid_id))):
        raise Forbidden(_("This task is someone else's."))
    audit.update_fields(user=user, event=EmergencyEvent.TASK_DONE, instance=task, changes={
        "state": LiveTask.State.DONE, "done_at": now or timezone.now(), "done_by": user, "note": note.strip()[:300]})
    return task
