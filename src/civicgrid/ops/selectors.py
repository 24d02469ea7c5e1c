"""Reads of the Jobs page: recent runs (django-q2's result table), what is queued, the schedules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from civicgrid.core.scoping import Scope, require


@dataclass(frozen=True)
class QueueSummary:
    queued: int
    failed_recently: int
    schedules: list[Any]


def job_runs(*, scope: Scope, status: str = "") -> QuerySet[Any]:
    """Finished runs, newest first; ``status`` "failed" or "done" narrows them."""
    from django_q.models import Task

    require(scope, "jobs")
    runs = Task.objects.order_by("-stopped")
    if status == "failed":
        runs = runs.filter(success=False)
    elif status == "done":
        runs = runs.filter(success=True)
    return runs.only("id", "name", "func", "args", "started", "stopped", "success", "attempt_count", "result")


def queue_summary(*, scope: Scope) -> QueueSummary:
    from datetime import timedelta

    from django.utils import timezone
    from django_q.models import OrmQ, Schedule, Task

    require(scope, "jobs")
    return QueueSummary(
        queued=OrmQ.objects.count(),
        failed_recently=Task.objects.filter(success=False, stopped__gte=timezone.now() - timedelta(days=1)).count(),
        schedules=list(Schedule.objects.order_by("name").only("name", "func", "args", "next_run", "minutes",
                                                               "schedule_type")),
    )


def error_line(result: Any) -> str:
    """The last line of a failed job's error (the exception), at most 300 characters."""
    text = str(result or "").strip()
    last = text.splitlines()[-1] if text else ""
    return last[:300]


def job_label(func: str, args: Any = None) -> str:
    """What a job is called on the Jobs page: the words its app declares (``AppPlugin.job_labels``) for the
    queued function, or for the command a periodic run executes; never the function's dotted path."""
    from django.utils.translation import gettext

    from civicgrid.core.plugins import job_labels
    from civicgrid.ops.jobs import PERIODIC, SCHEDULE_PREFIX

    labels = job_labels()
    key = str(func or "")
    if key == PERIODIC:
        first = args[0] if isinstance(args, list | tuple) and args else args
        key = str(first or "")
    key = key.removeprefix(SCHEDULE_PREFIX)
    return str(labels[key]) if key in labels else gettext("Other job")
