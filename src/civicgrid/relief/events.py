"""The relief app's audit events (see civicgrid.core.audit)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReliefEvent(models.TextChoices):
    NEED_FILED = "relief.need_filed", _("need filed")
    NEED_MERGED = "relief.need_merged", _("need merged with a new filing")
    NEED_FILING = "relief.need_filing", _("filing recorded")
    NEED_CANCELLED = "relief.need_cancelled", _("need withdrawn")
    STOCK_RECEIVED = "relief.stock_received", _("stock received")
    STOCK_ISSUED = "relief.stock_issued", _("stock issued")
    OFFER_PLEDGED = "relief.offer_pledged", _("offer pledged")
    OFFER_RECEIVED = "relief.offer_received", _("offer received")
    OFFER_INSPECTED = "relief.offer_inspected", _("offer inspected")
    OFFER_STOCKED = "relief.offer_stocked", _("offer put in stock")
    ROUND_CONFIRMED = "relief.round_confirmed", _("allocation round confirmed")
    CONFIRMATION_REQUESTED = "relief.confirmation_requested", _("allocation round queued for confirmation")
    CONFIRMATION_FINISHED = "relief.confirmation_finished", _("queued allocation round confirmed")
    CONFIRMATION_FAILED = "relief.confirmation_failed", _("queued allocation round not confirmed")
    DELIVERY_TASKS_CREATED = "relief.delivery_tasks_created", _("delivery tasks created")
    TASK_CLAIMED = "relief.task_claimed", _("delivery task claimed")
    TASK_ASSIGNED = "relief.task_assigned", _("delivery task given to an organisation")
    TASK_REQUEUED = "relief.task_requeued", _("delivery task back in the queue")
    TASK_DONE = "relief.task_done", _("delivery task done")
    STOP_DELIVERED = "relief.stop_delivered", _("delivery confirmed by the household")
    STOP_FAILED = "relief.stop_failed", _("delivery failed")
    STOP_CALLED = "relief.stop_called", _("household called about a delivery")
    CODE_REISSUED = "relief.code_reissued", _("delivery code reissued")
    WRONG_CODE = "relief.wrong_code", _("wrong delivery code entered")
    DEMO_LOADED = "relief.demo_loaded", _("demo needs and stock generated")
