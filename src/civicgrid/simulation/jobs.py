"""The job that runs a what-if (queued by :func:`civicgrid.simulation.services.run_request`)."""

from __future__ import annotations

import logging

from civicgrid.core.runs import run_begin, run_fail, run_finish, run_progress
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
    if not run_begin(SimulationRun, run_id):
        return f"run {run_id} already done"
    try:
        population = population_for_community(community=run.community, seed=run.seed,
                                              as_of=run.as_of)
        result = simulate(population, scenario_by_name(run.scenario), policies=tuple(run.policies),
                          runs=run.runs, seed=run.seed, days=run.days, progress=run_progress(SimulationRun, run_id))
        stored = compact(result)
    except Exception as exc:
        log.exception("what-if run %s failed", run_id)
        run_fail(SimulationRun, run_id, event=SimulationEvent.RUN_FAILED, error=str(exc))
        raise
    run_finish(SimulationRun, run_id, event=SimulationEvent.RUN_FINISHED,
               changes={"result": stored, "households": population.n})
    return f"run {run_id}: {population.n} households, {run.runs} runs, {run.days} days"
