"""The emergency app's audit events (see civicgrid.core.audit)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EmergencyEvent(models.TextChoices):
    ACTIVATED = "emergency.activated", _("emergency mode activated")
    CLOSED = "emergency.closed", _("emergency closed, back to normal")
    DRILL_STARTED = "emergency.drill_started", _("drill started")
    TASK_DONE = "emergency.task_done", _("emergency task done")
    PLAN_EDITED = "emergency.plan_edited", _("plan template edited")
    CHECKLIST_EDITED = "emergency.checklist_edited", _("checklist template edited")
    CHECKLIST_KEPT = "emergency.checklist_kept", _("checklist ticked")
    ISOLATION_STARTED = "emergency.isolation_started", _("home isolation started")
    ISOLATION_ENDED = "emergency.isolation_ended", _("home isolation ended")
    CHECKIN_RECORDED = "emergency.checkin_recorded", _("isolation check-in recorded")
    CHECKIN_MISSED = "emergency.checkin_missed", _("isolation check-in missed")
    SWEEP_STARTED = "emergency.sweep_started", _("door-to-door sweep started")
    VISIT_RECORDED = "emergency.visit_recorded", _("sweep visit recorded")
    VISITS_ASSIGNED = "emergency.visits_assigned", _("sweep visits assigned")
    VULNERABLE_REACHED = "emergency.vulnerable_reached", _("every vulnerable household reached")
