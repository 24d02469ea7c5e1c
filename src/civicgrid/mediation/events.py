"""The mediation app's audit events (see civicgrid.core.audit). None of them holds a party's data."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MediationEvent(models.TextChoices):
    OPENED = "mediation.opened", _("mediation case opened")
    PARTY_ADDED = "mediation.party_added", _("party added to a mediation")
    SESSION_RECORDED = "mediation.session_recorded", _("mediation session recorded")
    AGREEMENT_RECORDED = "mediation.agreement_recorded", _("mediation agreement recorded")
    PARTY_SIGNED = "mediation.party_signed", _("party signed the agreement")
    FAILED = "mediation.failed", _("mediation ended without agreement")
    FOLLOW_UP_DUE = "mediation.follow_up_due", _("mediation follow-up visit due")
    FOLLOWED_UP = "mediation.followed_up", _("mediation follow-up visit made")
    DEMO_LOADED = "mediation.demo_loaded", _("demo mediations loaded")
