"""Meetings: calling one with its agenda, inviting households (by grid, building or group), attendance
(QR check-in by the invitee, or marked by staff), minutes, polls, decisions and the cases they open.

A decision needs the quorum: without it the service refuses (409) and nothing is written; the meeting
can still keep its minutes. A poll counts one vote per invited household that is present; a vote after
the poll closed is refused. Concurrent check-ins and votes are serialised (core.locking) and the schema's
unique constraints hold the rest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core import audit
from civicgrid.core.errors import Conflict, Forbidden, Invalid, NotFound
from civicgrid.core.limits import bounded_text, whole_number
from civicgrid.core.locking import locked, serialised
from civicgrid.core.places import ancestors, under
from civicgrid.core.scoping import Scope, check_in_scope, require
from civicgrid.council.checkin import new_nonce, read_code
from civicgrid.council.events import CouncilEvent as E
from civicgrid.council.models import (
    COMMENT_CHARS,
    TEXT_CHARS,
    TITLE_CHARS,
    AgendaItem,
    Body,
    Decision,
    Invitation,
    Meeting,
    Poll,
    Vote,
)
from civicgrid.council.selectors import passed, present, tally
from civicgrid.registry.models import Actor, Household, Place, vulnerable_filter

MANAGE = "council_manage"
GROUPS = ("body_members", "vulnerable", "all")  # who an invitation by group reaches (see meeting_invite)


def _title(value: Any, field: str = "title") -> str:
    text = bounded_text(value, field, max_chars=TITLE_CHARS)
    if not text:
        raise Invalid({field: _("This field is required.")})
    return text


def _manager(scope: Scope, record: Any) -> None:
    require(scope, MANAGE)
    check_in_scope(scope, record)


def _open(meeting: Meeting) -> None:
    if meeting.state == Meeting.State.CLOSED:
        raise Conflict(_("The meeting is closed."))


def _serves(actor: Actor, community: Place) -> bool:
    return actor.service_area.path in ancestors(community.path)


@transaction.atomic
def body_register(*, user: Any, scope: Scope, actor: Actor, kind: str) -> Body:
    """Record that ``actor`` convenes and decides as a body of ``kind`` (residents' bodies are named kinds)."""
    require(scope, MANAGE)
    check_in_scope(scope, actor)
    if kind not in Body.Kind.values:
        raise Invalid({"kind": _("Choose a kind of body.")})
    if Body.objects.filter(actor=actor).exists():
        raise Conflict(_("This actor is already registered as a body."), field="actor")
    body = Body.objects.create(actor=actor, kind=kind)
    audit.record(user=user, event=E.BODY_REGISTERED, instance=body, new=audit.snapshot(body),
                 place_path=actor.service_area.path)
    return body


@transaction.atomic
def meeting_create(*, user: Any, scope: Scope, community: Place, body: Body, title: str, starts_at: datetime,
                   quorum: int, location: str = "", agenda: list[str] | tuple[str, ...] = ()) -> Meeting:
    """Call a meeting of ``body`` in ``community`` with its agenda (one title per item)."""
    require(scope, MANAGE)
    check_in_scope(scope, community)
    if community.level != "community":
        raise Invalid({"community": _("Choose a community.")})
    if not _serves(body.actor, community):
        raise Invalid({"body": _("This body does not serve the community.")})
    meeting = Meeting(community=community, place_path=community.path, body=body, title=_title(title),
                      starts_at=starts_at, quorum=whole_number(quorum, "quorum", maximum=100_000),
                      location=bounded_text(location, "location", max_chars=TITLE_CHARS), checkin_nonce=new_nonce(),
                      created_by=user if getattr(user, "is_authenticated", False) else None)
    meeting.save()
    items = [AgendaItem(meeting=meeting, number=i, title=_title(t, "agenda"))
             for i, t in enumerate((t for t in agenda if str(t).strip()), start=1)]
    AgendaItem.objects.bulk_create(items)
    audit.record(user=user, event=E.MEETING_CREATED, instance=meeting,
                 new={**audit.snapshot(meeting), "agenda": [i.title for i in items]})
    return meeting


@serialised
def agenda_item_add(*, user: Any, scope: Scope, meeting: Meeting, title: str, note: str = "") -> AgendaItem:
    _manager(scope, meeting)
    meeting = locked(Meeting.objects.filter(pk=meeting.pk)).get()
    _open(meeting)
    number = (meeting.agenda.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    item = AgendaItem.objects.create(meeting=meeting, number=number, title=_title(title),
                                     note=bounded_text(note, "note", max_chars=COMMENT_CHARS))
    audit.record(user=user, event=E.AGENDA_ITEM_ADDED, instance=meeting, new={"agenda_item": item.number,
                                                                                "title": item.title})
    return item


@serialised
def meeting_invite(*, user: Any, scope: Scope, meeting: Meeting, place: Place | None = None, group: str = "") -> int:
    """Invite the households of a grid or building of the meeting's community (``place``), or of a group:
    ``body_members`` (households of residents holding a post in the convening body), ``vulnerable`` or
    ``all``. Households already invited are left as they are; returns how many were added."""
    _manager(scope, meeting)
    _open(meeting)
    households = Household.objects.filter(place_path__startswith=meeting.place_path)
    if place is not None:
        check_in_scope(scope, place)
        if place.level not in {"grid", "building"} or not place.path.startswith(meeting.place_path):
            raise Invalid({"place": _("Choose a grid or building of the meeting's community.")})
        households, label = households.filter(place_path__startswith=place.path), place.name
    elif group == "body_members":
        households = households.filter(residents__person__posts__actor_id=meeting.body.actor_id)
        label = group
    elif group == "vulnerable":
        households, label = households.filter(vulnerable_filter()), group
    elif group == "all":
        label = group
    else:
        raise Invalid({"group": _("Choose a grid, a building or a group to invite.")})
    if not scope.unrestricted:  # a manager invites only the households of their own area
        households = households.filter(under("place_path", scope.record_paths))
    ids = set(households.values_list("id", flat=True)) - set(meeting.invitations.values_list("household_id", flat=True))
    Invitation.objects.bulk_create([Invitation(meeting=meeting, household_id=h, invited_as=label[:80])
                                    for h in sorted(ids)])
    audit.record_bulk(user=user, event=E.INVITED, model=Invitation, ids=sorted(ids),
                      counts={"meeting": meeting.pk, "invited": len(ids)}, place_path=meeting.place_path,
                      summary=label)
    return len(ids)


def _attend(user: Any, invitation: Invitation, how: str) -> Invitation:
    if invitation.attended_at is not None:
        raise Conflict(_("This household has already checked in."))
    audit.update_fields(user=user, event=E.CHECKED_IN, instance=invitation, changes={
        "attended_at": timezone.now(), "attended_how": how,
        "attended_by": user if getattr(user, "is_authenticated", False) else None})
    return invitation


@serialised
def meeting_check_in(*, user: Any, scope: Scope, code: str) -> Invitation:
    """The logged-in invitee's own check-in, from the meeting's signed code (its QR code). A code that was
    not made here is "not found"; anyone not invited, or checking in twice, is refused (409)."""
    meeting_id, nonce = read_code(code)
    meeting = Meeting.objects.filter(pk=meeting_id, checkin_nonce=nonce).first()
    if meeting is None:
        raise NotFound()
    household = next(iter(scope.household_ids), None) if scope.role == "resident" else None
    if household is None:
        raise Conflict(_("Only an invited household checks itself in; staff mark attendance on the meeting page."))
    invitation = locked(Invitation.objects.filter(meeting=meeting, household_id=household)).first()
    if invitation is None:  # 409 like the other refusals of the door: the list of invitees refuses it
        raise Conflict(_("Your household is not invited to this meeting."))
    _open(meeting)
    return _attend(user, invitation, Invitation.How.QR)


@serialised
def attendance_mark(*, user: Any, scope: Scope, meeting: Meeting, household_id: int) -> Invitation:
    """Staff mark an invited household present by hand (no phone, no account)."""
    _manager(scope, meeting)
    invitation = locked(Invitation.objects.filter(meeting=meeting, household_id=household_id)).first()
    if invitation is None:
        raise Invalid({"household": _("This household is not invited to this meeting.")})
    _open(meeting)
    return _attend(user, invitation, Invitation.How.STAFF)


@transaction.atomic
def minutes_save(*, user: Any, scope: Scope, meeting: Meeting, minutes: str) -> Meeting:
    _manager(scope, meeting)
    _open(meeting)
    text = bounded_text(minutes, "minutes", max_chars=TEXT_CHARS)
    audit.update_fields(user=user, event=E.MINUTES_SAVED, instance=meeting, changes={"minutes": text})
    return meeting


@serialised
def meeting_close(*, user: Any, scope: Scope, meeting: Meeting) -> Meeting:
    """Close the meeting: its open polls close with it; nothing more is recorded on it."""
    _manager(scope, meeting)
    meeting = locked(Meeting.objects.filter(pk=meeting.pk)).get()
    _open(meeting)
    for poll in locked(meeting.polls.filter(state=Poll.State.OPEN)):
        _close_poll(user, poll)
    audit.update_fields(user=user, event=E.MEETING_CLOSED, instance=meeting,
                        changes={"state": Meeting.State.CLOSED})
    return meeting


@transaction.atomic
def poll_open(*, user: Any, scope: Scope, meeting: Meeting, question: str) -> Poll:
    _manager(scope, meeting)
    _open(meeting)
    poll = Poll.objects.create(meeting=meeting, question=_title(question, "question"), opened_at=timezone.now())
    audit.record(user=user, event=E.POLL_OPENED, instance=poll, new=audit.snapshot(poll), place_path=meeting.place_path)
    return poll


@serialised
def vote_cast(*, user: Any, scope: Scope, poll: Poll, choice: str, household_id: int | None = None) -> Vote:
    """One vote per invited household present at the meeting. A resident votes for their own household;
    staff enter the vote of a present household by hand (a show of hands). A second vote, a vote after
    the poll closed or from a household not present: refused, nothing written."""
    check_in_scope(scope, poll)
    if scope.role == "resident":
        own = next(iter(scope.household_ids), None)
        if household_id not in (None, own):
            raise Forbidden(_("Residents vote for their own household."))
        household_id = own
    else:
        require(scope, MANAGE)
        if household_id is None:
            raise Invalid({"household": _("Choose the household whose vote you enter.")})
    if choice not in Vote.Choice.values:
        raise Invalid({"choice": _("Choose yes, no or abstain.")})
    poll = locked(Poll.objects.filter(pk=poll.pk)).get()
    if poll.state != Poll.State.OPEN:
        raise Conflict(_("The poll is closed."))
    invitation = Invitation.objects.filter(meeting_id=poll.meeting_id, household_id=household_id or 0).first()
    if invitation is None:
        raise Forbidden(_("Your household is not invited to this meeting."))
    if invitation.attended_at is None:
        raise Conflict(_("Check in first: only households present vote."))
    if Vote.objects.filter(poll=poll, household_id=invitation.household_id).exists():
        raise Conflict(_("This household has already voted in this poll."))
    try:
        with transaction.atomic():
            vote = Vote.objects.create(poll=poll, invitation=invitation, household_id=invitation.household_id,
                                       choice=choice, at=timezone.now(),
                                       entered_by=user if getattr(user, "is_authenticated", False) else None)
    except IntegrityError:  # a racing vote of the same household got in first (PostgreSQL)
        raise Conflict(_("This household has already voted in this poll.")) from None
    # the vote's choice is not logged: the audit trail says who voted, the poll's count what was voted
    audit.record(user=user, event=E.VOTE_CAST, instance=poll, new={"household": invitation.household_id},
                 place_path=invitation.household.place_path)
    return vote


def _close_poll(user: Any, poll: Poll) -> Poll:
    audit.update_fields(user=user, event=E.POLL_CLOSED, instance=poll, changes={
        "state": Poll.State.CLOSED, "closed_at": timezone.now()}, place_path=poll.meeting.place_path)
    return poll


@serialised
def poll_close(*, user: Any, scope: Scope, poll: Poll) -> Poll:
    _manager(scope, poll)
    poll = locked(Poll.objects.filter(pk=poll.pk)).get()
    if poll.state != Poll.State.OPEN:
        raise Conflict(_("The poll is closed."))
    return _close_poll(user, poll)


@serialised
def decision_record(*, user: Any, scope: Scope, meeting: Meeting, title: str, text: str,
                    poll: Poll | None = None) -> Decision:
    """Record what the meeting decided, by its convening body. Refused (409) without the quorum of
    households present; with a poll, only once the poll is closed and passed."""
    _manager(scope, meeting)
    meeting = locked(Meeting.objects.filter(pk=meeting.pk)).select_related("body__actor").get()
    _open(meeting)
    title, text = _title(title), bounded_text(text, "text", max_chars=TEXT_CHARS)
    if not text:
        raise Invalid({"text": _("This field is required.")})
    count = present(meeting)
    if count < meeting.quorum:
        raise Conflict(_("No quorum: %(present)d of %(quorum)d households present; no decision can be taken.")
                       % {"present": count, "quorum": meeting.quorum})
    if poll is not None:
        poll = locked(Poll.objects.filter(pk=poll.pk)).get()  # its state now, not the caller's copy
        if poll.meeting_id != meeting.pk:
            raise Invalid({"poll": _("This poll belongs to another meeting.")})
        if poll.state != Poll.State.CLOSED:
            raise Conflict(_("Close the poll before recording its decision."), field="poll")
        if not passed(tally(poll)):
            raise Conflict(_("The poll did not pass: no decision to record."), field="poll")
        if Decision.objects.filter(poll=poll).exists():
            raise Conflict(_("This poll's decision is already recorded."), field="poll")
    body = meeting.body
    decision = Decision.objects.create(
        meeting=meeting, body=body, sector=body.actor.sector, body_kind=body.kind,
        residents_body=body.is_residents_body, title=title, text=text, poll=poll, present=count,
        taken_at=timezone.now(), place_path=meeting.place_path)
    audit.record(user=user, event=E.DECISION_RECORDED, instance=decision, new=audit.snapshot(decision))
    return decision


@serialised
def decision_publish(*, user: Any, scope: Scope, decision: Decision) -> Decision:
    """Publish the decision to the community's residents."""
    _manager(scope, decision)
    decision = locked(Decision.objects.filter(pk=decision.pk)).get()
    if decision.published_at is not None:
        raise Conflict(_("The decision is already published."))
    audit.update_fields(user=user, event=E.DECISION_PUBLISHED, instance=decision,
                        changes={"published_at": timezone.now()})
    return decision


@serialised
def decision_case_open(*, user: Any, scope: Scope, decision: Decision, category: Any, place: Place,
                       description: str = "") -> Decision:
    """Open the grid case that carries out the decision (through the cases app's own service) and keep
    the link both ways (the case's source names the decision)."""
    from civicgrid.cases.services import case_report

    _manager(scope, decision)
    decision = locked(Decision.objects.filter(pk=decision.pk)).get()
    if decision.case_id is not None:
        raise Conflict(_("This decision has already opened a case."))
    if not place.path.startswith(decision.place_path) or place.level not in {"grid", "building"}:
        raise Invalid({"place": _("Choose a grid or building of the meeting's community.")})
    text = bounded_text(description, "description", kind="text_chars") or f"{decision.title}\n{decision.text}"
    case = case_report(user=user, scope=scope, category=category, description=text[:2000], place=place,
                       source=f"council:{decision.pk}")
    audit.update_fields(user=user, event=E.DECISION_CASE_OPENED, instance=decision,
                        changes={"case": case})
    return decision

