"""The accounts app's audit events (see civicgrid.core.audit)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountEvent(models.TextChoices):
    ROLE_GRANTED = "accounts.role_granted", _("role granted")
    ROLE_CHANGED = "accounts.role_changed", _("role changed")
    LOGIN_SUCCEEDED = "accounts.login_succeeded", _("logged in")
    LOGIN_FAILED = "accounts.login_failed", _("log-in failed (wrong password)")
    LOGIN_REFUSED = "accounts.login_refused", _("log-in refused (locked after too many failures)")
    PASSWORD_CHANGED = "accounts.password_changed", _("password changed")
