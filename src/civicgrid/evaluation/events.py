"""The evaluation app's audit events."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EvaluationEvent(models.TextChoices):
    DEMO_BACKFILLED = "evaluation.demo_backfilled", _("Historical demo case records added")
