"""Alerts at district scale (issue 15): batches to a gateway (a real HTTP server on 127.0.0.1 taking
``{"messages": [...]}``), every delivery sent exactly once to the number the registry holds, a batch that
fails in part retried only for the numbers that failed, the gateway's rate limit kept, e-mails a batch per
mail connection, and the alert's page showing its progress from one grouped count.

The two-senders race (two senders at once on one outbox: nobody sent twice, the limit kept together) is in
``transactional/test_alerts_senders.py``."""

from __future__ import annotations

import math
import smtplib
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as settings_hypothesis
from hypothesis import strategies as st

from civicgrid.accounts.models import Role
from civicgrid.accounts.roles import scope_for
from civicgrid.alerts.channels import GatewayError, SmsMessage, send_many
from civicgrid.alerts.models import Alert
from civicgrid.alerts.outbox import (
    EMAIL_BATCH,
    MAX_ATTEMPTS,
    alerts_outbox_drain,
    alerts_outbox_process,
)
from civicgrid.alerts.pacing import Pacer
from civicgrid.alerts.services import alert_publish
from civicgrid.registry.models import Household, Place
from tests.platform.factories import user
from tests.platform.fake_gateway import FakeGateway, serve_gateway  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def _configure(settings: Any, *, batch_size: int, rate: float = 0, concurrency: int = 4) -> None:
    settings.CIVICGRID_SMS_GATEWAY = {**settings.CIVICGRID_SMS_GATEWAY, "batch_size": batch_size, "rate": rate}
    settings.CIVICGRID_SMS_CONCURRENCY = concurrency


def _community() -> Place:
    return Place.objects.get(level="community", code__endswith="C01")


def _publish(area: Place, channels: tuple[str, ...] = ("sms",)) -> Alert:
    official = user("district")
    return alert_publish(user=official, scope=scope_for(official), area=area, headline_zh="全社区紧急通知",
                         instruction_zh="请前往避难点。", channels=list(channels))


def _phones(area: Place) -> Counter[str]:
    """The registry's own answer: the phones of the households in the area (read through the model)."""
    return Counter(h.contact_phone for h in Household.objects.filter(place_path__startswith=area.path)
                   if h.contact_phone)


def test_every_delivery_goes_out_once_in_batches_to_the_registry_number(settings, gateway) -> None:  # type: ignore[no-untyped-def]
    _configure(settings, batch_size=25)
    area = _community()
    alert = _publish(area)
    queued = alert.deliveries.count()
    assert queued == alert.n_households_targeted - Household.objects.filter(
        place_path__startswith=area.path, contact_phone_digest="").count() > 100
    result = alerts_outbox_drain(gateway=gateway, limit=60, budget_seconds=600)
    assert result.sent == queued and result.retrying == result.failed == 0
    assert FakeGateway.numbers() == _phones(area)  # each household's number, once
    sizes = [len(batch) for _, batch in FakeGateway.requests]
    assert max(sizes) == 25 and sum(sizes) == queued
    assert len(sizes) <= math.ceil(queued / 60) * math.ceil(60 / 25)  # batched per chunk, never one by one
    texts = {m["text"] for _, batch in FakeGateway.requests for m in batch}
    assert texts == {f"【{alert.sender_name}】全社区紧急通知 请前往避难点。"}
    states = Counter(alert.deliveries.values_list("state", "attempts"))
    assert states == {("sent", 1): queued}
    ids = list(alert.deliveries.values_list("gateway_id", flat=True))
    assert len(set(ids)) == queued and all(i.startswith("g") for i in ids)  # the gateway's own ids
    assert alerts_outbox_drain(gateway=gateway, budget_seconds=600).total == 0  # nothing left, nothing twice
    assert sum(len(b) for _, b in FakeGateway.requests) == queued


def test_a_partly_failed_batch_is_retried_only_for_the_failed_numbers(settings, gateway) -> None:  # type: ignore[no-untyped-def]
    _configure(settings, batch_size=20)
    area = _community()
    alert = _publish(area)
    phones = sorted(_phones(area))
    FakeGateway.refuse = set(phones[::3])  # a third of the numbers, spread over every batch
    refused = {p for p in phones[::3]}
    now = timezone.now()
    first = alerts_outbox_process(gateway=gateway, now=now, limit=10_000)
    expected_refused = sum(n for p, n in _phones(area).items() if p in refused)
    # a refused number shared by two households is refused once (the fake forgets it after the first)
    assert first.retrying <= expected_refused and first.sent + first.retrying == alert.deliveries.count()
    retrying = alert.deliveries.filter(state="queued")
    assert retrying.count() == first.retrying > 0
    assert all(d.attempts == 1 and d.last_error == "gateway refused: number suspended"
               and d.next_attempt_at == now + timedelta(minutes=1) for d in retrying)
    failed_numbers = Counter(h.contact_phone for h in Household.objects.filter(
        pk__in=retrying.values("household_id")))
    FakeGateway.requests = []
    assert alerts_outbox_process(gateway=gateway, now=now + timedelta(seconds=30)).total == 0  # not yet due
    second = alerts_outbox_process(gateway=gateway, now=now + timedelta(minutes=2))
    assert second.sent == first.retrying and second.retrying == 0
    assert FakeGateway.numbers() == failed_numbers  # only the numbers that failed were sent again
    assert not alert.deliveries.exclude(state="sent").exists()


def test_a_batch_the_gateway_did_not_take_is_retried_whole(settings, gateway) -> None:  # type: ignore[no-untyped-def]
    _configure(settings, batch_size=50)
    alert = _publish(_community())
    n = alert.deliveries.count()
    FakeGateway.status = 500
    now = timezone.now()
    assert alerts_outbox_process(gateway=gateway, now=now).retrying == n
    assert set(alert.deliveries.values_list("last_error", flat=True)) == {"gateway answered HTTP 500"}
    FakeGateway.status, FakeGateway.garble = 200, True  # a reply without one result per message
    assert alerts_outbox_process(gateway=gateway, now=now + timedelta(minutes=2)).retrying == n
    assert set(alert.deliveries.values_list("attempts", flat=True)) == {2}
    FakeGateway.garble = False
    later = now + timedelta(minutes=10)
    assert alerts_outbox_process(gateway=gateway, now=later).sent == n
    assert MAX_ATTEMPTS > 3


def test_a_gateway_without_batches_gets_one_message_a_request() -> None:
    class OneByOne:
        def send(self, *, to: str, text: str) -> str:
            if to == "2":
                raise GatewayError("no such number")
            return f"id-{to}"

    outcomes = send_many(OneByOne(), [SmsMessage(to=t, text="x") for t in ("1", "2", "3")])
    assert outcomes[0] == "id-1" and outcomes[2] == "id-3"
    assert isinstance(outcomes[1], GatewayError) and str(outcomes[1]) == "no such number"


def test_the_gateways_rate_limit_holds_in_every_second(settings, gateway) -> None:  # type: ignore[no-untyped-def]
    rate = 40
    _configure(settings, batch_size=10, rate=rate, concurrency=8)
    alert = _publish(_community())
    alert.deliveries.filter(pk__in=list(alert.deliveries.order_by("id").values_list("id", flat=True)[130:])).delete()
    result = alerts_outbox_drain(gateway=gateway, budget_seconds=600)
    assert result.sent == 130
    arrivals = sorted(t for t, batch in FakeGateway.requests for _ in batch)
    worst = max(sum(1 for t in arrivals[i:] if t < start + 1.0) for i, start in enumerate(arrivals))
    assert worst <= rate  # measured where the gateway counts: on arrival, in any one-second window
    assert arrivals[-1] - arrivals[0] >= (130 - rate) / rate  # and not by luck: 130 messages took their time


class CountingBackend(EmailBackend):
    """Django's in-memory backend, counting connections and refusing one address."""

    opened = 0

    def open(self) -> bool:
        CountingBackend.opened += 1
        return True

    def send_messages(self, messages: Any) -> int:
        if any("bounce" in to for m in messages for to in m.to):
            raise smtplib.SMTPRecipientsRefused({"bounce@example.org": (550, b"no such user")})
        return super().send_messages(messages)


def test_emails_go_out_a_batch_per_connection_and_a_refused_address_fails_alone(settings) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = f"{__name__}.CountingBackend"
    CountingBackend.opened = 0
    area = _community()
    households = list(Household.objects.filter(place_path__startswith=area.path).order_by("id")[:EMAIL_BATCH + 30])
    users = get_user_model().objects.bulk_create([
        get_user_model()(username=f"fan-{h.pk}", email="bounce@example.org" if i == 7 else f"h{h.pk}@example.org")
        for i, h in enumerate(households)])
    Role.objects.bulk_create([Role(user=u, role="resident", household=h) for u, h in zip(users, households, strict=True)])
    alert = _publish(area, channels=("email",))
    emails = alert.deliveries.filter(channel="email")
    n = emails.count()
    assert n >= len(households)
    result = alerts_outbox_drain(budget_seconds=600)
    assert (result.sent, result.retrying) == (n - 1, 1)
    assert CountingBackend.opened == math.ceil(n / EMAIL_BATCH)  # one connection per batch, not per message
    assert len(mail.outbox) == n - 1 and all(m.subject == "全社区紧急通知" for m in mail.outbox)
    bounced = emails.get(state="queued")
    assert bounced.user.email == "bounce@example.org" and "mail backend failed" in bounced.last_error


def test_the_alerts_page_shows_its_progress_from_one_count(settings) -> None:  # type: ignore[no-untyped-def]
    area = _community()
    small = _publish(area.children.order_by("code").first())  # one grid
    big = _publish(area)
    client = Client()
    client.force_login(user("district"))
    pages = {}
    for alert in (small, big):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/alerts/{alert.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 200
        pages[alert.pk] = (response.content.decode(), len(queries))
    assert pages[small.pk][1] == pages[big.pk][1]  # the count is one grouped query, whatever the size
    text = pages[big.pk][0]
    n = big.deliveries.count()
    assert 'http-equiv="refresh"' in text  # refreshes while anything is queued
    assert f'id="progress-sms-queued">{n}<' in text and "待发送" in text and "短信" in text
    big.deliveries.filter(pk__in=list(big.deliveries.values_list("id", flat=True)[:10])).update(state="sent")
    big.deliveries.filter(state="queued").update(state="failed")
    text = client.get(f"/alerts/{big.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'http-equiv="refresh"' not in text  # done: no more refreshing
    assert 'id="progress-sms-sent">10<' in text and f'id="progress-sms-failed">{n - 10}<' in text


def test_publishing_queues_a_sending_job_for_each_worker_once_committed(settings, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from django_q.models import OrmQ

    from civicgrid.alerts.outbox import SEND_JOB

    settings.CIVICGRID_SMS_SENDERS = 3
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _publish(_community())
    assert not OrmQ.objects.exists()  # nothing queued before the alert's transaction commits
    for callback in callbacks:
        callback()
    assert [q.func() for q in OrmQ.objects.all()] == [SEND_JOB] * 3
    settings.CIVICGRID_SMS_SENDERS = 0  # by default: one per worker process of the job queue
    OrmQ.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        _publish(_community())
    assert OrmQ.objects.count() == settings.Q_CLUSTER["workers"]


@settings_hypothesis(max_examples=300, deadline=None)
@given(rate=st.floats(min_value=0.2, max_value=5000), batch_size=st.integers(min_value=1, max_value=500))
def test_a_schedule_of_slots_never_puts_more_than_the_limit_in_a_second(rate: float, batch_size: int) -> None:
    """The pacing rule, on the schedule itself: requests at ``interval`` apart, each carrying ``per_request``,
    never hold more than ``rate`` messages in any one-second window, and most of the limit is used."""
    pacer = Pacer(gateway="g", rate=rate, batch_size=batch_size)
    assert 1 <= pacer.per_request <= batch_size
    starts = [i * pacer.interval for i in range(int(3 / pacer.interval) + 2)]
    worst = max(sum(1 for t in starts[i:] if t < start + 1.0) for i, start in enumerate(starts)) * pacer.per_request
    assert worst <= max(rate, 1)  # under one message a second: one message per 1 / rate seconds
    if rate >= 1:  # and the limit is used: 80 % of its whole messages at least (the margin, whole batches)
        assert pacer.per_request / pacer.interval >= 0.8 * math.floor(rate)


def test_slots_taken_one_after_another_never_overlap() -> None:
    pacer = Pacer(gateway="test-gateway", rate=100, batch_size=10)
    first, second = pacer.reserve(5), pacer.reserve(3)
    assert second[0] >= first[-1] + pacer.interval - 1e-9
    assert all(b - a == pytest.approx(pacer.interval, abs=1e-5) for a, b in zip(first, first[1:], strict=False))
