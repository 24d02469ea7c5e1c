"""The outbox: queued SMS and e-mail deliveries are sent here, by ``civicgrid manage alerts_send`` (or
any scheduler calling :func:`alerts_outbox_process`), never inside a page request, so a slow gateway
slows nobody's screen. A failed delivery is retried after 1, 5 and 25 minutes, then marked failed.

On PostgreSQL two senders can run side by side: each claims its batch with ``SKIP LOCKED``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

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
    to = _address(delivery)
    if not to:
        raise GatewayError("no address on record")
    if delivery.channel == Delivery.Channel.SMS:
        return gateway.send(to=to, text=sms_text(delivery.alert))
    subject, body = email_text(delivery.alert)
    return send_email(to=to, subject=subject, body=body)


def alerts_outbox_process(*, now: datetime | None = None, limit: int = 500,
                          gateway: SmsGateway | None = None) -> OutboxResult:
    """Send up to ``limit`` due deliveries; return how many were sent, will be retried, failed for good."""
    now = now or timezone.now()
    gateway = gateway or sms_gateway()
    sent = retrying = failed = 0
    with transaction.atomic():
        due = Delivery.objects.filter(state=Delivery.State.QUEUED, next_attempt_at__lte=now).order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        batch = list(due.select_related("alert", "household", "person", "user")[:limit])
        for delivery in batch:
            delivery.attempts += 1
            try:
                delivery.gateway_id = _send(delivery, gateway)[:100]
            except GatewayError as exc:
                delivery.last_error = str(exc)[:300]
                if delivery.attempts >= MAX_ATTEMPTS:
                    delivery.state = Delivery.State.FAILED
                    failed += 1
                else:
                    delivery.next_attempt_at = now + RETRY_AFTER[delivery.attempts - 1]
                    retrying += 1
            else:
                delivery.state, delivery.sent_at, delivery.last_error = Delivery.State.SENT, now, ""
                sent += 1
        Delivery.objects.bulk_update(batch, ["attempts", "gateway_id", "last_error", "state", "next_attempt_at",
                                             "sent_at"], batch_size=500)
    return OutboxResult(sent=sent, retrying=retrying, failed=failed)
