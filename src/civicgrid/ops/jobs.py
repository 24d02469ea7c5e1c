"""Jobs: the platform's periodic and long work, run off the request by ``civicgrid worker``.

**Why django-q2 with its ORM broker.** The queue must work on the SQLite default (the demo, a small
office's single machine) and on PostgreSQL with no extra service to run and back up: django-q2 keeps
its queue, its schedules and its results in tables of the app's own database (so ``civicgrid backup``
holds them too), is maintained (Django 5.x, Python 3.11-3.13), and has what we need built in: retries
(a failed job stays queued and runs again after ``CIVICGRID_JOB_RETRY`` seconds, up to
``CIVICGRID_JOB_ATTEMPTS`` runs; a worker killed mid-job has its job redelivered the same way),
per-job timeouts, a scheduler for periodic jobs, several worker processes, and a result table (success,
error, attempts, start and stop times) that the Jobs page reads. The alternatives: Celery, RQ and Huey
need Redis or another broker (Huey's SQL storage needs peewee and does not share Django's
connection); the ``django-tasks`` database backend has neither schedules nor retries yet; a cron-only
``civicgrid tick`` has no retries and no record. ``civicgrid tick`` stays, for cron, without the queue.

**Periodic jobs** are the apps' ``periodic_jobs`` (:func:`civicgrid.core.plugins.periodic_commands`):
:func:`sync_schedules` (run by ``civicgrid worker`` at start) keeps one schedule per command, every
minute, each run being :func:`run_periodic`.

**Long jobs** (exports, simulations): a service calls :func:`enqueue` with the dotted path of a plain
function and JSON-like arguments; the job is queued when the service's transaction commits (so a
rolled-back service queues nothing) and runs in a worker, where every log line carries the job's name
and id (:mod:`civicgrid.core.logs`). A job must be safe to run twice: a retry runs it again whole.
"""

from __future__ import annotations

import logging
import time
from io import StringIO
from typing import Any

from django.db import transaction
from django.utils import timezone

from civicgrid.core.logs import set_context

log = logging.getLogger("civicgrid.jobs")

PERIODIC = "civicgrid.ops.jobs.run_periodic"
SCHEDULE_PREFIX = "periodic:"


def run_periodic(command: str) -> str:
    """Run one app's periodic management command. A failure is logged and raised again, so the queue
    records it and retries; the output is the job's result."""
    from django.core.management import call_command

    out = StringIO()
    started = time.perf_counter()
    try:
        call_command(command, stdout=out)
    except Exception:
        log.exception("periodic job %s failed", command,
                      extra={"command": command, "duration_ms": _ms_since(started)})
        raise
    result = out.getvalue().strip()
    log.info("periodic job %s done: %s", command, result or "nothing to do",
             extra={"command": command, "duration_ms": _ms_since(started), "output": result})
    return result


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def enqueue(func: str, *args: Any, name: str = "", **kwargs: Any) -> None:
    """Queue ``func(*args, **kwargs)`` (``func``: a dotted path) for the worker, once the current
    transaction commits (at once outside one). Arguments must be plain values (ids, strings, numbers)."""
    from django_q.tasks import async_task

    def push() -> None:
        job_id = async_task(func, *args, task_name=name or None, **kwargs)
        log.info("job queued: %s", name or func, extra={"queued_job": name or func, "queued_job_id": job_id})

    transaction.on_commit(push)


def on_job_start(sender: Any, func: Any, task: dict[str, Any], **kwargs: Any) -> None:
    """django-q2's ``pre_execute`` signal, in the worker process: the job's name and id on every log line."""
    name = str(task.get("name") or "")
    set_context(job=name, job_id=str(task.get("id") or ""))
    log.info("job started: %s", name, extra={"func": str(task.get("func", ""))})


def sync_schedules() -> list[str]:
    """One schedule per periodic command (every minute); schedules of commands no app declares any more
    are removed. Returns what changed (audited as one row when anything did)."""
    from django_q.models import Schedule

    from civicgrid.core import audit
    from civicgrid.core.locking import locked, serialised_block
    from civicgrid.core.plugins import periodic_commands
    from civicgrid.ops.events import OpsEvent

    wanted = {f"{SCHEDULE_PREFIX}{command}": command for command in periodic_commands()}
    changes: list[str] = []
    with serialised_block():  # two workers starting at once: one updates, the other then finds it done
        existing = {s.name: s for s in locked(Schedule.objects.filter(name__startswith=SCHEDULE_PREFIX))}
        for name, schedule in existing.items():
            if name not in wanted:
                schedule.delete()
                changes.append(f"removed {name}")
        for name, command in wanted.items():
            fields = {"func": PERIODIC, "args": repr(command), "schedule_type": Schedule.MINUTES, "minutes": 1,
                      "repeats": -1}
            schedule = existing.get(name)
            if schedule is None:
                Schedule.objects.create(name=name, next_run=timezone.now(), **fields)
                changes.append(f"added {name}")
            elif any(getattr(schedule, k) != v for k, v in fields.items()):
                for k, v in fields.items():
                    setattr(schedule, k, v)
                schedule.save()
                changes.append(f"updated {name}")
        if changes:
            audit.record_bulk(user=None, event=OpsEvent.SCHEDULES_SYNCED, model=Schedule,
                              ids=sorted(wanted), counts={"changes": len(changes)}, summary="; ".join(changes))
    for change in changes:
        log.info("schedule %s", change)
    return changes


def job_records_prune(*, now: Any = None) -> int:
    """Delete records of failed job runs older than ``CIVICGRID_JOB_FAILURES_KEEP_DAYS`` (default 90): the
    queue keeps every failure (its successful runs are capped by ``save_limit``), so without this the table
    only grows. A failure younger than that stays on the Jobs page. Returns how many were deleted."""
    from datetime import timedelta

    from django.conf import settings
    from django_q.models import Task

    now = now or timezone.now()
    keep = timedelta(days=max(1, int(getattr(settings, "CIVICGRID_JOB_FAILURES_KEEP_DAYS", 90))))
    deleted, _ = Task.objects.filter(success=False, stopped__lt=now - keep).delete()
    return deleted
