"""The social app's audit events (see civicgrid.core.audit)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SocialEvent(models.TextChoices):
    ORGANISATION_REGISTERED = "social.organisation_registered", _("social organisation registered")
    VERIFICATION_CHANGED = "social.verification_changed", _("verification state changed")
    STAGE_CHANGED = "social.stage_changed", _("incubation stage changed")
