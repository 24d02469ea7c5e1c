"""The alerts app's audit events (see civicgrid.core.audit)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AlertEvent(models.TextChoices):
    PUBLISHED = "alerts.published", _("alert published")
    ACKNOWLEDGED = "alerts.acknowledged", _("alert acknowledged")
    CLARIFIED = "alerts.clarified", _("rumour clarified")
