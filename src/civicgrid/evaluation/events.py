"""The evaluation app's audit events."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EvaluationEvent(models.TextChoices):
    DEMO_BACKFILLED = "evaluation.demo_backfilled", _("Historical demo case records added")
    COMPARISON_REQUESTED = "evaluation.comparison_requested", _("before/after comparison requested")
    COMPARISON_FINISHED = "evaluation.comparison_finished", _("before/after comparison finished")
    COMPARISON_FAILED = "evaluation.comparison_failed", _("before/after comparison failed")
