"""Issue 11, section 2: `civicgrid serve` runs the production server (gunicorn, several workers,
WhiteNoise), every request has an id that comes back in X-Request-ID and is on its JSON log lines, the
500 page shows it, and /healthz and /readyz answer JSON without a login.

The server runs for real, as a subprocess on a free loopback port against a temporary SQLite database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import RequestFactory

from civicgrid.core.logs import log_context

SRC = Path(__file__).resolve().parents[2] / "src"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 - a loopback URL
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    var = tmp_path_factory.mktemp("serve") / "var"
    log = var.parent / "server.log"
    port = _free_port()
    env = {**os.environ, "CIVICGRID_VAR_DIR": str(var), "CIVICGRID_DATABASE_URL": "",
           "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    with log.open("wb") as err:
        process = subprocess.Popen([sys.executable, "-m", "civicgrid.cli", "serve", "--port", str(port),
                                    "--workers", "2"], stdout=subprocess.DEVNULL, stderr=err, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited ({process.returncode}):\n{log.read_text()[-4000:]}")
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the server did not answer within 120 s:\n" + log.read_text()[-4000:])
            time.sleep(0.3)
        yield base, log, process
    finally:
        process.terminate()
        process.wait(timeout=60)


def _log_lines(log: Path) -> list[dict[str, object]]:
    lines = []
    for line in log.read_text(encoding="utf-8").splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_the_production_server_serves_pages_with_request_ids_and_json_logs(server) -> None:  # type: ignore[no-untyped-def]
    base, log, process = server
    status, headers, body = _get(base + "/login/", {"X-Request-ID": "quote-me-4711"})
    assert status == 200 and b"<form" in body
    assert headers["Server"].startswith("gunicorn")
    assert headers["X-Request-ID"] == "quote-me-4711"
    # a request without an id gets a fresh one; an unsafe one is replaced, never echoed
    assert len(_get(base + "/login/")[1]["X-Request-ID"]) == 32
    unsafe = _get(base + "/login/", {"X-Request-ID": "<script>alert(1)</script>"})[1]["X-Request-ID"]
    assert "<" not in unsafe and len(unsafe) == 32

    deadline = time.monotonic() + 10
    while not any(line.get("request_id") == "quote-me-4711" for line in _log_lines(log)):
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)
    mine = [line for line in _log_lines(log) if line.get("request_id") == "quote-me-4711"]
    assert any(line["logger"] == "civicgrid.request" and line["status"] == 200 and line["path"] == "/login/"
               for line in mine)
    # several worker processes: the master and at least two booted workers (the second may still be forking:
    # the master loads the whole app before its first fork, civicgrid.config.warm)
    deadline = time.monotonic() + 30
    while sum("Booting worker" in str(line.get("message")) for line in _log_lines(log)) < 2:
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)
    assert process.poll() is None


def test_a_long_link_reaches_the_app_not_the_servers_own_english_refusal(server) -> None:  # type: ignore[no-untyped-def]
    base, _log, _process = server
    status, _headers, body = _get(base + "/login/?next=/" + "a" * 6000, {"Accept-Language": "zh-hans"})
    assert status == 200 and b"<form" in body and "登录".encode() in body, body[:300]


def test_static_files_are_served_by_whitenoise_compressed(server) -> None:  # type: ignore[no-untyped-def]
    base, _log, _process = server
    status, headers, body = _get(base + "/static/civicgrid/civicgrid.css", {"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers.get("Content-Encoding") == "gzip"
    assert "max-age" in headers.get("Cache-Control", "")


def test_health_and_readiness_answer_json_without_login(server) -> None:  # type: ignore[no-untyped-def]
    base, _log, _process = server
    status, headers, body = _get(base + "/healthz")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"status": "ok"}
    status, headers, body = _get(base + "/readyz")
    assert status == 200, body
    assert json.loads(body) == {"status": "ready",
                                "checks": {"database": "ok", "migrations": "ok", "field_key": "ok"}}
    assert "no-store" in headers["Cache-Control"]


@pytest.mark.django_db
def test_readiness_in_process_and_the_500_page_shows_the_request_id(client) -> None:  # type: ignore[no-untyped-def]
    from civicgrid.core.views import server_error

    answer = client.get("/readyz")
    assert answer.status_code == 200 and answer.json()["status"] == "ready"
    assert answer["X-Request-ID"]
    assert client.get("/healthz", HTTP_X_REQUEST_ID="abc-1").headers["X-Request-ID"] == "abc-1"

    request = RequestFactory().get("/somewhere/")
    with log_context(request_id="rid-0042"):
        response = server_error(request)
    assert response.status_code == 500
    assert b"rid-0042" in response.content


def test_the_json_formatter_carries_the_context_and_extras() -> None:
    import logging

    from civicgrid.core.logs import ContextFilter, JsonFormatter

    record = logging.LogRecord("civicgrid.x", logging.ERROR, __file__, 1, "failed %s", ("once",), None)
    record.count = 3
    with log_context(request_id="r-1", job="alerts_send"):
        ContextFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "failed once" and line["request_id"] == "r-1" and line["job"] == "alerts_send"
    assert line["count"] == 3 and line["level"] == "ERROR"
