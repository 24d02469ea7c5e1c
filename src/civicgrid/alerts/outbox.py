"""The outbox: queued SMS and e-mail deliveries are sent here, by the job queue (``civicgrid worker``: each
published alert queues ``CIVICGRID_SMS_SENDERS`` sending jobs, and the periodic ``alerts_send`` picks up
retries), never inside a page request, so a slow gateway slows nobody's screen. A failed delivery is
retried after 1, 5 and 25 minutes, then marked failed.

Speed (issue 15: a district-wide alert, 300,000 households, handed to the gateways within 5 minutes):

* **claim** a chunk of due deliveries in one statement (``UPDATE ... RETURNING``; on PostgreSQL the rows are
  picked with ``FOR UPDATE SKIP LOCKED``, on SQLite the statement holds the database's write lock): the
  claim moves each row's ``next_attempt_at`` a lease ahead (``LEASE``) and counts the attempt, then
  commits. No transaction stays open while messages are sent, and another sender never claims a row
  claimed and not yet answered. A sender that dies mid-chunk leaves its rows to be claimed again when the
  lease ends (they may then be sent twice: at most once is impossible across a crash; exactly once
  otherwise, tested with two senders on PostgreSQL);
* **addresses** read per chunk, one query per kind of recipient (phones decrypted as they are read);
* **batches**: one text to many numbers per gateway request (:func:`civicgrid.alerts.channels.send_many`,
  the gateway's ``batch_size``), e-mails a batch per mail connection, several requests in flight
  (``CIVICGRID_SMS_CONCURRENCY`` threads: sending is waiting on the network), each request started at a
  slot of the gateway's limit shared by every sender (:mod:`civicgrid.alerts.pacing`);
* **results** written with one statement per chunk (``executemany``): a message the gateway refused
  is retried alone, the rest of its batch is sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from civicgrid.alerts.channels import (
    GatewayError,
    Outcome,
    SmsGateway,
    SmsMessage,
    send_emails,
    send_many,
    sms_gateway,
    sms_settings,
)
from civicgrid.alerts.models import Alert, Delivery
from civicgrid.alerts.pacing import Pacer, wait_until
from civicgrid.core import bulk
from civicgrid.registry.models import Household, Person

RETRY_AFTER = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=25))
MAX_ATTEMPTS = len(RETRY_AFTER) + 1
SMS_LIMIT = 300  # characters: long SMS are split by gateways, keep it to a few parts
LEASE = timedelta(minutes=10)  # a claimed chunk must be answered within this, else it is claimed again
CHUNK = 2000  # deliveries per claim
# Under a rate limit a chunk holds at most this many seconds of sending; senders' chunks queue behind one another
# for their slots, so about LEASE / CHUNK_SECONDS = 20 senders fit before a chunk's lease could end unanswered.
CHUNK_SECONDS = 30
EMAIL_BATCH = 100  # e-mails per mail connection
JOB_SECONDS = 240.0  # a sending job's budget (under the queue's 600 s timeout); it queues a successor if work is left


@dataclass(frozen=True)
class OutboxResult:
    sent: int
    retrying: int
    failed: int

    def __add__(self, other: OutboxResult) -> OutboxResult:
        return OutboxResult(self.sent + other.sent, self.retrying + other.retrying, self.failed + other.failed)

    @property
    def total(self) -> int:
        return self.sent + self.retrying + self.failed


NOTHING = OutboxResult(0, 0, 0)


def sms_text(alert: Alert) -> str:
    """The SMS body: sender, headline and instruction, Chinese first (the residents' language)."""
    headline = alert.headline_zh or alert.headline_en
    instruction = alert.instruction_zh or alert.instruction_en
    text = f"【{alert.sender_name}】{headline}" + (f" {instruction}" if instruction else "")
    return text[:SMS_LIMIT]


def email_text(alert: Alert) -> tuple[str, str]:
    subject = alert.headline_zh or alert.headline_en
    blocks = ["\n\n".join(p for p in parts if p) for parts in (
        (alert.headline_zh, alert.description_zh, alert.instruction_zh),
        (alert.headline_en, alert.description_en, alert.instruction_en))]
    return subject, "\n\n----\n\n".join(b for b in blocks if b)


@dataclass
class _Due:
    id: int
    alert_id: int
    channel: str
    household_id: int | None
    person_id: int | None
    user_id: int | None
    attempts: int  # counting this one
    to: str = ""


def _claim(*, now: datetime, limit: int) -> list[_Due]:
    """Take up to ``limit`` due deliveries for this sender, in one committed statement."""
    table, cols = bulk.table_columns(Delivery, ["id", "alert_id", "channel", "household_id", "person_id", "user_id",
                                                "attempts", "state", "next_attempt_at"])
    pk, alert, channel, household, person, user, attempts, state, due = cols
    adapt = connection.ops.adapt_datetimefield_value
    returning = f"RETURNING {pk}, {alert}, {channel}, {household}, {person}, {user}, {attempts}"
    pick = (f"SELECT {pk} FROM {table} WHERE {state} = %s AND {due} <= %s "  # noqa: S608
            f"ORDER BY {due}, {pk} LIMIT %s")
    if connection.vendor == "postgresql":
        pick += " FOR UPDATE SKIP LOCKED"
    sql = (f"UPDATE {table} SET {due} = %s, {attempts} = {attempts} + 1 "  # noqa: S608
           f"WHERE {pk} IN ({pick}) {returning}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(now + LEASE), Delivery.State.QUEUED, adapt(now), limit])
        rows = cursor.fetchall()
    return sorted((_Due(*row) for row in rows), key=lambda d: d.id)


def _address(rows: list[_Due]) -> None:
    """Each row's phone or e-mail address: one query per kind of recipient (phones decrypted as read)."""
    kinds: list[tuple[str, Any, str]] = [("household_id", Household.objects.all(), "contact_phone"),
                                         ("person_id", Person.objects.all(), "phone"),
                                         ("user_id", get_user_model().objects.all(), "email")]
    for attname, queryset, column in kinds:
        wanted = [getattr(r, attname) for r in rows if getattr(r, attname) is not None]
        if not wanted:
            continue
        found = bulk.mapping_in(queryset, field="id", values=wanted, key="id", value=column)
        for row in rows:
            key = getattr(row, attname)
            if key is not None:
                row.to = found.get(key) or ""


_Batch = tuple[str, int, list[_Due]]  # channel, alert id, rows


def _batches(rows: list[_Due], *, per_request: int) -> list[_Batch]:
    groups: dict[tuple[str, int], list[_Due]] = {}
    for row in rows:
        if row.to:
            groups.setdefault((row.channel, row.alert_id), []).append(row)
    out: list[_Batch] = []
    for (channel, alert_id), group in groups.items():
        size = per_request if channel == Delivery.Channel.SMS else EMAIL_BATCH
        out += [(channel, alert_id, group[i:i + size]) for i in range(0, len(group), size)]
    return out


def _sender(gateway: SmsGateway, texts: dict[int, Alert]) -> Callable[[_Batch, float], list[Outcome]]:
    def send(batch: _Batch, slot: float) -> list[Outcome]:
        channel, alert_id, rows = batch
        alert = texts[alert_id]
        if channel == Delivery.Channel.SMS:
            wait_until(slot)
            text = sms_text(alert)
            return send_many(gateway, [SmsMessage(to=r.to, text=text) for r in rows])
        subject, body = email_text(alert)
        return send_emails(messages=[(r.to, subject, body) for r in rows])
    return send


def _sending_settings() -> tuple[int, int]:
    concurrency = int(getattr(settings, "CIVICGRID_SMS_CONCURRENCY", 16))
    return max(1, concurrency), sms_settings()[0]


def pacer_for(gateway: SmsGateway) -> Pacer:
    """The configured limit of this gateway (its slots shared by every sender of the same gateway)."""
    batch_size, rate = sms_settings()
    kind = type(gateway)
    name = f"{kind.__module__}.{kind.__qualname__}:{getattr(gateway, 'url', '')}"
    return Pacer(gateway=name[-100:], rate=rate, batch_size=batch_size)


def alerts_outbox_process(*, now: datetime | None = None, limit: int = CHUNK, gateway: SmsGateway | None = None,
                          concurrency: int | None = None, pacer: Pacer | None = None) -> OutboxResult:
    """Claim up to ``limit`` due deliveries, send them, record each outcome; return how many were sent,
    will be retried, failed for good."""
    now = now or timezone.now()
    gateway = gateway or sms_gateway()
    default_concurrency, _ = _sending_settings()
    pacer = pacer or pacer_for(gateway)
    if pacer.rate > 0:  # a chunk's slots span at most CHUNK_SECONDS, far inside its lease
        limit = min(limit, max(pacer.per_request, int(pacer.rate * CHUNK_SECONDS)))
    rows = _claim(now=now, limit=limit)
    if not rows:
        return NOTHING
    _address(rows)
    texts = Alert.objects.in_bulk({r.alert_id for r in rows})
    batches = _batches(rows, per_request=pacer.per_request)
    sms = [i for i, b in enumerate(batches) if b[0] == Delivery.Channel.SMS]
    slots = [0.0] * len(batches)
    for i, slot in zip(sms, pacer.reserve(len(sms)), strict=True):
        slots[i] = slot
    workers = min(concurrency or default_concurrency, max(1, len(batches)))
    outcomes: dict[int, Outcome] = {r.id: GatewayError("no address on record") for r in rows if not r.to}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for batch, answers in zip(batches, pool.map(_sender(gateway, texts), batches, slots), strict=True):
            outcomes.update((r.id, a) for r, a in zip(batch[2], answers, strict=True))
    return _record(rows, outcomes, now=now)


def _record(rows: list[_Due], outcomes: dict[int, Outcome], *, now: datetime) -> OutboxResult:
    """Each outcome in one ``executemany``: sent, retried later, or failed for good."""
    adapt = connection.ops.adapt_datetimefield_value
    sent = retrying = failed = 0
    updates: list[tuple[str, Any, str, str, Any, int]] = []
    for row in rows:
        outcome = outcomes[row.id]
        if isinstance(outcome, GatewayError):
            if row.attempts >= MAX_ATTEMPTS:
                state, failed = Delivery.State.FAILED, failed + 1
                next_at = now
            else:
                state, retrying = Delivery.State.QUEUED, retrying + 1
                next_at = now + RETRY_AFTER[row.attempts - 1]
            updates.append((state, None, "", str(outcome)[:300], adapt(next_at), row.id))
        else:
            sent += 1
            updates.append((Delivery.State.SENT, adapt(now), outcome[:100], "", adapt(now), row.id))
    with transaction.atomic():  # one commit for the chunk, not one per row (autocommit would flush each)
        bulk.update_rows(Delivery, key="id", columns=["state", "sent_at", "gateway_id", "last_error",
                                                      "next_attempt_at"], rows=updates)
    return OutboxResult(sent=sent, retrying=retrying, failed=failed)


def alerts_outbox_drain(*, budget_seconds: float = 50.0, limit: int = CHUNK,
                        gateway: SmsGateway | None = None) -> OutboxResult:
    """Send chunk after chunk until nothing is due or ``budget_seconds`` have passed (so one run of the
    job, or one sending job, is not held to one chunk)."""
    started = time.monotonic()
    gateway = gateway or sms_gateway()
    pacer = pacer_for(gateway)
    total = NOTHING
    while True:
        result = alerts_outbox_process(limit=limit, gateway=gateway, pacer=pacer)
        total += result
        if result.total == 0 or time.monotonic() - started >= budget_seconds:
            return total


def send_job(budget_seconds: float = JOB_SECONDS) -> str:
    """A sending job on the queue (each published alert queues ``CIVICGRID_SMS_SENDERS`` of them, so every
    worker process drains at once); when its budget ran out with deliveries still due it queues its successor."""
    from civicgrid.ops.jobs import enqueue

    started = time.monotonic()
    result = alerts_outbox_drain(budget_seconds=budget_seconds)
    if result.total and time.monotonic() - started >= budget_seconds and _due_now():
        enqueue(SEND_JOB, budget_seconds, name="alerts-send")
    return f"sent {result.sent}, retrying {result.retrying}, failed {result.failed}"


SEND_JOB = "civicgrid.alerts.outbox.send_job"


def _due_now() -> bool:
    return Delivery.objects.filter(state=Delivery.State.QUEUED, next_attempt_at__lte=timezone.now()).exists()


def queue_senders() -> None:
    """Queue the sending jobs for a just-published alert (after its transaction commits)."""
    from civicgrid.ops.jobs import enqueue

    workers: Any = settings.Q_CLUSTER["workers"]
    senders = int(getattr(settings, "CIVICGRID_SMS_SENDERS", 0) or workers)
    for _ in range(max(1, senders)):
        enqueue(SEND_JOB, name="alerts-send")
