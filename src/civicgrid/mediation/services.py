"""Writes for mediation. Every write locks the case first, checks that the user is its mediator or its
community's director (or, to open a case, a director), writes, and audits with explicit party-free values
(never a snapshot: the case's summary and the parties stay out of the log)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core import audit
from civicgrid.core.errors import Conflict, Forbidden, Invalid, NotFound
from civicgrid.core.limits import bounded_text, whole_number
from civicgrid.core.locking import locked, serialised, serialised_block
from civicgrid.core.places import ancestor_at
from civicgrid.core.scoping import Scope, check_in_scope, require
from civicgrid.mediation.events import MediationEvent
from civicgrid.mediation.models import FOLLOW_UP_DAYS_MAX, Agreement, MediationCase, Party, Session
from civicgrid.mediation.selectors import may_see_parties, mediator_candidates
from civicgrid.registry.models import Place


def _facts(case: MediationCase) -> dict[str, Any]:
    """What the audit log keeps of a case: no summary, no party, no note."""
    return {"code": case.code, "category": case.category, "state": case.state, "mediator_id": case.mediator_id,
            "follow_up_state": case.follow_up_state,
            "follow_up_due_at": case.follow_up_due_at.isoformat() if case.follow_up_due_at else None}


def _lock(case: MediationCase, user: Any, scope: Scope) -> MediationCase:
    found = locked(MediationCase.objects.all()).filter(pk=case.pk).first()
    if found is None:
        raise NotFound()
    if not scope.unrestricted:
        require(scope, "mediation")
        check_in_scope(scope, found)
        if not may_see_parties(user, found):
            raise Forbidden(_("Only the case's mediator and the community's director work on a mediation."))
    return found


def _grid_of(place: Place) -> Place:
    if place.level == "grid":
        return place
    if place.level == "building" and place.parent is not None:
        return place.parent
    raise Invalid({"place": _("A mediation is opened at a grid or a building.")})


@serialised
def case_open(*, user: Any, scope: Scope, category: str, place: Place, summary: str, mediator: Any = None,
              follow_up_days: int = 30, now: datetime | None = None) -> MediationCase:
    """Open a case (a director, or the platform). The mediator must be the director or a grid member of
    the case's community."""
    now = now or timezone.now()
    if not scope.unrestricted:
        require(scope, "mediation_manage")
        check_in_scope(scope, place)
    if category not in MediationCase.Category.values:
        raise Invalid({"category": _("Choose the kind of dispute.")})
    summary = bounded_text(summary, "summary", kind="text_chars")
    if not summary:
        raise Invalid({"summary": _("Describe the dispute.")})
    follow_up_days = whole_number(follow_up_days, "follow_up_days", maximum=FOLLOW_UP_DAYS_MAX)
    grid = _grid_of(place)
    community = ancestor_at(place.path, "community")
    if mediator is not None and not mediator_candidates(community_path=community).filter(pk=mediator.pk).exists():
        raise Invalid({"mediator": _("The mediator is the director or a grid member of this community.")})
    case = MediationCase.objects.create(
        code=f"tmp-{uuid.uuid4().hex[:20]}", category=category, place=place, place_path=place.path, grid=grid,
        summary=summary, mediator=mediator, opened_by=user if getattr(user, "is_authenticated", False) else None,
        opened_at=now, follow_up_days=follow_up_days)
    case.code = f"M{now:%Y}-{case.pk:06d}"
    case.save(update_fields=["code"])
    audit.record(user=user, event=MediationEvent.OPENED, instance=case, new=_facts(case))
    if mediator is not None:
        _notify([mediator], case, "open")
    return case


def _notify(users: list[Any], case: MediationCase, what: str) -> None:
    from civicgrid.alerts.services import notice_send

    code = case.code
    title = (lambda: _("Mediation %(code)s is yours") % {"code": code}) if what == "open" else \
        (lambda: _("Mediation %(code)s: the follow-up visit is due") % {"code": code})
    notice_send(users=users, title=title, link=reverse("mediation:detail", args=[case.pk]),
                source=f"mediation:{case.pk}:{what}")


@serialised
def party_add(*, user: Any, scope: Scope, case: MediationCase, side: str, name: str, phone: str = "") -> Party:
    case = _lock(case, user, scope)
    if case.state != MediationCase.State.OPEN:
        raise Conflict(_("Parties are added while the mediation is open."))
    if side not in Party.Side.values:
        raise Invalid({"side": _("Choose the party's side.")})
    name = bounded_text(name, "name", max_chars=60)
    if not name:
        raise Invalid({"name": _("Give the party's name.")})
    phone = bounded_text(phone, "phone", max_chars=30)
    party = Party.objects.create(case=case, side=side, name=name, phone=phone)
    audit.record(user=user, event=MediationEvent.PARTY_ADDED, instance=case,
                 new={"code": case.code, "party": party.pk, "side": side})
    return party


@serialised
def session_record(*, user: Any, scope: Scope, case: MediationCase, note: str, held_at: datetime | None = None
                   ) -> Session:
    case = _lock(case, user, scope)
    if case.state != MediationCase.State.OPEN:
        raise Conflict(_("Sessions are recorded while the mediation is open."))
    note = bounded_text(note, "note", kind="text_chars")
    if not note:
        raise Invalid({"note": _("Write what was said and agreed.")})
    session = Session.objects.create(case=case, held_at=held_at or timezone.now(), note=note,
                                     recorded_by=user if getattr(user, "is_authenticated", False) else None)
    audit.record(user=user, event=MediationEvent.SESSION_RECORDED, instance=case,
                 new={"code": case.code, "session": session.pk, "held_at": session.held_at.isoformat()})
    return session


@serialised
def agreement_record(*, user: Any, scope: Scope, case: MediationCase, text: str, now: datetime | None = None
                     ) -> Agreement:
    """The agreement's text; the follow-up visit is scheduled ``follow_up_days`` later."""
    now = now or timezone.now()
    case = _lock(case, user, scope)
    if case.state != MediationCase.State.OPEN:
        raise Conflict(_("The mediation is not open."))
    if case.parties.count() < 2:
        raise Conflict(_("An agreement needs at least two parties."))
    text = bounded_text(text, "text", kind="text_chars")
    if not text:
        raise Invalid({"text": _("Write the agreement.")})
    before = _facts(case)
    agreement = Agreement.objects.create(case=case, text=text, made_at=now)
    case.state, case.agreed_at = MediationCase.State.AGREED, now
    case.follow_up_state, case.follow_up_due_at = MediationCase.FollowUp.SCHEDULED, now + timedelta(days=case.follow_up_days)
    case.save()
    old, new = audit.changed(before, _facts(case))
    audit.record(user=user, event=MediationEvent.AGREEMENT_RECORDED, instance=case, old=old, new=new)
    return agreement


@serialised
def party_sign(*, user: Any, scope: Scope, case: MediationCase, party_id: int, now: datetime | None = None) -> Party:
    """A party signs the agreement (in front of the mediator, who records it)."""
    now = now or timezone.now()
    case = _lock(case, user, scope)
    if not hasattr(case, "agreement") or case.state not in (MediationCase.State.AGREED, MediationCase.State.CLOSED):
        raise Conflict(_("There is no agreement to sign yet."))
    party = locked(case.parties.all()).filter(pk=party_id).first()
    if party is None:
        raise NotFound()
    if party.signed_at is not None:
        raise Conflict(_("This party has already signed."))
    party.signed_at = now
    party.save(update_fields=["signed_at"])
    audit.record(user=user, event=MediationEvent.PARTY_SIGNED, instance=case,
                 new={"code": case.code, "party": party.pk, "signed_at": now.isoformat()})
    return party


@serialised
def case_fail(*, user: Any, scope: Scope, case: MediationCase, note: str, now: datetime | None = None) -> MediationCase:
    now = now or timezone.now()
    case = _lock(case, user, scope)
    if case.state != MediationCase.State.OPEN:
        raise Conflict(_("The mediation is not open."))
    note = bounded_text(note, "note", kind="text_chars")
    if not note:
        raise Invalid({"note": _("Say why no agreement was reached.")})
    before = _facts(case)
    Session.objects.create(case=case, held_at=now, note=note, recorded_by=user if getattr(user, "is_authenticated", False) else None)
    case.state, case.closed_at = MediationCase.State.FAILED, now
    case.save()
    old, new = audit.changed(before, _facts(case))
    audit.record(user=user, event=MediationEvent.FAILED, instance=case, old=old, new=new)
    return case


@serialised
def followup_record(*, user: Any, scope: Scope, case: MediationCase, note: str, now: datetime | None = None
                    ) -> MediationCase:
    """The follow-up visit: whether the agreement holds. Closes the case."""
    now = now or timezone.now()
    case = _lock(case, user, scope)
    if case.follow_up_state not in (MediationCase.FollowUp.SCHEDULED, MediationCase.FollowUp.DUE):
        raise Conflict(_("No follow-up visit is scheduled."))
    note = bounded_text(note, "note", kind="text_chars")
    if not note:
        raise Invalid({"note": _("Write what the visit found.")})
    before = _facts(case)
    case.follow_up_state, case.followed_up_at, case.follow_up_note = MediationCase.FollowUp.DONE, now, note
    case.state, case.closed_at = MediationCase.State.CLOSED, now
    case.save()
    old, new = audit.changed(before, _facts(case))
    audit.record(user=user, event=MediationEvent.FOLLOWED_UP, instance=case, old=old, new=new)
    return case


def followups_mark_due(*, now: datetime | None = None) -> list[MediationCase]:
    """The periodic job: each scheduled follow-up whose time has come becomes due (a work item of the
    mediator and the director) and the mediator is told. Each case in its own transaction."""
    from civicgrid.accounts.roles import director_users

    now = now or timezone.now()
    marked = []
    waiting = MediationCase.objects.filter(follow_up_state=MediationCase.FollowUp.SCHEDULED, follow_up_due_at__lte=now)
    for pk in waiting.values_list("pk", flat=True):
        with serialised_block():
            case = locked(waiting).filter(pk=pk).first()
            if case is None:
                continue
            before = _facts(case)
            case.follow_up_state = MediationCase.FollowUp.DUE
            case.save(update_fields=["follow_up_state"])
            old, new = audit.changed(before, _facts(case))
            audit.record(user=None, event=MediationEvent.FOLLOW_UP_DUE, instance=case, old=old, new=new)
            users = ([case.mediator] if case.mediator else []) + list(director_users(case.place_path))
            _notify(users, case, "follow_up")
            marked.append(case)
    return marked
