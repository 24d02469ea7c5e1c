"""A "what if" run: its inputs (community, scenario, policies, runs, days, seed) and, once the job has
run, its results. The inputs and the seed reproduce the numbers (``run_rerun``)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civicgrid.core.models import SavedRun
from civicgrid.registry.models import Place

MAX_RUNS = 30  # replications of one run from the page: a background job on a shared server
MAX_DAYS = 90


class SimulationRun(SavedRun):
    """(State, progress, result, who asked and what it reruns: :class:`~civicgrid.core.models.SavedRun`.)"""

    community = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="simulation_runs",
                                  verbose_name=_("community"))
    scenario = models.CharField(_("scenario"), max_length=64)
    policies = models.JSONField(_("policies"), default=list)
    runs = models.PositiveSmallIntegerField(_("runs"))
    days = models.PositiveSmallIntegerField(_("days"))
    seed = models.BigIntegerField(_("seed"))
    # residents' ages are taken on this date, so a rerun on a later day reads the registry the same way
    as_of = models.DateField(_("ages on"))
    households = models.PositiveIntegerField(_("households"), default=0)

    class Meta(SavedRun.Meta):
        constraints = [
            models.CheckConstraint(condition=Q(runs__gte=1, runs__lte=MAX_RUNS), name="simulation_runs_bounds"),
            models.CheckConstraint(condition=Q(days__gte=1, days__lte=MAX_DAYS), name="simulation_days_bounds"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="simulation_progress_bounds"),
            models.CheckConstraint(condition=Q(seed__gte=0), name="simulation_seed_non_negative"),
            models.CheckConstraint(condition=Q(status__in=["queued", "running", "done", "failed"]),
                                   name="simulation_status_known"),
        ]

    def __str__(self) -> str:
        return f"{self.community_id}"
