"""The ops app's audit events (see civicgrid.core.audit)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OpsEvent(models.TextChoices):
    SCHEDULES_SYNCED = "ops.schedules_synced", _("periodic job schedules updated")
