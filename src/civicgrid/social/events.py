"""The social app's audit events (see civicgrid.core.audit)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SocialEvent(models.TextChoices):
    ORGANISATION_REGISTERED = "social.organisation_registered", _("social organisation registered")
    VERIFICATION_CHANGED = "social.verification_changed", _("verification state changed")
    STAGE_CHANGED = "social.stage_changed", _("incubation stage changed")
    ASSESSMENT_RECORDED = "social.assessment_recorded", _("capacity assessment recorded")
    TRAINING_RECORDED = "social.training_recorded", _("training recorded")
    FUNDING_RECORDED = "social.funding_recorded", _("funding recorded")
    COMPLAINT_FILED = "social.complaint_filed", _("complaint about an organisation filed")
    COMPLAINT_RESOLVED = "social.complaint_resolved", _("complaint about an organisation resolved")
    ADMISSION_APPLIED = "social.admission_applied", _("organisation applied to serve in an emergency")
    ADMISSION_DECIDED = "social.admission_decided", _("organisation admitted or refused in an emergency")
    DEMO_LOADED = "social.demo_loaded", _("demo organisations loaded")
