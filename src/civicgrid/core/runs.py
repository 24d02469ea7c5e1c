"""A :class:`~civicgrid.core.models.SavedRun` moved through its states by its background job: begun, its
progress reported, then finished or failed, the last two audited with the app's own event. One place for what
every long computation asked from a page does (a what-if run, a before/after comparison)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from civicgrid.core import audit
from civicgrid.core.locking import locked
from civicgrid.core.models import SavedRun


def run_begin(model: type[SavedRun], run_id: int, *, again_if_failed: bool = True) -> bool:
    """Mark the run running from 0 %, in one statement; False when it is done already (a job run twice leaves it
    as it is), or failed and ``again_if_failed`` is off: a failure shown to the user as final (they ask again,
    and the queue's retry of the old job must not start it behind their back)."""
    states = [SavedRun.Status.QUEUED, SavedRun.Status.RUNNING, *([SavedRun.Status.FAILED] if again_if_failed else [])]
    return bool(model._default_manager.filter(pk=run_id, status__in=states).update(
        status=SavedRun.Status.RUNNING, progress=0, error=""))


def run_progress(model: type[SavedRun], run_id: int) -> Callable[[int, int], None]:
    """The callback a computation reports ``(done, total)`` to: the page's progress bar (99 % at most until
    the result is stored). Only a running run moves: a second delivery of the job still computing never lowers
    the bar of a run another delivery finished."""

    def progress(done: int, total: int) -> None:
        model._default_manager.filter(pk=run_id, status=SavedRun.Status.RUNNING).update(
            progress=min(99, round(100 * done / max(total, 1))))

    return progress


def lost_after() -> timedelta:
    """How long after it was asked for a run can still be queued or running: the queue runs a job up to
    ``max_attempts`` times, each ``retry`` seconds after the previous one began and each for ``timeout`` seconds
    at most (config/settings/jobs.py). Later, the queue will not run it again: it was lost (its worker killed
    every time, or the job never queued because the process died after the commit)."""
    queue: dict[str, Any] = settings.Q_CLUSTER
    return timedelta(seconds=int(queue["retry"]) * int(queue["max_attempts"]) + int(queue["timeout"]))


def runs_lost_fail(model: type[SavedRun], *, event: str, error: str, runs: Q | None = None,
                   now: datetime | None = None) -> int:
    """Fail, audited as ``event`` with ``error``, every run (of ``runs``) still queued or running
    :func:`lost_after` after it was asked for; how many. Their pages then say why, and whatever a run under way
    holds (one confirmation per selection) is free again.

    Counted from the request, not from when a worker took the job: a job that waited long behind others can be
    failed while it still runs. Its app must then refuse to finish it (relief's confirmation rolls its round back
    unless the run is still running), so that what the page said (nothing was made) stays true."""
    cutoff = (now or timezone.now()) - lost_after()
    under_way = model._default_manager.filter(runs or Q(), created_at__lt=cutoff,
                                              status__in=[SavedRun.Status.QUEUED, SavedRun.Status.RUNNING])
    failed = 0
    with transaction.atomic():
        for run in locked(under_way.order_by("pk")):
            audit.update_fields(user=None, event=event, instance=run, changes={
                "status": SavedRun.Status.FAILED, "error": error[:500], "finished_at": timezone.now()})
            failed += 1
    return failed


def run_finish(model: type[SavedRun], run_id: int, *, event: str, changes: dict[str, Any]) -> None:
    """Store the result (``changes``: ``result`` and the app's own fields), at 100 %, audited as ``event``."""
    with transaction.atomic():
        run = locked(model._default_manager.filter(pk=run_id)).get()
        audit.update_fields(user=None, event=event, instance=run, changes={
            "status": SavedRun.Status.DONE, "progress": 100, "error": "", "finished_at": timezone.now(), **changes})


def run_fail(model: type[SavedRun], run_id: int, *, event: str, error: str) -> bool:
    """Record why the run failed (the page shows it in words), audited as ``event``; False, and nothing written,
    when it is done: decided under the row's lock, so a failure of one delivery of a job never overwrites what
    another delivery finished meanwhile."""
    with transaction.atomic():
        run = locked(model._default_manager.filter(pk=run_id)).get()
        if run.status == SavedRun.Status.DONE:
            return False
        audit.update_fields(user=None, event=event, instance=run, changes={
            "status": SavedRun.Status.FAILED, "error": error[:500], "finished_at": timezone.now()})
        return True
