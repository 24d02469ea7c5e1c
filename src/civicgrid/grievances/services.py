"""Writes for grievances and appeals. Every write locks the grievance first (``locked`` inside
``serialised``), checks, changes, writes its timeline step and its audit event in the same transaction; a
refusal writes nothing. The clock's arithmetic is in clock.py; who is in the chain in chain.py."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Role
from civicgrid.core import audit
from civicgrid.core.errors import Conflict, Forbidden, Invalid, NotFound
from civicgrid.core.limits import bounded_text
from civicgrid.core.locking import locked, serialised, serialised_block
from civicgrid.core.places import ancestor_at
from civicgrid.core.scoping import Scope, check_in_scope, require
from civicgrid.grievances import chain, clock, conf
from civicgrid.grievances.events import GrievanceEvent
from civicgrid.grievances.models import LEVEL_LABELS, LEVELS, Appeal, Grievance, Pause, Step
from civicgrid.grievances.subjects import resolve
from civicgrid.registry.models import Household

# What the audit log keeps of a grievance: its state and clocks, never the complainant's words.
AUDITED = ("code", "kind", "subject_ref", "sensitive", "state", "level", "paused_since", "due_at", "level_due_at",
           "responded_at", "closed_at", "closed_on_time", "rating")
HANDLER_ACTIONS = ("respond", "pause", "resume", "close")
COMPLAINANT_ACTIONS = ("rate",)


def _facts(g: Grievance) -> dict[str, Any]:
    snap = audit.snapshot(g)  # the editable fields, JSON-safe
    return {**{k: snap[k] for k in AUDITED if k in snap}, "code": g.code}


def _notify(users: Any, g: Grievance, title: Any, source: str) -> None:
    from civicgrid.alerts.services import notice_send

    notice_send(users=list(users), title=title, link=reverse("grievances:detail", args=[g.pk]), source=source)


def _pauses(g: Grievance) -> list[clock.Pause]:
    if g.pk is None:
        return []
    return [(p.started_at, p.ended_at) for p in g.pauses.all()]


def _recompute(g: Grievance) -> None:
    """The deadlines from the clock: running time since filing (business) and since the level began."""
    pauses = _pauses(g)
    g.response_due_at = clock.deadline(start=g.filed_at, limit=conf.hours("response_hours"), pauses=pauses)
    g.due_at = clock.deadline(start=g.filed_at, limit=conf.hours("resolve_hours"), pauses=pauses)
    g.level_due_at = clock.deadline(start=g.level_started_at, limit=conf.hours("level_hours"), pauses=pauses)


def _step(g: Grievance, *, user: Any, action: str, at: datetime, note: str = "") -> None:
    Step.objects.create(grievance=g, at=at, user=user if getattr(user, "is_authenticated", False) else None,
                        action=action, level=g.level, note=note)


def _lock(g: Grievance) -> Grievance:
    found = locked(Grievance.objects.all()).filter(pk=g.pk).first()
    if found is None:
        raise NotFound()
    return found


# --- filing ------------------------------------------------------------------------------------
def _household_for(user: Any, scope: Scope, household: Household | None) -> Household:
    own = Role.objects.filter(user_id=getattr(user, "pk", None) or 0, role="resident").select_related("household").first()
    if own is not None and own.household is not None:
        if household is not None and household.pk != own.household_id:
            raise Forbidden(_("Residents file for their own household."))
        return own.household
    if household is None:
        raise Invalid({"household": _("Say which household the complaint is from.")})
    if not scope.unrestricted:
        check_in_scope(scope, household)
    return household


@serialised
def grievance_file(*, user: Any, scope: Scope, kind: str, subject_ref: str, description: str,
                   sensitive: bool = False, household: Household | None = None,
                   now: datetime | None = None) -> Grievance:
    """File a complaint. A resident files for their own household; staff on behalf of a household in their
    area. A complaint against a grid member always takes the sensitive track."""
    now = now or timezone.now()
    if not scope.unrestricted:
        require(scope, "grievances")
    home = _household_for(user, scope, household)
    description = bounded_text(description, "description", kind="text_chars")
    if not description:
        raise Invalid({"description": _("Say what happened.")})
    subject = resolve(scope=scope, kind=kind, ref=bounded_text(subject_ref, "subject_ref", max_chars=64))
    sensitive = bool(sensitive) or kind == Grievance.Kind.GRID_MEMBER
    level = chain.start_level(sensitive=sensitive)
    g = Grievance(code=f"tmp-{uuid.uuid4().hex[:20]}", kind=kind, subject_ref=subject.ref,
                  subject_label=subject.label[:200], subject_path=subject.path, description=description,
                  sensitive=sensitive, household=home, grid=home.grid, place_path=home.place_path,
                  visible_path=chain.visible_path(home.place_path, sensitive=sensitive),
                  filed_by=user if getattr(user, "is_authenticated", False) else None, level=level,
                  filed_at=now, level_started_at=now)
    _recompute(g)
    g.save()
    g.code = f"G{now:%Y}-{g.pk:06d}"
    g.save(update_fields=["code"])
    _step(g, user=user, action="file", at=now)
    audit.record(user=user, event=GrievanceEvent.FILED, instance=g, new=_facts(g))
    code = g.code
    _notify(chain.level_users(g, level), g, lambda: _("Grievance %(code)s is yours to answer") % {"code": code},
            f"grievance:{g.pk}:file")
    return g


# --- handling ----------------------------------------------------------------------------------
def authorise(*, user: Any, scope: Scope, grievance: Grievance, action: str) -> None:
    """Refuse (Forbidden; NotFound out of scope) an action this user may not take on the grievance."""
    if not scope.unrestricted:
        require(scope, "grievances")
        check_in_scope(scope, grievance)
    if action in HANDLER_ACTIONS:
        if not scope.unrestricted:
            require(scope, "grievances_handle")
        mine = chain.level_of_user(user)
        if mine is None or LEVELS.index(mine) < LEVELS.index(grievance.level):
            raise Forbidden(_("This grievance is handled at the %(level)s level.") % {"level": grievance.level_label})
    elif action in COMPLAINANT_ACTIONS or action == "appeal":
        if not chain.is_complainant(user, grievance):
            raise Forbidden(_("Only the complainant may do this."))
    else:
        raise Invalid({"action": _("Unknown action.")})


@serialised
def grievance_act(*, user: Any, scope: Scope, grievance: Grievance, action: str, note: str = "",
                  reason: str = "", rating: int | None = None, mediation: str = "",
                  now: datetime | None = None) -> Grievance:
    """respond (a first answer), pause (a stated ``reason`` and an explanation; for "in mediation", the
    mediation case's code), resume, close (the
    decision, which ends any pause) or rate (the complainant, 1 to 5, once, after the decision)."""
    now = now or timezone.now()
    if action not in (*HANDLER_ACTIONS, *COMPLAINANT_ACTIONS):
        raise Invalid({"action": _("Unknown action.")})
    note = bounded_text(note, "note", kind="text_chars")
    g = _lock(grievance)
    if not scope.unrestricted:
        check_in_scope(scope, g)  # out of scope first: "not found" says nothing about the state
    authorise(user=user, scope=scope, grievance=g, action=action)
    before = _facts(g)
    if action == "rate":
        _rate(g, rating)
    else:
        if g.state != Grievance.State.OPEN:
            raise Conflict(_("This grievance is no longer being handled (it is %(state)s).") % {
                "state": g.get_state_display()})
        if action == "respond":
            if not note:
                raise Invalid({"note": _("Write the answer.")})
            g.responded_at = g.responded_at or now
        elif action == "pause":
            _pause(g, user=user, reason=reason, note=note, mediation=bounded_text(mediation, "mediation", max_chars=24),
                   now=now)
        elif action == "resume":
            _resume(g, now=now)
        elif action == "close":
            if not note:
                raise Invalid({"note": _("Write the decision and its reasons.")})
            if g.paused_since is not None:
                _resume(g, now=now)
            _recompute(g)
            g.state, g.closed_at, g.reply = Grievance.State.CLOSED, now, note
            g.responded_at = g.responded_at or now
            g.closed_on_time = g.due_at is not None and now <= g.due_at
    g.save()
    _step(g, user=user, action=action, at=now, note=note if action != "pause" else f"{reason}: {note}")
    after = _facts(g)
    old, new = audit.changed(before, after)
    event = {"respond": GrievanceEvent.RESPONDED, "pause": GrievanceEvent.PAUSED, "resume": GrievanceEvent.RESUMED,
             "close": GrievanceEvent.CLOSED, "rate": GrievanceEvent.RATED}[action]
    audit.record(user=user, event=event, instance=g, old=old, new={**new, **({"reason": reason} if reason else {})})
    if action in {"respond", "close"}:
        code = g.code
        _notify(_complainants(g), g, lambda: _("Grievance %(code)s has an answer") % {"code": code},
                f"grievance:{g.pk}:{action}:{now.isoformat()}")
    return g


def _rate(g: Grievance, rating: int | None) -> None:
    if g.state != Grievance.State.CLOSED or g.closed_at is None:
        raise Conflict(_("A grievance is rated once it has been answered."))
    if g.rating is not None:
        raise Conflict(_("This grievance has already been rated."), field="rating")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise Invalid({"rating": _("Give a rating from 1 to 5.")})
    g.rating = rating


def _pause(g: Grievance, *, user: Any, reason: str, note: str, mediation: str, now: datetime) -> None:
    if reason not in Pause.Reason.values:
        raise Invalid({"reason": _("Choose the reason the clock stops: only the stated reasons may stop it.")})
    if not note:
        raise Invalid({"note": _("Explain the pause.")})
    if g.paused_since is not None:
        raise Conflict(_("The clock is already paused."))
    mediation = mediation.strip() if reason == Pause.Reason.IN_MEDIATION else ""
    if reason == Pause.Reason.IN_MEDIATION and not _mediation_exists(mediation, g.place_path):
        raise Invalid({"mediation": _("Give the code of the mediation the dispute went to, in this community.")})
    Pause.objects.create(grievance=g, reason=reason, note=note[:500], mediation_code=mediation, started_at=now,
                         started_by=user if getattr(user, "is_authenticated", False) else None)
    g.paused_since = now
    _recompute(g)


def _mediation_exists(code: str, place_path: str) -> bool:
    """A mediation case of that code in the grievance's community (its parties stay with its mediator)."""
    from django.apps import apps

    if not code or not apps.is_installed("civicgrid.mediation"):
        return False
    cases = apps.get_model("mediation", "MediationCase").objects
    return bool(cases.filter(code=code, place_path__startswith=ancestor_at(place_path, "community")).exists())


def _resume(g: Grievance, *, now: datetime) -> None:
    if g.paused_since is None:
        raise Conflict(_("The clock is running."))
    g.pauses.filter(ended_at__isnull=True).update(ended_at=now)
    g.paused_since = None
    _recompute(g)


def _complainants(g: Grievance) -> list[Any]:
    from django.contrib.auth import get_user_model

    users = list(get_user_model().objects.filter(role__role="resident", role__household_id=g.household_id))
    return users + ([g.filed_by] if g.filed_by else [])


# --- appeals ----------------------------------------------------------------------------------
@serialised
def grievance_appeal(*, user: Any, scope: Scope, grievance: Grievance, reason: str,
                     now: datetime | None = None) -> Appeal:
    """The complainant appeals the decision within the appeal window; the appeal has its own deadline."""
    now = now or timezone.now()
    reason = bounded_text(reason, "reason", kind="text_chars")
    g = _lock(grievance)
    if not scope.unrestricted:
        check_in_scope(scope, g)
    authorise(user=user, scope=scope, grievance=g, action="appeal")
    if not reason:
        raise Invalid({"reason": _("Say why you appeal.")})
    if g.state != Grievance.State.CLOSED or g.closed_at is None:
        raise Conflict(_("Only a decided grievance can be appealed."))
    if g.appeals.filter(filed_at__gte=g.closed_at).exists():
        raise Conflict(_("This decision has already been appealed."))
    window = conf.value("appeal_window_days")
    if now > g.closed_at + timedelta(days=window):
        raise Conflict(_("The appeal window closed %(days)d days after the decision.") % {"days": window},
                       field="reason")
    before = _facts(g)
    appeal = Appeal.objects.create(grievance=g, reason=reason, filed_at=now, due_at=now + conf.hours("appeal_hours"))
    g.state = Grievance.State.APPEALED
    g.save(update_fields=["state"])
    _step(g, user=user, action="appeal", at=now, note=reason)
    old, new = audit.changed(before, _facts(g))
    audit.record(user=user, event=GrievanceEvent.APPEALED, instance=g, old=old,
                 new={**new, "appeal": appeal.pk, "appeal_due_at": appeal.due_at.isoformat()})
    code, ids = g.code, chain.handling_chain(g)
    reviewers = [u for level in LEVELS[LEVELS.index(g.level) + 1:] or LEVELS[-1:] for u in chain.level_users(g, level)
                 if u.pk not in ids]
    _notify(reviewers, g, lambda: _("Grievance %(code)s is appealed: a review is due") % {"code": code},
            f"grievance:{g.pk}:appeal:{appeal.pk}")
    return appeal


@serialised
def appeal_decide(*, user: Any, scope: Scope, appeal: Appeal, outcome: str, decision: str,
                  now: datetime | None = None) -> Appeal:
    """A reviewer outside the handling chain decides: ``upheld`` reopens the grievance one level up with a
    fresh level clock; ``dismissed`` restores the decision."""
    now = now or timezone.now()
    decision = bounded_text(decision, "decision", kind="text_chars")
    g = _lock(appeal.grievance)
    if not scope.unrestricted:
        require(scope, "grievances_review")
        check_in_scope(scope, g)
    found = locked(Appeal.objects.all()).filter(pk=appeal.pk, grievance=g).first()
    if found is None:
        raise NotFound()
    if found.outcome != Appeal.Outcome.PENDING:
        raise Conflict(_("This appeal has already been decided."))
    if getattr(user, "pk", None) in chain.handling_chain(g):
        raise Forbidden(_("You handled this grievance or are in its handling chain: a reviewer outside it decides "
                          "the appeal."))
    if outcome not in (Appeal.Outcome.UPHELD, Appeal.Outcome.DISMISSED):
        raise Invalid({"outcome": _("Choose: upheld or not upheld.")})
    if not decision:
        raise Invalid({"decision": _("Give the reasons of the review.")})
    before = _facts(g)
    found.outcome, found.decision, found.decided_at = outcome, decision, now
    found.reviewer = user if getattr(user, "is_authenticated", False) else None
    found.save()
    if outcome == Appeal.Outcome.UPHELD:
        g.state, g.closed_at, g.closed_on_time = Grievance.State.OPEN, None, None
        g.level = LEVELS[min(LEVELS.index(g.level) + 1, len(LEVELS) - 1)]
        g.level_started_at = now
        _recompute(g)
    else:
        g.state = Grievance.State.CLOSED
    g.save()
    _step(g, user=user, action=f"appeal_{outcome}", at=now, note=decision)
    old, new = audit.changed(before, _facts(g))
    audit.record(user=user, event=GrievanceEvent.APPEAL_DECIDED, instance=g, old=old,
                 new={**new, "appeal": found.pk, "outcome": outcome})
    code = g.code
    _notify(_complainants(g), g, lambda: _("The appeal of grievance %(code)s is decided") % {"code": code},
            f"grievance:{g.pk}:appeal:{found.pk}:decided")
    return found


# --- the clock's job ---------------------------------------------------------------------------
def grievances_tick(*, now: datetime | None = None) -> dict[str, int]:
    """Escalate each running grievance past its level's limit by one level (with a fresh level clock), and
    remind the handlers of each one whose level or business limit falls within ``remind_hours``: before a
    breach, not after (sensitive ones every day, as HOPE does). Each grievance in its own transaction."""
    now = now or timezone.now()
    running = Grievance.objects.filter(state=Grievance.State.OPEN, paused_since__isnull=True)
    escalated = reminded = 0
    for gid in running.filter(level_due_at__lt=now).exclude(level=LEVELS[-1]).values_list("pk", flat=True):
        with serialised_block():
            g = locked(Grievance.objects.filter(state="open", paused_since__isnull=True, level_due_at__lt=now)
                       .exclude(level=LEVELS[-1])).filter(pk=gid).first()
            if g is None:
                continue  # a run beside this one escalated it, or it was answered meanwhile
            before, late = _facts(g), timezone.localtime(g.level_due_at).strftime("%Y-%m-%d %H:%M")
            g.level, g.level_started_at = LEVELS[LEVELS.index(g.level) + 1], now
            _recompute(g)
            g.save()
            _step(g, user=None, action="escalate", at=now, note=f"{late}")
            old, new = audit.changed(before, _facts(g))
            audit.record(user=None, event=GrievanceEvent.ESCALATED, instance=g, old=old, new=new)
            code, level = g.code, g.level
            _notify(chain.level_users(g, level), g, lambda code=code, level=level: _(
                "Grievance %(code)s is overdue and escalated to the %(level)s") % {"code": code, "level": LEVEL_LABELS[level]},
                    f"grievance:{g.pk}:escalate:{level}")
            escalated += 1
    soon = now + conf.hours("remind_hours")
    for g in running.filter(level_due_at__lte=soon).select_related("grid"):
        target = min(d for d in (g.level_due_at, g.due_at) if d is not None)
        day = now.date().isoformat() if g.sensitive else target.isoformat()
        code, when = g.code, timezone.localtime(target).strftime("%m-%d %H:%M")
        sent = _notify_count(chain.level_users(g, g.level), g, lambda code=code, when=when: _("Grievance %(code)s is due by %(when)s") % {
            "code": code, "when": when}, f"grievance:{g.pk}:remind:{day}")
        reminded += sent
    return {"escalated": escalated, "reminded": reminded}


def _notify_count(users: Any, g: Grievance, title: Any, source: str) -> int:
    from civicgrid.alerts.services import notice_send

    return len(notice_send(users=list(users), title=title, link=reverse("grievances:detail", args=[g.pk]),
                           source=source))

