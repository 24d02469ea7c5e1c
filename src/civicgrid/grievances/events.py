"""The grievances app's audit events (see civicgrid.core.audit)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class GrievanceEvent(models.TextChoices):
    FILED = "grievances.filed", _("grievance filed")
    RESPONDED = "grievances.responded", _("grievance answered")
    PAUSED = "grievances.paused", _("grievance clock paused")
    RESUMED = "grievances.resumed", _("grievance clock resumed")
    CLOSED = "grievances.closed", _("grievance decided")
    RATED = "grievances.rated", _("grievance rated")
    ESCALATED = "grievances.escalated", _("grievance escalated")
    APPEALED = "grievances.appealed", _("grievance appealed")
    APPEAL_DECIDED = "grievances.appeal_decided", _("appeal decided")
    DEMO_LOADED = "grievances.demo_loaded", _("demo grievances loaded")
