"""The council app's audit events (see civicgrid.core.audit)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CouncilEvent(models.TextChoices):
    BODY_REGISTERED = "council.body_registered", _("deciding body registered")
    MEETING_CREATED = "council.meeting_created", _("meeting called")
    AGENDA_ITEM_ADDED = "council.agenda_item_added", _("agenda item added")
    INVITED = "council.invited", _("households invited to a meeting")
    CHECKED_IN = "council.checked_in", _("attendance recorded")
    MINUTES_SAVED = "council.minutes_saved", _("minutes saved")
    MEETING_CLOSED = "council.meeting_closed", _("meeting closed")
    POLL_OPENED = "council.poll_opened", _("poll opened")
    VOTE_CAST = "council.vote_cast", _("vote cast")
    POLL_CLOSED = "council.poll_closed", _("poll closed")
    DECISION_RECORDED = "council.decision_recorded", _("decision recorded")
    DECISION_PUBLISHED = "council.decision_published", _("decision published")
    DECISION_CASE_OPENED = "council.decision_case_opened", _("case opened from a decision")
    COVENANT_CREATED = "council.covenant_created", _("covenant started")
    VERSION_DRAFTED = "council.version_drafted", _("covenant draft started")
    CLAUSE_SAVED = "council.clause_saved", _("covenant clause saved")
    CLAUSE_COMMENTED = "council.clause_commented", _("comment on a covenant clause")
    VERSION_ADOPTED = "council.version_adopted", _("covenant version adopted")
    SIGNED = "council.signed", _("covenant signed by a household")
    DEMO_LOADED = "council.demo_loaded", _("council demo data loaded")
