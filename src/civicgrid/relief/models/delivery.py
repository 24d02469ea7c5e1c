"""Deliveries: a round's task per building (:class:`DeliveryTask`), one stop per household
(:class:`DeliveryStop`) and every attempt (:class:`DeliveryAttempt`), with ``FAILURE_REASONS``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civicgrid.core.crypto import EncryptedCharField
from civicgrid.registry.models import Actor, Household, Place
from civicgrid.relief.models.catalogue import DistributionPoint, _choices
from civicgrid.relief.models.rounds import AllocationRound

FAILURE_REASONS = {"not_home": _("Nobody at home"), "refused": _("Refused"),
                   "wrong_address": _("Wrong address")}


class DeliveryTask(models.Model):
    """The deliveries of one round to one building, claimed by one person at a time."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for a volunteer")
        CLAIMED = "claimed", _("Claimed")
        DONE = "done", _("Done")

    round = models.ForeignKey(AllocationRound, on_delete=models.PROTECT, related_name="tasks")
    building = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")
    place_path = models.CharField(max_length=255, db_index=True)
    point = models.ForeignKey(DistributionPoint, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Actor, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="relief_tasks", verbose_name=_("given to"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="relief_tasks")
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField()
    requeued = models.PositiveIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "place_path", "id"]
        indexes = [models.Index(fields=["status", "place_path"]), models.Index(fields=["claimed_by", "status"])]
        constraints = [
            models.CheckConstraint(condition=~Q(status="claimed") | Q(claimed_by__isnull=False),
                                   name="relief_task_claimed_has_claimant"),
            models.CheckConstraint(condition=~Q(status="open") | Q(claimed_by__isnull=True),
                                   name="relief_task_open_has_no_claimant"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.building}"


class DeliveryStop(models.Model):
    """One household's share of a task. The household proves receipt with its one-time code.

    A round writes one stop per household it serves; its lines are the household's allocations with units in
    the task's round (found by round and household: ``RoundAllocation`` says why there is no key)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("To deliver")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    task = models.ForeignKey(DeliveryTask, on_delete=models.PROTECT, related_name="stops")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="relief_stops")
    code = EncryptedCharField(_("one-time code"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    wrong_codes = models.PositiveSmallIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    failure_reason = models.CharField(_("reason"), max_length=16, blank=True, choices=_choices(FAILURE_REASONS))

    class Meta:
        ordering = ["task_id", "household__code"]
        constraints = [models.UniqueConstraint(fields=["task", "household"], name="relief_one_stop_per_household")]

    def __str__(self) -> str:
        return f"{self.household.address}"


class DeliveryAttempt(models.Model):
    """Every delivery outcome, kept: a failed attempt says why."""

    stop = models.ForeignKey(DeliveryStop, on_delete=models.PROTECT, related_name="attempts")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                           related_name="+")
    at = models.DateTimeField()
    delivered = models.BooleanField()
    reason = models.CharField(_("reason"), max_length=16, blank=True, choices=_choices(FAILURE_REASONS))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{'delivered' if self.delivered else 'failed: ' + self.reason} {self.at:%Y-%m-%d %H:%M}"
