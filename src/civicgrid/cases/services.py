"""Writes for grid cases. Every action on one case goes through :func:`case_act`: the transition table decides
whether the case's state allows it, :func:`_authorise` whether this user may take it; the change, its timeline
event and its audit row commit together, written by :func:`_transition`, which the escalation job
(:func:`cases_escalate_overdue`, many cases a transaction) uses too. The house contract (README, "The house
rules"): ``user`` and ``scope`` keyword-only, errors from :mod:`civicgrid.core.errors`."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Role
from civicgrid.cases import transitions as tx
from civicgrid.cases.events import CaseAuditEvent
from civicgrid.cases.models import LEVEL_LABELS, LEVELS, Case, CaseCategory, CaseEvent
from civicgrid.cases.selectors import grid_of, handler_candidates, level_place
from civicgrid.core import audit
from civicgrid.core.bulk import chunks
from civicgrid.core.errors import Forbidden, Invalid, NotFound
from civicgrid.core.images import reencode_image
from civicgrid.core.limits import bounded_text
from civicgrid.core.locking import locked, serialised, serialised_block
from civicgrid.core.places import ancestor_at
from civicgrid.core.scoping import PLATFORM, Scope, check_in_scope, require
from civicgrid.registry.models import Actor, Household, Place, Post

PHOTO_MAX_BYTES = 5 * 1024 * 1024
# cases escalated in one transaction: 200 hold SQLite's write lock for about a tenth of a second
ESCALATION_BATCH = 200
MANAGER_ACTIONS = frozenset({"register", "dismiss", "dispatch", "transfer", "close", "escalate"})


# --- places and people around a case ------------------------------------------------------------
def serves_grid(user: Any, grid: Place) -> bool:
    """Whether the user is a grid member of this grid (the registry's posts say who serves which)."""
    person_id = Role.objects.filter(user_id=getattr(user, "pk", None) or 0, role="grid_member").values_list(
        "person_id", flat=True).first()
    return bool(person_id) and Post.objects.filter(person_id=person_id or 0, role="grid_member", place=grid).exists()


def _is_resident_of(user: Any, household_id: int | None) -> bool:
    return household_id is not None and Role.objects.filter(
        user_id=getattr(user, "pk", None) or 0, role="resident", household_id=household_id).exists()


def _users_of_actor(actor: Actor) -> Any:
    return get_user_model().objects.filter(role__actor=actor)


def _users_at(place: Place | None) -> Any:
    return get_user_model().objects.filter(role__place=place) if place else get_user_model().objects.none()


def _grid_member_users(grid: Place) -> Any:
    people = Post.objects.filter(role="grid_member", place=grid).values("person_id")
    return get_user_model().objects.filter(role__role="grid_member", role__person_id__in=people)


def _notify(users: Any, case: Case, title: Any, source: str) -> None:
    from civicgrid.alerts.services import notice_send

    notice_send(users=list(users), title=title, link=reverse("cases:detail", args=[case.pk]), source=source)


# --- reporting --------------------------------------------------------------------------------
def _check_photo(photo: UploadedFile | None) -> ContentFile[bytes] | None:
    """The photo re-encoded from its pixels (civicgrid.core.images), never the uploaded bytes."""
    if photo is None:
        return None
    if photo.size and photo.size > PHOTO_MAX_BYTES:
        raise Invalid({"photo": _("The photo is larger than 5 MB.")})
    try:
        return reencode_image(photo, max_bytes=PHOTO_MAX_BYTES)
    except ValidationError as exc:
        raise Invalid({"photo": exc.messages}) from None


@transaction.atomic
def case_report(*, user: Any, scope: Scope, category: CaseCategory, description: str, place: Place | None = None,
                household: Household | None = None, photo: UploadedFile | None = None, source: str = "",
                reporter_label: str = "", now: datetime | None = None) -> Case:
    """File a case. A resident files for their own household and building; a grid member or manager
    at a grid or building in their area. ``user=None`` is the platform itself (demo data, automatic
    filing; ``scope=PLATFORM``), with ``reporter_label`` saying who reported it."""
    now = now or timezone.now()
    if not scope.unrestricted:
        require(scope, "cases")
        own = Role.objects.filter(user=user, role="resident").select_related("household__building").first()
        if own is not None and own.household is not None:
            if household is not None and household.pk != own.household_id:
                raise Forbidden(_("Residents report for their own household."))
            household, place = own.household, own.household.building
        else:
            if household is not None:
                check_in_scope(scope, household)
            place = place or (household.building if household else None)
            if place is None:
                raise Invalid({"place": _("Say where the case is.")})
            check_in_scope(scope, place)
    place = place or (household.building if household else None)
    if place is None:
        raise Invalid({"place": _("Say where the case is.")})
    if not category.active:
        raise Invalid({"category": _("This category is no longer in use.")})
    description = bounded_text(description, "description", kind="text_chars")
    if not description:
        raise Invalid({"description": _("Describe the case.")})
    clean_photo = _check_photo(photo)
    grid = grid_of(place)
    due = now + timedelta(hours=category.time_limit_hours)
    case = Case(code=f"tmp-{uuid.uuid4().hex[:20]}", category=category, place=place, place_path=place.path, grid=grid,
                household=household, description=description.strip(), source=source,
                reporter=user if getattr(user, "is_authenticated", False) else None,
                reporter_label=reporter_label, reported_at=now, due_at=due, level_due_at=due)
    if clean_photo is not None:
        case.photo.save(clean_photo.name or "photo.jpg", clean_photo, save=False)
    case.save()
    case.code = f"C{now:%Y}-{case.pk:06d}"
    case.save(update_fields=["code"])
    CaseEvent.objects.create(case=case, at=now, user=case.reporter, action="report", to_state=case.state,
                             level=case.level, note=reporter_label)
    audit.record(user=user, event=CaseAuditEvent.REPORTED, instance=case, new=audit.snapshot(case))
    return case


# --- the loop ---------------------------------------------------------------------------------
def case_authorise(*, user: Any, scope: Scope, case: Case, action: str) -> None:
    """Refuse (Forbidden, or NotFound out of scope) an action this user may not take on the case."""
    _authorise(user, scope, case, action)


def _authorise(user: Any, scope: Scope, case: Case, action: str) -> None:
    if user is None:
        if action != "escalate" or scope is not PLATFORM:
            raise Forbidden(_("Only escalation runs without a user."))
        return
    require(scope, "cases")
    check_in_scope(scope, case)
    if action in MANAGER_ACTIONS:
        require(scope, "cases_manage")
    elif action == "handle":
        if not (scope.may("cases_manage") or case.handler_id in scope.actor_ids):
            raise Forbidden(_("Only the handling actor (or the community) records handling."))
    elif action in {"verify", "reopen"}:
        if not ((case.reporter_id and case.reporter_id == user.pk) or serves_grid(user, case.grid)):
            raise Forbidden(_("The grid member or the reporter verifies the handling."))
    elif action == "rate" and not (_is_resident_of(user, case.household_id)
                                   or (case.reporter_id == user.pk and Role.objects.filter(
                                       user=user, role="resident").exists())):
        raise Forbidden(_("The residents concerned rate the handling."))


def _apply(case: Case, action: str, *, now: datetime, note: str, handler: Actor | None,
           rating: int | None) -> None:
    if action in tx.NEEDS_REASON and not note.strip():
        raise Invalid({"note": _("Say why.")})
    if action in {"dispatch", "transfer"}:
        if handler is None:
            raise Invalid({"handler": _("Choose the actor who will handle the case.")})
        if not handler_candidates(case).filter(pk=handler.pk).exists():
            raise Invalid({"handler": _("%(actor)s does not serve this place.") % {"actor": handler.name}})
        if action == "transfer" and handler.pk == case.handler_id:
            raise Invalid({"handler": _("The case is already with %(actor)s.") % {"actor": handler.name}})
        case.handler = handler
        if action == "dispatch":
            case.dispatched_at = now
    elif action == "rate":
        if case.rating is not None:
            raise Invalid({"rating": _("This case has already been rated.")})
        if rating is None or not 1 <= int(rating) <= 5:
            raise Invalid({"rating": _("Give a rating from 1 to 5.")})
        case.rating, case.rating_comment = int(rating), note.strip()[:300]
    elif action == "escalate":
        index = LEVELS.index(case.level)
        if index == len(LEVELS) - 1:
            raise Invalid(_("The case is already at the highest level."))
        case.level = LEVELS[index + 1]
        case.level_due_at = now + timedelta(hours=case.category.time_limit_hours)
    stamp = {"register": "registered_at", "handle": "handled_at", "verify": "verified_at", "close": "closed_at",
             "dismiss": "closed_at"}.get(action)
    if stamp:
        setattr(case, stamp, now)
    if action == "reopen":
        case.handled_at = None  # on time is judged by the handling that passes verification


@serialised
def case_act(*, user: Any, scope: Scope, case: Case, action: str, note: str = "", handler: Actor | None = None,
             rating: int | None = None, now: datetime | None = None) -> Case:
    """Take ``action`` on the case (see transitions.TRANSITIONS). Refused with InvalidTransition if the
    case's state does not allow it (409), NotFound outside the scope, Forbidden if the role may not take
    it, Invalid if a required reason, handler or rating is missing."""
    if action not in tx.ACTIONS:
        raise Invalid(_("Unknown action %(action)r.") % {"action": action})
    note = bounded_text(note, "note")
    now = now or timezone.now()
    case = locked(Case.objects.select_related("category")).filter(pk=case.pk).first() or _missing()
    if user is not None:
        check_in_scope(scope, case)  # out of scope first: "not found" says nothing about the state
    tx.next_state(case.state, action)  # a state that does not allow it is said before who may take it
    _authorise(user, scope, case, action)
    return _transition(user=user, case=case, action=action, now=now, note=note, handler=handler, rating=rating)


def _transition(*, user: Any, case: Case, action: str, now: datetime, note: str = "",
                handler: Actor | None = None, rating: int | None = None,
                audience: dict[str, list[Any]] | None = None) -> Case:
    """The one writer of a case's state change: ``case`` (locked, checked and authorised by the caller) takes
    ``action``, with its event, its typed audit row (old and new values) and its notices, in the caller's
    transaction. ``audience``: the users at each place path, kept by a caller that escalates many cases."""
    new_state = tx.next_state(case.state, action)
    before = audit.snapshot(case)
    _apply(case, action, now=now, note=note, handler=handler, rating=rating)
    old_state, case.state = case.state, new_state
    case.save()
    CaseEvent.objects.create(case=case, at=now, user=user if getattr(user, "is_authenticated", False) else None,
                             action=action, from_state=old_state, to_state=new_state, level=case.level,
                             handler=case.handler, note=note.strip())
    old, new = audit.changed(before, audit.snapshot(case))
    audit.record(user=user, event=CaseAuditEvent(f"cases.{action}"), instance=case, old=old,
                 new={**new, "action": action, **({"reason": note.strip()} if note.strip() else {})})
    _after(case, action, now=now, audience=audience)
    return case


def _missing() -> Case:
    raise NotFound()


def _after(case: Case, action: str, *, now: datetime, audience: dict[str, list[Any]] | None = None) -> None:
    """Tell the next person in the loop."""
    code = case.code
    if action in {"dispatch", "transfer", "reopen"} and case.handler is not None:
        _notify(_users_of_actor(case.handler), case, lambda: _("Case %(code)s is yours to handle") % {"code": code},
                f"case:{case.pk}:{action}:{now.isoformat()}")
    elif action == "handle":
        users = list(_grid_member_users(case.grid)) + ([case.reporter] if case.reporter else [])
        _notify(users, case, lambda: _("Case %(code)s was handled: please verify") % {"code": code},
                f"case:{case.pk}:handle:{now.isoformat()}")
    elif action == "close" and case.reporter is not None:
        _notify([case.reporter], case, lambda: _("Case %(code)s is closed: how satisfied are you?") % {"code": code},
                f"case:{case.pk}:close")
    elif action == "escalate":
        level = case.level
        path = ancestor_at(case.place_path, level) or ""
        audience = {} if audience is None else audience  # one case alone: a look-up of its own
        if path not in audience:
            audience[path] = list(_users_at(level_place(case, level)))
        _notify(audience[path], case,
                lambda: _("Case %(code)s is overdue and escalated to the %(level)s") % {
                    "code": code, "level": LEVEL_LABELS[level]}, f"case:{case.pk}:escalate:{level}")


def cases_escalate_overdue(*, now: datetime | None = None) -> list[Case]:
    """Escalate each case still waiting for handling past its current level's time limit by ONE level
    (grid -> community -> sub-district -> district), giving the new level a fresh time limit. Run by the periodic
    job ``cases_escalate`` (every minute on the job queue), never by a page: a read does not write (the list once
    escalated every overdue case inside its GET, 9.7 s for 787 cases). ``now`` makes it testable.

    :data:`ESCALATION_BATCH` cases a transaction, each through the one writer of a case's change
    (:func:`_transition`): after a flood of reports a district's backlog is thousands of cases, and a transaction,
    two locked reads and an audit append for each made a run longer than the minute between runs (6 ms a case on
    PostgreSQL; bench/bench_escalation.py). A run that stops keeps the batches it finished; a case that cannot be
    escalated stops the run and takes its batch back with it (a run of one transaction a case stopped there too)."""
    now = now or timezone.now()

    def overdue() -> Any:
        return Case.objects.filter(state__in=tx.OPEN_STATES, level_due_at__lt=now).exclude(level=LEVELS[-1])

    ids = list(overdue().order_by("level_due_at", "id").values_list("id", flat=True))
    escalated: list[Case] = []
    # the users at each level's place, read once a run (a role given or taken during a run counts from the next)
    audience: dict[str, list[Any]] = {}
    for batch_ids in chunks(ids, ESCALATION_BATCH):
        with serialised_block(), audit.deferred():
            # re-read under the locks: a run beside this one may have escalated some already
            batch = locked(overdue().select_related("category")).filter(pk__in=batch_ids)
            for case in batch.order_by("level_due_at", "id"):
                late = timezone.localtime(case.level_due_at).strftime("%Y-%m-%d %H:%M")
                note = _("Overdue since %(time)s at the %(level)s level.") % {"time": late,
                                                                              "level": LEVEL_LABELS[case.level]}
                escalated.append(_transition(user=None, case=case, action="escalate", now=now, note=note,
                                             audience=audience))
    return escalated
