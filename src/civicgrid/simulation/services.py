"""Writes of the simulation app: request a what-if run (queued as a job) and rerun one with its inputs and
seed. Each writes its audit event in its transaction; the job is queued when that transaction commits."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core import audit
from civicgrid.core.errors import Invalid
from civicgrid.core.scoping import Scope, get_in_scope, require
from civicgrid.engine.allocation import POLICIES
from civicgrid.ops.jobs import enqueue
from civicgrid.registry.models import Place
from civicgrid.simulation.events import SimulationEvent
from civicgrid.simulation.models import MAX_DAYS, MAX_RUNS, SimulationRun
from civicgrid.simulation.scenarios import scenarios

JOB = "civicgrid.simulation.jobs.run_simulation"
MAX_SEED = 2**53  # exact in JSON and in every database


def _whole(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid({field: _("Enter a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}})
    return value


def _queue(run: SimulationRun, *, user: Any) -> SimulationRun:
    audit.record(user=user, event=SimulationEvent.RUN_REQUESTED, instance=run, new=audit.snapshot(run))
    enqueue(JOB, run.pk, name=f"simulation {run.pk}")
    return run


@transaction.atomic
def run_request(*, user: Any, scope: Scope, community_id: int, scenario: str, policies: list[str], runs: int,
                days: int | None = None, seed: int | None = None) -> SimulationRun:
    """Queue a what-if run of ``scenario`` on a community in scope, comparing ``policies``."""
    require(scope, "simulation")
    community = get_in_scope(Place.objects.filter(level="community"), scope, pk=community_id)
    known = scenarios()
    if scenario not in known:
        raise Invalid({"scenario": _("Choose one of the scenarios listed.")})
    chosen = list(dict.fromkeys(policies))
    if not chosen or any(p not in POLICIES for p in chosen) or len(chosen) > len(POLICIES):
        raise Invalid({"policies": _("Choose one or more of the policies listed.")})
    runs = _whole(runs, "runs", 1, MAX_RUNS)
    days = _whole(days if days is not None else known[scenario].days, "days", 1, MAX_DAYS)
    seed = _whole(seed, "seed", 0, MAX_SEED) if seed is not None else secrets.randbelow(MAX_SEED)
    run = SimulationRun.objects.create(community=community, place_path=community.path, scenario=scenario,
                                       policies=chosen, runs=runs, days=days, seed=seed,
                                       as_of=timezone.localdate(), requested_by=audit.acting_user(user))
    return _queue(run, user=user)


@transaction.atomic
def run_rerun(*, user: Any, scope: Scope, run_id: int) -> SimulationRun:
    """Queue a new run with the inputs and seed of run ``run_id`` (the same numbers, recomputed)."""
    require(scope, "simulation")
    original = get_in_scope(SimulationRun.objects.all(), scope, pk=run_id)
    run = SimulationRun.objects.create(community_id=original.community_id, place_path=original.place_path,
                                       scenario=original.scenario, policies=list(original.policies),
                                       runs=original.runs, days=original.days, seed=original.seed,
                                       as_of=original.as_of,
                                       requested_by=audit.acting_user(user), rerun_of=original)
    return _queue(run, user=user)
