"""The outbox: queued SMS and e-mail deliveries are sent here, by ``civicgrid manage alerts_send`` (or
any scheduler calling :func:`alerts_outbox_process`), never inside a page request, so a slow gateway
slows nobody's screen. A failed delivery is retried after 1, 5 and 25 minutes, then marked failed.

On PostgreSQL two senders can run side by side: each claims its batch with ``SKIP LOCKED``.

Speed (issue 15: a district-wide alert must reach the gateways within minutes, not hours): a batch's
messages go out over several connections at once (``CIVICGRID_SMS_CONCURRENCY``, default 16; sending is
waiting on the network, so threads are enough), never faster than the gateway's own limit
(``CIVICGRID_SMS_RATE``, messages per second, 0 for none), and the periodic job drains batch after
batch for most of its minute (:func:`alerts_outbox_drain`) instead of sending one batch a minute.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from civicgrid.alerts.channels import GatewayError, SmsGateway, send_email, sms_gateway
from civicgrid.alerts.models import Alert, Delivery

RETRY_AFTER = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=25))
MAX_ATTEMPTS = len(RETRY_AFTER) + 1
SMS_LIMIT = 300  # characters: long SMS are split by gateways, keep it to a few parts


@dataclass(frozen=True)
class OutboxResult:
    sent: int
    retrying: int
    failed: int


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


def _address(delivery: Delivery) -> str:
    if delivery.channel == Delivery.Channel.EMAIL:
        return delivery.user.email if delivery.user else ""
    if delivery.household is not None:
        return delivery.household.contact_phone
    return delivery.person.phone if delivery.person else ""


def _send(delivery: Delivery, gateway: SmsGateway) -> str:
    to = getattr(delivery, "_address", None)
    to = _address(delivery) if to is None else to
    if not to:
        raise GatewayError("no address on record")
    if delivery.channel == Delivery.Channel.SMS:
        return gateway.send(to=to, text=sms_text(delivery.alert))
    subject, body = email_text(delivery.alert)
    return send_email(to=to, subject=subject, body=body)


class RateLimit:
    """At most ``per_second`` sends per second across the threads of one sender (0: no limit)."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.next_at = time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            at = max(now, self.next_at)
            self.next_at = at + self.interval
        if at > now:
            time.sleep(at - now)


def _sending_settings() -> tuple[int, float]:
    concurrency = int(getattr(settings, "CIVICGRID_SMS_CONCURRENCY", 16))
    rate = float(getattr(settings, "CIVICGRID_SMS_RATE", 0))
    return max(1, concurrency), max(0.0, rate)


def alerts_outbox_process(*, now: datetime | None = None, limit: int = 500,
                          gateway: SmsGateway | None = None, concurrency: int | None = None,
                          rate: RateLimit | None = None) -> OutboxResult:
    """Send up to ``limit`` due deliveries; return how many were sent, will be retried, failed for good."""
    now = now or timezone.now()
    gateway = gateway or sms_gateway()
    default_concurrency, per_second = _sending_settings()
    rate = rate or RateLimit(per_second)
    sent = retrying = failed = 0

    def attempt(delivery: Delivery) -> str | GatewayError:
        rate.wait()
        try:
            return _send(delivery, gateway)
        except GatewayError as exc:
            return exc

    with transaction.atomic():
        due = Delivery.objects.filter(state=Delivery.State.QUEUED, next_attempt_at__lte=now).order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        batch = list(due.select_related("alert", "household", "person", "user")[:limit])
        for delivery in batch:  # addresses are decrypted here, in this thread, before the threads send
            delivery._address = _address(delivery)  # type: ignore[attr-defined]
        workers = min(concurrency or default_concurrency, max(1, len(batch)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            outcomes = list(pool.map(attempt, batch))
        for delivery, outcome in zip(batch, outcomes, strict=True):
            delivery.attempts += 1
            if isinstance(outcome, GatewayError):
                delivery.last_error = str(outcome)[:300]
                if delivery.attempts >= MAX_ATTEMPTS:
                    delivery.state = Delivery.State.FAILED
                    failed += 1
                else:
                    delivery.next_attempt_at = now + RETRY_AFTER[delivery.attempts - 1]
                    retrying += 1
            else:
                delivery.gateway_id = outcome[:100]
                delivery.state, delivery.sent_at, delivery.last_error = Delivery.State.SENT, now, ""
                sent += 1
        Delivery.objects.bulk_update(batch, ["attempts", "gateway_id", "last_error", "state", "next_attempt_at",
                                             "sent_at"], batch_size=500)
    return OutboxResult(sent=sent, retrying=retrying, failed=failed)


def alerts_outbox_drain(*, budget_seconds: float = 50.0, limit: int = 500,
                        gateway: SmsGateway | None = None) -> OutboxResult:
    """Send batch after batch until nothing is due or ``budget_seconds`` have passed (the periodic job
    runs every minute: a district-wide alert is not held to one batch a minute)."""
    started = time.monotonic()
    gateway = gateway or sms_gateway()
    rate = RateLimit(_sending_settings()[1])  # one limit over every batch of this run
    sent = retrying = failed = 0
    while True:
        result = alerts_outbox_process(limit=limit, gateway=gateway, rate=rate)
        sent, retrying, failed = sent + result.sent, retrying + result.retrying, failed + result.failed
        if result.sent + result.retrying + result.failed < limit or time.monotonic() - started >= budget_seconds:
            return OutboxResult(sent=sent, retrying=retrying, failed=failed)
