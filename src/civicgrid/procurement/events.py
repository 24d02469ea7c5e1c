"""The procurement app's audit events (see civicgrid.core.audit)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProcurementEvent(models.TextChoices):
    APPROPRIATION_CREATED = "procurement.appropriation_created", _("appropriation created")
    CALL_PUBLISHED = "procurement.call_published", _("call for proposals published")
    REVIEWER_NAMED = "procurement.reviewer_named", _("reviewer named")
    APPLICATION_SUBMITTED = "procurement.application_submitted", _("application submitted")
    APPLICATION_SCORED = "procurement.application_scored", _("application scored")
    CALL_AWARDED = "procurement.call_awarded", _("call awarded and contract signed")
    MILESTONE_DECIDED = "procurement.milestone_decided", _("milestone accepted or rejected")
    PAYMENT_MADE = "procurement.payment_made", _("payment made")
    DEMO_LOADED = "procurement.demo_loaded", _("procurement demo data loaded")
