"""The job that runs a what-if (queued by :func:`civicgrid.simulation.services.run_request`)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from civicgrid.core import audit
from civicgrid.core.locking import locked
from civicgrid.engine.simulation import simulate
from civicgrid.simulation.data import population_for_community
from civicgrid.simulation.events import SimulationEvent
from civicgrid.simulation.models import SimulationRun
from civicgrid.simulation.results import compact
from civicgrid.simulation.scenarios import scenario_by_name

log = logging.getLogger("civicgrid.simulation")


def run_simulation(run_id: int) -> str:
    """Simulate run ``run_id`` and store its results. Safe to run twice: a finished run is left as it is,
    and the same inputs and seed give the same numbers."""
    run = SimulationRun.objects.select_related("community").get(pk=run_id)
    if run.status == SimulationRun.Status.DONE:
        return f"run {run_id} already done"
    SimulationRun.objects.filter(pk=run_id).update(status=SimulationRun.Status.RUNNING, progress=0)

    def progress(done: int, total: int) -> None:
        SimulationRun.objects.filter(pk=run_id).update(progress=min(99, round(100 * done / total)))

    try:
        population = population_for_community(community=run.community, seed=run.seed,
                                              as_of=run.as_of)
        result = simulate(population, scenario_by_name(run.scenario), policies=tuple(run.policies),
                          runs=run.runs, seed=run.seed, days=run.days, progress=progress)
        stored = compact(result)
    except Exception as exc:
        log.exception("what-if run %s failed", run_id)
        with transaction.atomic():
            failed = locked(SimulationRun.objects.filter(pk=run_id)).get()
            audit.update_fields(user=None, event=SimulationEvent.RUN_FAILED, instance=failed,
                                changes={"status": SimulationRun.Status.FAILED, "error": str(exc)[:500],
                                         "finished_at": timezone.now()})
        raise
    with transaction.atomic():
        done = locked(SimulationRun.objects.filter(pk=run_id)).get()
        audit.update_fields(user=None, event=SimulationEvent.RUN_FINISHED, instance=done,
                            changes={"status": SimulationRun.Status.DONE, "progress": 100, "result": stored,
                                     "households": population.n, "finished_at": timezone.now()})
    return f"run {run_id}: {population.n} households, {run.runs} runs, {run.days} days"
