"""The job that runs a before/after comparison (queued by
:func:`civicgrid.evaluation.services.comparison_request`)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from civicgrid.core import audit
from civicgrid.core.locking import locked
from civicgrid.evaluation.compare import compare, stored
from civicgrid.evaluation.events import EvaluationEvent
from civicgrid.evaluation.models import Comparison
from civicgrid.registry.models import Place

log = logging.getLogger("civicgrid.evaluation")
TOO_FEW_DAYS = "too_few_days"  # the error kept when the records are too short: the page words it


def _fail(comparison_id: int, error: str) -> None:
    with transaction.atomic():
        failed = locked(Comparison.objects.filter(pk=comparison_id)).get()
        audit.update_fields(user=None, event=EvaluationEvent.COMPARISON_FAILED, instance=failed,
                            changes={"status": Comparison.Status.FAILED, "error": error[:500],
                                     "finished_at": timezone.now()})


def run_comparison(comparison_id: int) -> str:
    """Compare, and store the result. Safe to run twice: a finished comparison is left as it is, and the
    same inputs read the same window of records. Too few records is a result (the comparison failed, no
    retry); any other error is recorded and raised again, so the queue retries it."""
    job = Comparison.objects.select_related("community").get(pk=comparison_id)
    if job.status == Comparison.Status.DONE:
        return f"comparison {comparison_id} already done"
    Comparison.objects.filter(pk=comparison_id).update(status=Comparison.Status.RUNNING, progress=0)

    def progress(done: int, total: int) -> None:
        Comparison.objects.filter(pk=comparison_id).update(progress=min(99, round(100 * done / total)))

    others = list(Place.objects.filter(level="community", pk__in=job.comparison_ids).order_by("code"))
    try:
        outcome = compare(community=job.community, event=job.event_day, source=job.source, comparisons=others,
                          event_en=job.event_en, event_zh=job.event_zh, today=job.until, progress=progress)
    except ValueError as exc:
        log.info("comparison %s: too few records (%s)", comparison_id, exc)
        _fail(comparison_id, f"{TOO_FEW_DAYS}: {exc}")
        return f"comparison {comparison_id}: too few records"
    except Exception as exc:
        log.exception("comparison %s failed", comparison_id)
        _fail(comparison_id, str(exc))
        raise
    with transaction.atomic():
        done = locked(Comparison.objects.filter(pk=comparison_id)).get()
        audit.update_fields(user=None, event=EvaluationEvent.COMPARISON_FINISHED, instance=done,
                            changes={"status": Comparison.Status.DONE, "progress": 100,
                                     "result": {**stored(outcome), "seconds": round(outcome.seconds, 2)},
                                     "finished_at": timezone.now()})
    return f"comparison {comparison_id}: {outcome.seconds:.2f} s"
