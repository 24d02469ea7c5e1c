"""The simulation app's audit events (see civicgrid.core.audit)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SimulationEvent(models.TextChoices):
    RUN_REQUESTED = "simulation.run_requested", _("what-if run requested")
    RUN_FINISHED = "simulation.run_finished", _("what-if run finished")
    RUN_FAILED = "simulation.run_failed", _("what-if run failed")
