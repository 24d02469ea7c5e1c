"""Writes for alerts: publish (queueing the deliveries), acknowledge, clarify, personal notices.
Sending itself is :mod:`civicgrid.alerts.outbox`, run apart from any page."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.accounts.models import Role
from civicgrid.alerts import outbox, targeting
from civicgrid.alerts.crei import TALLY
from civicgrid.alerts.events import AlertEvent
from civicgrid.alerts.models import Acknowledgement, Alert, Clarification, Delivery, Notice
from civicgrid.alerts.text import in_both
from civicgrid.core import audit, bulk, tallies
from civicgrid.core.errors import Forbidden, Invalid
from civicgrid.core.locking import serialised
from civicgrid.core.scoping import Scope, check_in_scope, require
from civicgrid.registry.models import Place

CHANNELS = ("sms", "email")  # the in-app notices page needs no delivery


def _identifier(area: Place) -> str:
    return f"civicgrid-{area.code}-{uuid.uuid4().hex[:16]}"


@transaction.atomic
def alert_publish(
    *, user: Any, scope: Scope, area: Place, group: str = Alert.Group.ALL, headline_en: str = "", headline_zh: str = "",
    description_en: str = "", description_zh: str = "", instruction_en: str = "", instruction_zh: str = "",
    category: str = Alert.Category.SAFETY, event_en: str = "", event_zh: str = "",
    urgency: str = Alert.Urgency.EXPECTED, severity: str = Alert.Severity.MODERATE,
    certainty: str = Alert.Certainty.LIKELY, status: str = Alert.Status.ACTUAL,
    msg_type: str = Alert.MsgType.ALERT, references: Alert | None = None, expires_at: datetime | None = None,
    channels: Iterable[str] = CHANNELS, source: str = "", sender_name: str = "", now: datetime | None = None,
) -> Alert:
    """Publish an alert to ``group`` in ``area`` and queue its SMS and e-mail deliveries.

    The publisher needs the ``alerts_publish`` resource and the area must be in their scope. Returns
    at once: the outbox (``civicgrid manage alerts_send``) does the sending.
    """
    require(scope, "alerts_publish")
    check_in_scope(scope, area)
    channels = list(dict.fromkeys(channels))
    unknown = set(channels) - set(CHANNELS)
    if unknown:
        raise Invalid({"channels": _("Unknown channels: %(names)s") % {"names": ", ".join(sorted(unknown))}})
    if not (headline_en.strip() or headline_zh.strip()):
        raise Invalid({"headline_zh": _("Write a headline in at least one language.")})
    if msg_type != Alert.MsgType.ALERT and references is None:
        raise Invalid({"references": _("An update or cancellation must name the alert it changes.")})
    now = now or timezone.now()
    if expires_at is not None and expires_at <= now:
        raise Invalid({"expires_at": _("The expiry must be in the future.")})
    alert = Alert(
        identifier=_identifier(area), area=area, area_path=area.path, group=group, status=status,
        msg_type=msg_type, references=references, category=category, event_en=event_en, event_zh=event_zh,
        urgency=urgency, severity=severity, certainty=certainty, headline_en=headline_en.strip(),
        headline_zh=headline_zh.strip(), description_en=description_en, description_zh=description_zh,
        instruction_en=instruction_en, instruction_zh=instruction_zh, sent_at=now, expires_at=expires_at,
        published_by=user if getattr(user, "is_authenticated", False) else None,
        sender_name=sender_name or area.name, source=source, channels=channels)
    alert.full_clean()
    households = targeting.target_households(area=area, group=group)
    people = targeting.target_people(area=area, group=group)
    alert.n_households_targeted = households.count()
    alert.n_people_targeted = people.count()
    alert.save()
    queued = 0
    if "sms" in channels:
        queued += _queue(alert, "sms", "household_id", households.exclude(contact_phone_digest=""), now)
        queued += _queue(alert, "sms", "person_id", people.exclude(phone_digest=""), now)
    if "email" in channels:
        queued += _queue(alert, "email", "user_id", targeting.target_users(area=area, group=group).exclude(email=""), now)
    tallies.refresh(TALLY, parts=[alert.pk])  # the CREI's reach of this alert, in this transaction
    audit.record(user=user, event=AlertEvent.PUBLISHED, instance=alert,
                 new={**audit.snapshot(alert), "queued_deliveries": queued})
    if queued:
        outbox.queue_senders()  # once committed: every worker process starts sending
    return alert


def _queue(alert: Alert, channel: str, recipient: str, recipients: QuerySet[Any], now: datetime) -> int:
    """One delivery per recipient, written by the database itself (``INSERT ... SELECT``): a district-wide
    alert queues hundreds of thousands of rows, with no Python object per row."""
    try:
        sql, params = recipients.order_by().values_list("id").query.sql_with_params()
    except EmptyResultSet:  # a group this kind of recipient never belongs to (``.none()``)
        return 0
    table, columns = bulk.table_columns(Delivery, ["alert_id", "channel", recipient, "state", "attempts",
                                                   "next_attempt_at", "gateway_id", "last_error"])
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
                       f"SELECT %s, %s, r.id, %s, 0, %s, '', '' FROM ({sql}) r",
                       [alert.pk, channel, Delivery.State.QUEUED, connection.ops.adapt_datetimefield_value(now),
                        *params])
        return int(cursor.rowcount)


def _subject_for(user: Any, alert: Alert) -> dict[str, Any]:
    """What a user acknowledges for: their household if the alert reached it, else themselves."""
    role = Role.objects.select_related("household", "person__resident__household").filter(
        user_id=getattr(user, "pk", None) or 0).first()
    if role is None:
        return {}
    resident = getattr(role.person, "resident", None) if role.person_id else None
    for household in (role.household, getattr(resident, "household", None)):
        if household is not None and targeting.household_targeted(alert, household):
            return {"household": household}
    if role.person is not None and targeting.person_targeted(alert, role.person):
        return {"person": role.person}
    return {}


@serialised
def alert_acknowledge(*, user: Any, scope: Scope, alert: Alert) -> Acknowledgement:
    """Record that the user read the alert (once per household or person; repeating changes nothing)."""
    require(scope, "alerts")
    subject = _subject_for(user, alert)
    if not subject:
        raise Forbidden(_("This alert was not sent to you."))
    existing = Acknowledgement.objects.filter(alert=alert, **subject).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            ack = Acknowledgement.objects.create(alert=alert, user=user, **subject)
    except IntegrityError:  # acknowledged at the same moment from another device
        return Acknowledgement.objects.get(alert=alert, **subject)
    Alert.objects.filter(pk=alert.pk).update(n_acknowledged=F("n_acknowledged") + 1)
    household = subject.get("household")
    if household is not None:  # recount this alert's cells of the household's grid, in this transaction
        tallies.refresh(TALLY, parts=[alert.pk], grids=[household.grid_id])
    audit.record(user=user, event=AlertEvent.ACKNOWLEDGED, instance=ack, new=audit.snapshot(ack))
    return ack


@transaction.atomic
def clarification_add(*, user: Any, scope: Scope, alert: Alert, question_en: str = "", question_zh: str = "",
                      answer_en: str = "", answer_zh: str = "") -> Clarification:
    """Attach a rumour and its authoritative answer to an alert."""
    require(scope, "alerts_publish")
    check_in_scope(scope, alert)
    if not (question_en.strip() or question_zh.strip()):
        raise Invalid({"question_zh": _("Write the rumour or question.")})
    if not (answer_en.strip() or answer_zh.strip()):
        raise Invalid({"answer_zh": _("Write the authoritative answer.")})
    clarification = Clarification.objects.create(
        alert=alert, question_en=question_en.strip(), question_zh=question_zh.strip(),
        answer_en=answer_en.strip(), answer_zh=answer_zh.strip(), created_by=user)
    audit.record(user=user, event=AlertEvent.CLARIFIED, instance=clarification,
                 new=audit.snapshot(clarification))
    return clarification


@transaction.atomic
def notice_send(*, users: Iterable[Any], title: Callable[[], str], body: Callable[[], str] | None = None,
                link: str = "", source: str = "") -> list[Notice]:
    """A personal in-app notice to each user. ``title`` and ``body`` are callables building the text
    with gettext, rendered once in English and once in Chinese so each reader sees their language.
    A source already noticed to a user is not repeated."""
    title_en, title_zh = in_both(title)
    body_en, body_zh = in_both(body) if body else ("", "")
    user_ids = {u.pk for u in users if u is not None}
    if source:
        user_ids -= set(Notice.objects.filter(source=source, user_id__in=user_ids).values_list("user_id", flat=True))
    notices = Notice.objects.bulk_create([
        Notice(user_id=uid, title_en=title_en, title_zh=title_zh, body_en=body_en, body_zh=body_zh,
               link=link, source=source) for uid in sorted(user_ids)])
    return notices


def notice_mark_read(*, user: Any, notice_ids: Iterable[int]) -> int:
    """Mark the user's own notices read (a reading receipt, not a change that needs auditing)."""
    return Notice.objects.filter(user=user, pk__in=list(notice_ids), read_at__isnull=True).update(
        read_at=timezone.now())
