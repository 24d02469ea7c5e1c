"""The accounts app's audit events (see civicgrid.core.audit)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountEvent(models.TextChoices):
    ROLE_GRANTED = "accounts.role_granted", _("role granted")
    ROLE_CHANGED = "accounts.role_changed", _("role changed")
