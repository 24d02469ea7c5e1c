"""The volunteers app's audit events (see civicgrid.core.audit)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class VolunteersEvent(models.TextChoices):
    VOLUNTEER_SAVED = "volunteers.volunteer_saved", _("volunteer profile saved")
    COURSE_CREATED = "volunteers.course_created", _("course created")
    CERTIFICATE_GRANTED = "volunteers.certificate_granted", _("course certificate granted")
    HOURS_POSTED = "volunteers.hours_posted", _("volunteer hours posted")
    HOURS_ENTERED = "volunteers.hours_entered", _("volunteer hours typed by hand")
    HOURS_DECIDED = "volunteers.hours_decided", _("hours typed by hand approved or rejected")
    HOURS_POSTED_BULK = "volunteers.hours_posted_bulk", _("hours posted from confirmed acts")
    TIME_TRANSFERRED = "volunteers.time_transferred", _("time-bank credits transferred")
    HELPER_ASSIGNED = "volunteers.helper_assigned", _("paired helper assigned")
    HELPER_ENDED = "volunteers.helper_ended", _("paired help ended")
    VISIT_OPENED = "volunteers.visit_opened", _("care visit opened")
    VISIT_CLAIMED = "volunteers.visit_claimed", _("care visit claimed")
    VISIT_RECORDED = "volunteers.visit_recorded", _("care visit recorded")
    VISITS_SCHEDULED = "volunteers.visits_scheduled", _("care visits scheduled and missed ones counted")
    DEMO_LOADED = "volunteers.demo_loaded", _("demo volunteers loaded")
