"""The cases app's audit events (see civicgrid.core.audit): one per step of the loop."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseAuditEvent(models.TextChoices):
    REPORTED = "cases.report", _("case reported")
    REGISTERED = "cases.register", _("case registered")
    DISMISSED = "cases.dismiss", _("case dismissed")
    DISPATCHED = "cases.dispatch", _("case dispatched")
    TRANSFERRED = "cases.transfer", _("case transferred")
    HANDLED = "cases.handle", _("case marked handled")
    REOPENED = "cases.reopen", _("case sent back")
    VERIFIED = "cases.verify", _("case verified")
    CLOSED = "cases.close", _("case closed")
    RATED = "cases.rate", _("case rated")
    ESCALATED = "cases.escalate", _("case escalated")
