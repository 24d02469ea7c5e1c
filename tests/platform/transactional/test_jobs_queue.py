"""Issue 11, section 2: the job queue for real. A service-style enqueue (inside a transaction, queued
on commit), `civicgrid worker` run as a subprocess against the same database (SQLite here, PostgreSQL
under scripts/with-postgres.sh), a job that succeeds, a job that fails, is retried and is then recorded
as failed, and the Jobs page showing both, with the error, in English and in Chinese.

The worker needs committed rows, so this is a transactional test (it empties the database afterwards
and builds its own users)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client

from civicgrid.accounts.models import Role
from civicgrid.ops.jobs import PERIODIC, enqueue

pytestmark = pytest.mark.django_db(transaction=True)

SRC = Path(__file__).resolve().parents[3] / "src"


def _database_url() -> str:
    """The URL of the database this test runs on, for the worker subprocess."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(str(db['NAME'])).resolve()}"
    return f"postgresql://{db['USER']}@/{db['NAME']}?host={db['HOST']}&port={db['PORT']}"


def _user(name: str, role: str) -> object:
    user = get_user_model().objects.create_user(name, password="a-long-test-password-1")
    Role.objects.create(user=user, role=role)
    return user


def test_the_worker_runs_queued_jobs_retries_a_failure_and_the_jobs_page_shows_it(tmp_path: Path) -> None:
    from django_q.models import OrmQ, Task

    with transaction.atomic():  # as a service would: queued only when its transaction commits
        enqueue(PERIODIC, "alerts_send", name="send-alerts-now")
        enqueue(PERIODIC, "no_such_command", name="doomed-job")
        assert OrmQ.objects.count() == 0
    assert OrmQ.objects.count() == 2

    from django.conf import settings

    env = {**os.environ, "CIVICGRID_DATABASE_URL": _database_url(),  # this database, with its keys
           "CIVICGRID_FIELD_KEY": settings.CIVICGRID_FIELD_KEY, "CIVICGRID_SECRET_KEY": settings.SECRET_KEY, "CIVICGRID_VAR_DIR": str(tmp_path / "var"),
           "CIVICGRID_JOB_TIMEOUT": "2", "CIVICGRID_JOB_RETRY": "3", "CIVICGRID_JOB_ATTEMPTS": "2",
           "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    log = tmp_path / "worker.log"
    with log.open("wb") as err:
        worker = subprocess.Popen([sys.executable, "-m", "civicgrid.cli", "worker", "--workers", "1"],
                                  stdout=subprocess.DEVNULL, stderr=err, env=env)
    try:
        deadline = time.monotonic() + 90
        while True:
            done = {t.name: t for t in Task.objects.filter(name__in=["send-alerts-now", "doomed-job"])}
            if "send-alerts-now" in done and "doomed-job" in done and done["doomed-job"].attempt_count >= 2 \
                    and not _queued("doomed-job"):
                break
            assert worker.poll() is None, log.read_text()[-4000:]
            assert time.monotonic() < deadline, log.read_text()[-4000:]
            time.sleep(0.5)
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()

    ok, failed = done["send-alerts-now"], done["doomed-job"]
    assert ok.success and ok.attempt_count == 1 and "sent 0" in str(ok.result)
    assert not failed.success and failed.attempt_count == 2  # ran, failed, retried, failed: recorded
    assert "Unknown command: 'no_such_command'" in str(failed.result)
    text = log.read_text()
    assert '"job": "doomed-job"' in text and "periodic job no_such_command failed" in text
    assert '"job": "send-alerts-now"' in text and "periodic job alerts_send done" in text
    # the worker scheduled every app's periodic job
    from django_q.models import Schedule

    assert {"periodic:alerts_send", "periodic:cases_escalate", "periodic:emergency_flag_missed",
            "periodic:relief_release_claims", "periodic:login_attempts_prune"} <= set(
        Schedule.objects.values_list("name", flat=True))

    client = Client()
    client.force_login(_user("jobs-district", "district_official"))
    page = client.get("/jobs/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    runs = html.split("<h2>")[0]  # the runs' table (the periodic schedules follow under their own heading)
    # each job named in words (the apps' job_labels): a periodic command its app names, anything else "Other job"
    assert "Jobs" in runs and "Send queued alerts" in runs and "Other job" in runs and "run_periodic" not in runs
    assert "Unknown command: &#x27;no_such_command&#x27;" in runs and "failed" in runs
    only_failed = client.get("/jobs/?status=failed", HTTP_ACCEPT_LANGUAGE="en").content.decode().split("<h2>")[0]
    assert "Other job" in only_failed and "Send queued alerts" not in only_failed
    chinese = client.get("/jobs/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "后台任务" in chinese and "失败" in chinese

    director = Client()
    director.force_login(_user("jobs-director", "community_director"))
    assert director.get("/jobs/").status_code == 200
    resident = Client()
    resident.force_login(_user("jobs-resident", "resident"))
    assert resident.get("/jobs/").status_code == 403


def _queued(name: str) -> bool:
    from django_q.models import OrmQ

    return any(q.name() == name for q in OrmQ.objects.all())
