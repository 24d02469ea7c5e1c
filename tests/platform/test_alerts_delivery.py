"""Alert targeting (checked against the generated registry tables), the queued outbox with its SMS
gateways (file, and the HTTP webhook against a server on 127.0.0.1) and Django's mail backend,
retries, acknowledgements and the reach rate, clarifications, and who may publish where."""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.alerts import targeting
from civicgrid.alerts.channels import FileSmsGateway, GatewayError, WebhookSmsGateway
from civicgrid.alerts.models import Alert, Delivery
from civicgrid.alerts.outbox import MAX_ATTEMPTS, RETRY_AFTER, alerts_outbox_process, sms_text
from civicgrid.alerts.services import alert_acknowledge, alert_publish
from civicgrid.registry.models import Household, Person, Place
from tests.platform.factories import user

pytestmark = pytest.mark.django_db


def _grid() -> Place:
    return user("resident").role.household.grid


def test_targets_follow_the_registry(community) -> None:
    grid = _grid()
    hh = community.households
    in_grid = set(hh.loc[hh["building_code"].str.startswith(grid.code + "-"), "code"])
    assert set(targeting.target_households(area=grid, group="all").values_list("code", flat=True)) == in_grid
    vulnerable = {h.code for h in Household.objects.filter(code__in=in_grid) if h.vulnerability_score >= settings.CIVICGRID_VULNERABLE_SCORE}
    assert set(targeting.target_households(area=grid, group="vulnerable").values_list("code", flat=True)) == vulnerable
    assert 0 < len(vulnerable) < len(in_grid)
    posts = community.posts
    team = grid.parent.code + "-A07"  # the community's volunteer team serves each of its grids
    volunteers = set(posts.loc[(posts["role"] == "volunteer") & (posts["actor_code"] == team), "person_code"])
    assert set(targeting.target_people(area=grid, group="volunteers").values_list("code", flat=True)) == volunteers
    members = set(posts.loc[(posts["role"] == "grid_member") & (posts["place_code"] == grid.code), "person_code"])
    assert set(targeting.target_people(area=grid, group="grid_members").values_list("code", flat=True)) == members
    assert not targeting.target_people(area=grid, group="all").exists()


def test_publish_queues_and_the_outbox_sends(tmp_path) -> None:
    grid, resident = _grid(), user("resident")
    resident.email = "resident@example.org"
    resident.save()
    alert = alert_publish(user=user("grid"), scope=scope_for(user("grid")), area=grid, headline_zh="今晚检修电梯", instruction_zh="请走楼梯。")
    households = Household.objects.filter(place_path__startswith=grid.path)
    assert alert.n_households_targeted == households.count()
    sms = Delivery.objects.filter(alert=alert, channel="sms")
    assert set(sms.values_list("household_id", flat=True)) == {h.pk for h in households if h.contact_phone}
    assert list(Delivery.objects.filter(alert=alert, channel="email").values_list("user_id", flat=True)) == [
        resident.pk]
    outbox = tmp_path / "sms.jsonl"
    assert not outbox.exists()  # publishing sent nothing: the page never waits for a gateway
    result = alerts_outbox_process(gateway=FileSmsGateway(outbox))
    assert result.sent == sms.count() + 1 and result.failed == result.retrying == 0
    lines = FileSmsGateway(outbox).messages()
    assert sorted(m["to"] for m in lines) == sorted(h.contact_phone for h in households if h.contact_phone)
    assert all(m["text"] == sms_text(alert) and "今晚检修电梯" in m["text"] for m in lines)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["resident@example.org"]
    assert mail.outbox[0].subject == "今晚检修电梯"
    assert not Delivery.objects.filter(alert=alert, state="queued").exists()
    assert alerts_outbox_process(gateway=FileSmsGateway(outbox)).sent == 0  # nothing sent twice
    out = io.StringIO()
    call_command("alerts_send", stdout=out)
    assert out.getvalue().startswith("sent 0,")


class _Failing:
    calls = 0

    def send(self, *, to: str, text: str) -> str:
        _Failing.calls += 1
        raise GatewayError("gateway down")


def test_failed_deliveries_are_retried_then_given_up() -> None:
    area = Household.objects.exclude(contact_phone_digest="").first().building
    alert = alert_publish(user=user("director"), scope=scope_for(user("director")), area=area, headline_zh="测试", channels=["sms"])
    n = alert.deliveries.count()
    assert n > 0
    now = timezone.now()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        result = alerts_outbox_process(gateway=_Failing(), now=now)
        assert result.sent == 0
        if attempt < MAX_ATTEMPTS:
            assert result.retrying == n
            assert alerts_outbox_process(gateway=_Failing(), now=now).retrying == 0  # not yet due
            now += RETRY_AFTER[attempt - 1]
        else:
            assert result.failed == n
    assert set(alert.deliveries.values_list("state", "attempts", "last_error")) == {
        ("failed", MAX_ATTEMPTS, "gateway down")}


class _Gateway(BaseHTTPRequestHandler):
    received: list[dict[str, str]] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Gateway.received.append({**json.loads(body), "auth": self.headers.get("Authorization", "")})
        self.send_response(_Gateway.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"id": f"msg-{len(_Gateway.received)}"}).encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def local_gateway():
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Gateway.received, _Gateway.status = [], 200
    yield f"http://127.0.0.1:{server.server_port}/sms"
    server.shutdown()


def test_webhook_gateway_against_a_local_server(local_gateway) -> None:
    gateway = WebhookSmsGateway(local_gateway, token="s3cret", timeout=2)
    assert gateway.send(to="13800000000", text="你好") == "msg-1"
    assert _Gateway.received == [{"to": "13800000000", "text": "你好", "auth": "Bearer s3cret"}]
    _Gateway.status = 500
    with pytest.raises(GatewayError, match="HTTP 500"):
        gateway.send(to="13800000000", text="x")
    port = int(local_gateway.rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(GatewayError, match="unreachable"):
        WebhookSmsGateway(f"http://127.0.0.1:{port + 1 if port < 65535 else port - 1}/", timeout=1).send(to="1", text="x")
    with pytest.raises(ValueError):
        WebhookSmsGateway("ftp://example.org")
    _Gateway.status = 200
    person = Person.objects.exclude(phone_digest="").filter(posts__role="volunteer").first()
    area = person.posts.filter(role="volunteer").first().actor.service_area
    alert = alert_publish(user=user("district"), scope=scope_for(user("district")), area=area, group="volunteers", headline_zh="集合", channels=["sms"])
    result = alerts_outbox_process(gateway=gateway)
    assert result.sent == alert.n_people_targeted == alert.deliveries.count()
    assert alert.deliveries.filter(person=person).get().gateway_id.startswith("msg-")


def test_acknowledgements_and_reach_rate() -> None:
    resident = user("resident")
    grid = _grid()
    alert = alert_publish(user=user("director"), scope=scope_for(user("director")), area=grid, headline_zh="通知", channels=[])
    n = Household.objects.filter(place_path__startswith=grid.path).count()
    assert alert.n_targeted == n and alert.reach_rate == 0
    ack = alert_acknowledge(user=resident, scope=scope_for(resident), alert=alert)
    assert ack.household == resident.role.household
    assert alert_acknowledge(user=resident, scope=scope_for(resident), alert=alert).pk == ack.pk  # repeating changes nothing
    alert.refresh_from_db()
    assert (alert.n_acknowledged, alert.reach_rate) == (1, pytest.approx(1 / n))
    elsewhere = Place.objects.filter(level="grid").exclude(pk=grid.pk).first()
    other = alert_publish(user=user("district"), scope=scope_for(user("district")), area=elsewhere, headline_zh="别处", channels=[])
    with pytest.raises(PermissionDenied):
        alert_acknowledge(user=resident, scope=scope_for(resident), alert=other)
    volunteer = user("volunteer")
    team_area = volunteer.role.person.posts.get(role="volunteer").actor.service_area
    call = alert_publish(user=user("district"), scope=scope_for(user("district")), area=team_area, group="volunteers", headline_zh="集合", channels=[])
    assert alert_acknowledge(user=volunteer, scope=scope_for(volunteer), alert=call).person == volunteer.role.person
    client = Client(headers={"accept-language": "en"})
    client.force_login(resident)
    page = client.get("/notices/").content.decode()
    assert "通知" in page and "别处" not in page
    assert client.post(f"/alerts/{other.pk}/ack/").status_code == 404


def test_who_may_publish_where() -> None:
    grid = _grid()
    other_grid = Place.objects.filter(level="grid").exclude(pk=grid.pk).first()
    alert_publish(user=user("grid"), scope=scope_for(user("grid")), area=grid, headline_zh="本网格", channels=[])
    with pytest.raises(ObjectDoesNotExist):  # another grid is outside the scope: "not found"
        alert_publish(user=user("grid"), scope=scope_for(user("grid")), area=other_grid, headline_zh="越界", channels=[])
    with pytest.raises(PermissionDenied):
        alert_publish(user=user("resident"), scope=scope_for(user("resident")), area=grid, headline_zh="居民", channels=[])
    client = Client(headers={"accept-language": "en"})
    client.force_login(user("grid"))
    page = client.post("/alerts/new/", {"area": other_grid.pk, "group": "all", "status": "Actual",
                                        "category": "Safety", "urgency": "Expected", "severity": "Minor",
                                        "certainty": "Likely", "headline_zh": "x"})
    assert page.status_code == 200 and 'id="field-area"' in page.content.decode()
    page = client.post("/alerts/new/", {"area": grid.pk, "group": "all", "status": "Actual", "category": "Safety",
                                        "urgency": "Expected", "severity": "Minor", "certainty": "Likely",
                                        "headline_zh": "", "headline_en": "", "expires_in_hours": 24})
    assert page.status_code == 200 and "at least one language" in page.content.decode()
    response = client.post("/alerts/new/", {"area": grid.pk, "group": "vulnerable", "status": "Actual",
                                            "category": "Health", "urgency": "Expected", "severity": "Minor",
                                            "certainty": "Likely", "headline_zh": "高温关怀", "channels": ["sms"],
                                            "expires_in_hours": 24})
    assert response.status_code == 302
    alert = Alert.objects.get(headline_zh="高温关怀")
    assert alert.expires_at is not None and alert.channels == ["sms"]
    resident_client = Client(headers={"accept-language": "en"})
    resident_client.force_login(user("resident"))
    assert resident_client.get("/alerts/new/").status_code == 403
    assert resident_client.get("/alerts/").status_code == 302  # residents read alerts on their notices page


def test_clarification_shows_on_the_alert() -> None:
    director = user("director")
    alert = alert_publish(user=director, scope=scope_for(director), area=director.role.place, headline_zh="停水", channels=[])
    client = Client(headers={"accept-language": "en"})
    client.force_login(director)
    response = client.post(f"/alerts/{alert.pk}/clarify/", {"question_zh": "要停三天吗？", "answer_zh": "只停一天。"})
    assert response.status_code == 302
    page = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert "要停三天吗？" in page and "只停一天。" in page
    missing = client.post(f"/alerts/{alert.pk}/clarify/", {"question_zh": "?", "answer_zh": ""})
    assert missing.status_code == 400 and "authoritative answer" in missing.content.decode()


class _Clocked:
    """A gateway that notes when each message went out and how many were in flight at once."""

    def __init__(self, pause: float = 0.0) -> None:
        self.times: list[float] = []
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()
        self.pause = pause

    def send(self, *, to: str, text: str) -> str:
        import time

        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.times.append(time.monotonic())
        time.sleep(self.pause)
        with self.lock:
            self.in_flight -= 1
        return f"m{len(self.times)}"


def test_the_outbox_drains_every_batch_in_one_run_sending_in_parallel(settings) -> None:  # type: ignore[no-untyped-def]
    """Issue 15: one run of the job sends everything due (not one batch a minute), several at a time."""
    from civicgrid.alerts.outbox import alerts_outbox_drain

    settings.CIVICGRID_SMS_CONCURRENCY = 8
    settings.CIVICGRID_SMS_GATEWAY = {**settings.CIVICGRID_SMS_GATEWAY, "batch_size": 1, "rate": 0}
    district = user("district")
    area = Place.objects.get(level="community", code__endswith="C01")
    alert = alert_publish(user=district, scope=scope_for(district), area=area, headline_zh="全社区通知",
                          channels=["sms"])
    queued = alert.deliveries.count()
    assert queued > 40
    gateway = _Clocked(pause=0.005)
    result = alerts_outbox_drain(limit=20, gateway=gateway, budget_seconds=600)
    assert result.sent == queued == len(gateway.times)  # several batches of 20, all in one run
    assert not alert.deliveries.exclude(state="sent").exists()
    assert 1 < gateway.most_in_flight <= 8


def test_the_outbox_keeps_to_the_gateways_rate_limit(settings) -> None:  # type: ignore[no-untyped-def]
    from civicgrid.alerts.outbox import alerts_outbox_drain

    settings.CIVICGRID_SMS_CONCURRENCY = 16
    settings.CIVICGRID_SMS_GATEWAY = {**settings.CIVICGRID_SMS_GATEWAY, "batch_size": 1, "rate": 100}  # per second
    district = user("district")
    area = Place.objects.get(level="community", code__endswith="C01")
    alert_publish(user=district, scope=scope_for(district), area=area, headline_zh="限速", channels=["sms"])
    gateway = _Clocked()
    alerts_outbox_drain(limit=25, gateway=gateway, budget_seconds=600)
    times = sorted(gateway.times)
    assert len(times) > 100
    # never more than the limit in any one-second window
    worst = max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))
    assert worst <= 100
