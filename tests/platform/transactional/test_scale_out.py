"""Issue 15, beyond one machine: two app servers that share nothing but the database (and the job queue,
a table in it) still give a contested delivery task to exactly one of many volunteers claiming it at once,
half of them through each server. On PostgreSQL, as it would run behind a load balancer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection

from civicgrid.relief.models import DeliveryTask
from tests.platform.transactional.test_relief_concurrency import _world

pytestmark = pytest.mark.django_db(transaction=True)
SRC = Path(__file__).resolve().parents[3] / "src"
CSRF = "c" * 32  # our own CSRF secret, the same in the cookie and the header
CLAIMERS = 24


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _database_url() -> str:
    """The test database, as the servers' CIVICGRID_DATABASE_URL."""
    s = connection.settings_dict
    return (f"postgresql://{quote(s['USER'])}:{quote(s['PASSWORD'] or '')}@/{s['NAME']}"
            f"?host={quote(s['HOST'] or '')}&port={s['PORT'] or 5432}")


@pytest.fixture()
def two_servers(tmp_path: Path) -> Iterator[list[str]]:
    if connection.vendor != "postgresql":
        pytest.skip("scale-out is PostgreSQL's (the embedded SQLite serves one machine); runs in the PostgreSQL run")
    processes, bases = [], []
    # the keys this test process runs with (the data was written with them; sessions are signed with them)
    env = {**os.environ, "CIVICGRID_DATABASE_URL": _database_url(), "CIVICGRID_DATABASE_CONN_MAX_AGE": "60",
           "CIVICGRID_SECRET_KEY": settings.SECRET_KEY, "CIVICGRID_FIELD_KEY": settings.CIVICGRID_FIELD_KEY,
           "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    try:
        for n in range(2):
            port = _free_port()
            log = (tmp_path / f"server{n}.log").open("wb")
            processes.append((subprocess.Popen([sys.executable, "-m", "civicgrid.cli", "serve", "--port", str(port),
                                                "--workers", "2"], stdout=subprocess.DEVNULL, stderr=log, env=env),
                              tmp_path / f"server{n}.log"))
            bases.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 120
        for (process, log_path), base in zip(processes, bases, strict=True):
            while True:
                if process.poll() is not None:
                    pytest.fail(f"a server exited:\n{log_path.read_text()[-3000:]}")
                try:
                    with urllib.request.urlopen(base + "/healthz", timeout=5) as r:  # noqa: S310 (loopback)
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail("a server did not answer within 120 s:\n" + log_path.read_text()[-3000:])
                time.sleep(0.3)
        yield bases
    finally:
        for process, _ in processes:
            process.terminate()
        for process, _ in processes:
            process.wait(timeout=60)


def _session(user: object) -> str:
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)  # type: ignore[attr-defined]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()  # type: ignore[attr-defined]
    store["_auth_user_backend"] = settings.AUTHENTICATION_BACKENDS[0]
    store.create()
    assert store.session_key is not None
    return store.session_key


def _claim(base: str, task_id: int, session: str) -> int:
    request = urllib.request.Request(
        f"{base}/api/relief/tasks/{task_id}/claim", data=b"", method="POST",
        headers={"Cookie": f"sessionid={session}; csrftoken={CSRF}", "X-CSRFToken": CSRF, "Referer": base + "/",
                 "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_a_claim_race_across_two_servers_has_one_winner(two_servers: list[str]) -> None:
    tasks, users, _, _ = _world(buildings=1, volunteers=CLAIMERS)
    task = tasks[0]
    sessions = [_session(u) for u in users]
    statuses: list[int] = [0] * CLAIMERS
    barrier = threading.Barrier(CLAIMERS)

    def claim(i: int) -> None:
        barrier.wait(timeout=60)
        statuses[i] = _claim(two_servers[i % 2], task.pk, sessions[i])

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(CLAIMERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert Counter(statuses) == Counter({200: 1, 409: CLAIMERS - 1}), Counter(statuses)
    task.refresh_from_db()
    winner = users[statuses.index(200)]
    assert (task.status, task.claimed_by_id) == (DeliveryTask.Status.CLAIMED, winner.pk)
    assert get_user_model().objects.filter(pk=winner.pk).exists()
