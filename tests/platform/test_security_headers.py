"""Issue 11, findings 1 and 9: security headers on every page (a Content-Security-Policy without inline
script, Referrer-Policy, nosniff, framing refused), pages that need no inline script, 12-hour sessions,
and ``check --deploy`` clean under the production settings (CIVICGRID_PRODUCTION=1)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db

SRC = Path(__file__).resolve().parents[2] / "src"
PAGES = ["/", "/cases/", "/emergency/plans/", "/analytics/governance/", "/analytics/crei/", "/relief/needs/"]


def _directives(policy: str) -> dict[str, list[str]]:
    return {parts[0]: parts[1:] for parts in (d.split() for d in policy.split(";") if d.strip())}


@pytest.mark.parametrize("path", PAGES)
def test_pages_carry_the_security_headers_and_no_inline_script(path: str) -> None:
    client = Client(headers={"accept-language": "en"})
    client.force_login(get_user_model().objects.get(username="director"))
    response = client.get(path)
    assert response.status_code == 200, path
    csp = _directives(response["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["default-src"] == ["'self'"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    html = response.content.decode()
    # every script is a file from the app or a JSON data block; no event-handler attributes
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert " src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+\s*=", html)


def test_the_login_page_and_api_carry_them_too() -> None:
    for path in ("/login/", "/api/openapi.json"):
        response = Client().get(path)
        assert "script-src 'self'" in response["Content-Security-Policy"], path
        assert response["Referrer-Policy"] == "same-origin"


def test_sessions_last_at_most_twelve_hours_and_end_with_the_browser() -> None:
    assert settings.SESSION_COOKIE_AGE <= 12 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    client = Client()
    response = client.post("/login/", {"username": "director", "password": "civicgrid-demo"})
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["expires"] and not cookie["max-age"]  # a browser-session cookie
    assert cookie["httponly"]
    assert client.session.get_expiry_age() <= 12 * 3600


def _clean_env() -> dict[str, str]:
    """This process's environment without civicgrid's settings and the tests' async switch."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith("CIVICGRID_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}


def _check_deploy(extra: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = _clean_env()
    env.update({
        "PYTHONPATH": os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]),
        "DJANGO_SETTINGS_MODULE": "civicgrid.config.settings",
        "CIVICGRID_VAR_DIR": str(tmp_path),
        "CIVICGRID_SECRET_KEY": "x7!Qm2#vP9zL$k4Rw8@tN1&yB6^cF3*hJ5%dG0(sE)uA-oI+pK",
        "CIVICGRID_FIELD_KEY": "Jm9Wl8mB2v1k6bq1mU3hE0p6yQkz1x8yF3d5c2a7b4E=",
        "CIVICGRID_ALLOWED_HOSTS": "civicgrid.example.gov.cn",
        **extra,
    })
    return subprocess.run([sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
                          env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_under_the_production_settings(tmp_path: Path) -> None:
    result = _check_deploy({"CIVICGRID_PRODUCTION": "1",
                            "CIVICGRID_CSRF_TRUSTED_ORIGINS": "https://civicgrid.example.gov.cn"}, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNINGS" not in output


def test_production_settings_read_their_environment(tmp_path: Path) -> None:
    script = ("from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
              "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS >= 31536000, s.DEBUG, s.CSRF_TRUSTED_ORIGINS)")
    env = _clean_env()
    env.update({"PYTHONPATH": str(SRC), "DJANGO_SETTINGS_MODULE": "civicgrid.config.settings",
                "CIVICGRID_VAR_DIR": str(tmp_path), "CIVICGRID_PRODUCTION": "1", "CIVICGRID_DEBUG": "1",
                "CIVICGRID_CSRF_TRUSTED_ORIGINS": "https://a.example.cn, https://b.example.cn"})
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "True True True True False ['https://a.example.cn', 'https://b.example.cn']", \
        result.stderr
