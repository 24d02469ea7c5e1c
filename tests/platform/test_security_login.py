"""Issue 11, finding 9: log-in lockout per user name and per address (kept in the database, so it holds
across worker processes), every log-in audited, a password policy, and a password-change page for
every role, in Chinese and English."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db.models import Max
from django.test import Client
from django.utils import timezone

from civicgrid.accounts.models import LoginAttempt
from civicgrid.accounts.services import DEMO_PASSWORD, role_assign
from civicgrid.core.models import AuditLog
from civicgrid.core.scoping import PLATFORM

pytestmark = pytest.mark.django_db

LOCKED_EN = "Too many failed log-ins"
LOCKED_ZH = "登录失败次数过多"


def _login(username: str, password: str, *, ip: str = "203.0.113.7", lang: str = "en"):  # type: ignore[no-untyped-def]
    client = Client(REMOTE_ADDR=ip, headers={"accept-language": lang})
    return client, client.post("/login/", {"username": username, "password": password})


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_the_right_password_is_refused_after_five_wrong_ones() -> None:
    director = get_user_model().objects.get(username="director")
    start = LoginAttempt.objects.aggregate(m=Max("id"))["m"] or 0  # browser tests' log-ins are committed
    for _ in range(5):
        client, response = _login("director", "wrong-password")
        assert response.status_code == 200 and not _logged_in(client)
    client, response = _login("director", DEMO_PASSWORD)  # a new client: a fresh session, same database
    assert response.status_code == 429 and LOCKED_EN in response.content.decode()
    assert not _logged_in(client)
    client, response = _login("Director", DEMO_PASSWORD, ip="198.51.100.1", lang="zh-hans")  # any case, any address
    assert response.status_code == 429 and LOCKED_ZH in response.content.decode()
    assert not _logged_in(client)
    # another account is not locked by it
    client, response = _login("district", DEMO_PASSWORD)
    assert response.status_code == 302 and _logged_in(client)

    attempts = LoginAttempt.objects.filter(username="director", id__gt=start)
    assert attempts.filter(succeeded=False, refused=False).count() == 5
    assert attempts.filter(refused=True).count() == 2
    # every attempt is in the audit log, scoped to the director's community
    rows = AuditLog.objects.filter(model="accounts.LoginAttempt", object_id__in=[str(a.pk) for a in attempts])
    assert rows.count() == 7 and all(r.user is None for r in rows)
    assert {r.place_path for r in rows} == {director.role.place.path}
    assert sum(1 for r in rows if r.new["succeeded"] is False and r.new["refused"] is False) == 5

    # when the window has passed since the last failure, the right password works again (and is audited)
    attempts.update(at=timezone.now() - timedelta(minutes=16))
    client, response = _login("director", DEMO_PASSWORD)
    assert response.status_code == 302 and _logged_in(client)
    ok = LoginAttempt.objects.get(username="director", succeeded=True, id__gt=start)
    assert AuditLog.objects.get(model="accounts.LoginAttempt", object_id=str(ok.pk)).user == director


def test_attempts_recorded_by_another_worker_count() -> None:
    now = timezone.now()
    LoginAttempt.objects.bulk_create([LoginAttempt(username="grid", ip="192.0.2.50", at=now - timedelta(seconds=i))
                                      for i in range(5)])
    client, response = _login("grid", DEMO_PASSWORD)
    assert response.status_code == 429 and not _logged_in(client)


def test_a_success_resets_the_count_for_the_user_name() -> None:
    for _ in range(4):
        _login("volunteer", "wrong-password")
    assert _login("volunteer", DEMO_PASSWORD)[1].status_code == 302
    for _ in range(4):
        _login("volunteer", "wrong-password")
    assert _login("volunteer", DEMO_PASSWORD)[1].status_code == 302


def test_one_address_trying_many_names_is_locked(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CIVICGRID_LOGIN_MAX_FAILURES_PER_IP = 4
    for name in ("nobody1", "nobody2", "nobody3", "orgstaff"):
        assert _login(name, "wrong-password", ip="192.0.2.99")[1].status_code == 200
    client, response = _login("resident", DEMO_PASSWORD, ip="192.0.2.99")
    assert response.status_code == 429 and not _logged_in(client)
    client, response = _login("resident", DEMO_PASSWORD, ip="192.0.2.100")
    assert response.status_code == 302 and _logged_in(client)


def test_password_policy() -> None:
    with pytest.raises(ValidationError):
        role_assign(user=None, scope=PLATFORM, username="weakling", password="1", role="volunteer")
    with pytest.raises(ValidationError):
        role_assign(user=None, scope=PLATFORM, username="weakling", password="12345678901234", role="volunteer")
    assert not get_user_model().objects.filter(username="weakling").exists()
    for name in ("district", "director", "grid", "orgstaff", "volunteer", "resident"):
        password_validation.validate_password(DEMO_PASSWORD, get_user_model().objects.get(username=name))


@pytest.mark.parametrize("username", ["district", "director", "grid", "orgstaff", "volunteer", "resident"])
def test_every_role_has_the_password_change_page(username: str) -> None:
    for lang, title in (("en", "Change password"), ("zh-hans", "修改密码")):
        client = Client(headers={"accept-language": lang})
        client.force_login(get_user_model().objects.get(username=username))
        home = client.get("/")
        assert 'href="/account/password/"' in home.content.decode()
        page = client.get("/account/password/")
        assert page.status_code == 200 and title in page.content.decode()
    assert Client().get("/account/password/").status_code == 302  # logged out: to the log-in page


def test_changing_the_password() -> None:
    user = get_user_model().objects.get(username="orgstaff")
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    page = client.post("/account/password/", {"old_password": DEMO_PASSWORD, "new_password1": "1",
                                               "new_password2": "1"})
    assert page.status_code == 200 and "too short" in page.content.decode()
    page = client.post("/account/password/", {"old_password": "wrong", "new_password1": "a-long-new-pass-2026",
                                               "new_password2": "a-long-new-pass-2026"})
    assert page.status_code == 200 and "incorrectly" in page.content.decode()
    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)
    response = client.post("/account/password/", {"old_password": DEMO_PASSWORD,
                                                   "new_password1": "a-long-new-pass-2026",
                                                   "new_password2": "a-long-new-pass-2026"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-long-new-pass-2026")
    assert client.get("/").status_code == 200  # still logged in
    row = AuditLog.objects.filter(model="auth.User", object_id=str(user.pk)).latest("id")
    assert row.user == user and row.new == {"password": "changed"}


def test_old_attempts_are_pruned_by_the_periodic_job_but_stay_audited() -> None:
    from django.core.management import call_command

    from civicgrid.accounts.lockout import attempt_record
    from civicgrid.core.plugins import periodic_commands

    assert "login_attempts_prune" in periodic_commands()
    old = attempt_record(username="nobody-old", ip="192.0.2.1", succeeded=False)
    recent = attempt_record(username="nobody-new", ip="192.0.2.1", succeeded=False)
    LoginAttempt.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=31))
    call_command("login_attempts_prune", stdout=__import__("io").StringIO())
    assert not LoginAttempt.objects.filter(pk=old.pk).exists()
    assert LoginAttempt.objects.filter(pk=recent.pk).exists()
    assert AuditLog.objects.filter(model="accounts.LoginAttempt", object_id=str(old.pk)).exists()
