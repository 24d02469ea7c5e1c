"""The job that runs a before/after comparison (queued by
:func:`civicgrid.evaluation.services.comparison_request`)."""

from __future__ import annotations

import logging

from civicgrid.core.runs import run_begin, run_fail, run_finish, run_progress
from civicgrid.evaluation.compare import compare, stored
from civicgrid.evaluation.events import EvaluationEvent
from civicgrid.evaluation.models import Comparison
from civicgrid.registry.models import Place

log = logging.getLogger("civicgrid.evaluation")
TOO_FEW_DAYS = "too_few_days"  # the error kept when the records are too short: the page words it


def run_comparison(comparison_id: int) -> str:
    """Compare, and store the result. Safe to run twice: a finished comparison is left as it is, and the
    same inputs read the same window of records. Too few records is a result (the comparison failed, no
    retry); any other error is recorded and raised again, so the queue retries it."""
    job = Comparison.objects.select_related("community").get(pk=comparison_id)
    if not run_begin(Comparison, comparison_id):
        return f"comparison {comparison_id} already done"
    others = list(Place.objects.filter(level="community", pk__in=job.comparison_ids).order_by("code"))
    try:
        outcome = compare(community=job.community, event=job.event_day, source=job.source, comparisons=others,
                          event_en=job.event_en, event_zh=job.event_zh, today=job.until,
                          progress=run_progress(Comparison, comparison_id))
    except ValueError as exc:
        log.info("comparison %s: too few records (%s)", comparison_id, exc)
        run_fail(Comparison, comparison_id, event=EvaluationEvent.COMPARISON_FAILED, error=f"{TOO_FEW_DAYS}: {exc}")
        return f"comparison {comparison_id}: too few records"
    except Exception as exc:
        log.exception("comparison %s failed", comparison_id)
        run_fail(Comparison, comparison_id, event=EvaluationEvent.COMPARISON_FAILED, error=str(exc))
        raise
    run_finish(Comparison, comparison_id, event=EvaluationEvent.COMPARISON_FINISHED,
               changes={"result": {**stored(outcome), "seconds": round(outcome.seconds, 2)}})
    return f"comparison {comparison_id}: {outcome.seconds:.2f} s"
