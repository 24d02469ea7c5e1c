"""A :class:`~civicgrid.core.models.SavedRun` moved through its states by its background job: begun, its
progress reported, then finished or failed, the last two audited with the app's own event. One place for what
every long computation asked from a page does (a what-if run, a before/after comparison)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from civicgrid.core import audit
from civicgrid.core.locking import locked
from civicgrid.core.models import SavedRun


def run_begin(model: type[SavedRun], run_id: int) -> bool:
    """Mark the run running from 0 %; False when it is done already (a job run twice leaves it as it is)."""
    if model._default_manager.filter(pk=run_id, status=SavedRun.Status.DONE).exists():
        return False
    model._default_manager.filter(pk=run_id).update(status=SavedRun.Status.RUNNING, progress=0)
    return True


def run_progress(model: type[SavedRun], run_id: int) -> Callable[[int, int], None]:
    """The callback a computation reports ``(done, total)`` to: the page's progress bar (99 % at most until
    the result is stored)."""

    def progress(done: int, total: int) -> None:
        model._default_manager.filter(pk=run_id).update(progress=min(99, round(100 * done / max(total, 1))))

    return progress


def run_finish(model: type[SavedRun], run_id: int, *, event: str, changes: dict[str, Any]) -> None:
    """Store the result (``changes``: ``result`` and the app's own fields), at 100 %, audited as ``event``."""
    with transaction.atomic():
        run = locked(model._default_manager.filter(pk=run_id)).get()
        audit.update_fields(user=None, event=event, instance=run, changes={
            "status": SavedRun.Status.DONE, "progress": 100, "finished_at": timezone.now(), **changes})


def run_fail(model: type[SavedRun], run_id: int, *, event: str, error: str) -> None:
    """Record why the run failed (the page shows it in words), audited as ``event``."""
    with transaction.atomic():
        run = locked(model._default_manager.filter(pk=run_id)).get()
        audit.update_fields(user=None, event=event, instance=run, changes={
            "status": SavedRun.Status.FAILED, "error": error[:500], "finished_at": timezone.now()})
