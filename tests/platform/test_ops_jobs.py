"""The job queue's glue (civicgrid.ops.jobs): one schedule per periodic command, kept in step and
audited; `civicgrid tick` (cron) runs every periodic job once and logs each run."""

from __future__ import annotations

import logging

import pytest

from civicgrid.core.models import AuditLog
from civicgrid.core.plugins import periodic_commands

pytestmark = pytest.mark.django_db


def test_schedules_follow_the_plugins_periodic_jobs_and_are_audited_once() -> None:
    from django_q.models import Schedule

    from civicgrid.ops.jobs import PERIODIC, sync_schedules

    Schedule.objects.create(name="periodic:gone_command", func=PERIODIC, args="'gone_command'")
    changes = sync_schedules()
    assert "removed periodic:gone_command" in changes
    names = set(Schedule.objects.values_list("name", flat=True))
    assert names == {f"periodic:{c}" for c in periodic_commands()}
    assert all(s.minutes == 1 and s.repeats == -1 for s in Schedule.objects.all())
    assert AuditLog.objects.filter(event="ops.schedules_synced").count() == 1
    assert sync_schedules() == []  # nothing to change: no second audit row
    assert AuditLog.objects.filter(event="ops.schedules_synced").count() == 1


def test_tick_runs_each_periodic_job_once_and_logs_it(caplog: pytest.LogCaptureFixture) -> None:
    from civicgrid.cli import run_periodic_jobs

    with caplog.at_level(logging.INFO, logger="civicgrid.jobs"):
        lines, failed = run_periodic_jobs()
    assert failed == 0, lines
    assert [line.split(":")[0] for line in lines] == periodic_commands()
    done = [r for r in caplog.records if r.name == "civicgrid.jobs" and "done" in r.getMessage()]
    assert {getattr(r, "job", None) for r in done} == set(periodic_commands())


def test_old_failed_job_records_are_pruned_and_recent_ones_kept(settings: pytest.FixtureRequest) -> None:
    """Issue 11 (left last time): the queue keeps every failed run, so its table only grew. Failures older than
    CIVICGRID_JOB_FAILURES_KEEP_DAYS are deleted by the periodic job; younger ones and successes stay."""
    from datetime import timedelta

    from django.utils import timezone
    from django_q.models import Task

    from civicgrid.ops.jobs import job_records_prune

    settings.CIVICGRID_JOB_FAILURES_KEEP_DAYS = 30  # type: ignore[attr-defined]
    now = timezone.now()

    def run(name: str, *, days: int, success: bool) -> None:
        at = now - timedelta(days=days)
        Task.objects.create(id=name.ljust(32, "0")[:32], name=name, func="x.y", started=at, stopped=at,
                            success=success, attempt_count=1)

    run("old-failure", days=31, success=False)
    run("recent-failure", days=29, success=False)
    run("old-success", days=200, success=True)
    mine = ["old-failure", "recent-failure", "old-success"]
    others = Task.objects.exclude(name__in=mine).filter(success=False, stopped__lt=now - timedelta(days=30)).count()
    assert job_records_prune(now=now) == 1 + others
    assert sorted(Task.objects.filter(name__in=mine).values_list("name", flat=True)) == ["old-success",
                                                                                          "recent-failure"]
    assert "job_records_prune" in periodic_commands()


def test_the_jobs_page_names_every_job_in_words_never_its_code() -> None:
    """Every periodic job and every queued function is named in words on the Jobs page (in Chinese for a
    Chinese reader); the dotted path of a function is never shown (the page showed it before)."""
    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone
    from django_q.models import Task

    from civicgrid.core.plugins import job_labels
    from civicgrid.ops.jobs import PERIODIC
    from tests.platform.factories import user

    labels = job_labels()
    assert set(periodic_commands()) <= set(labels)  # start-up refuses a periodic job without words
    now = timezone.now()
    for i, (func, args) in enumerate([(PERIODIC, ("cases_escalate",)),
                                      ("civicgrid.simulation.jobs.run_simulation", (3,)),
                                      ("civicgrid.evaluation.jobs.run_comparison", (4,))]):
        Task.objects.create(id=f"{i:032d}", name=f"job {i}", func=func, args=args, started=now - timedelta(minutes=1),
                            stopped=now, success=True, attempt_count=1)
    client = Client()
    client.force_login(user("district"))
    page = client.get("/jobs/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "上报超时案件" in page and "情景推演运行" in page and "前后对比分析" in page
    assert "civicgrid.simulation" not in page and "cases_escalate" not in page and "run_comparison" not in page
