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

    # indexed with the id (Meta): a round's tasks are the index's first column
    round = models.ForeignKey(AllocationRound, on_delete=models.PROTECT, related_name="tasks", db_index=False)
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
            # what a stop's composite key to its task refers to on PostgreSQL (DeliveryStop), and the index of a
            # round's tasks. The round comes first, and the round alone has no index: a district round checks
            # that key for half a million stops against tasks written in the same transaction, which the planner
            # takes for an empty table. Given an index of the round alone, it looked each stop's task up
            # through it, reading every task of the round (7 s more at the commit); the two indexes left, the
            # key's and this one, are point lookups.
            models.UniqueConstraint(fields=["round", "id"], name="relief_task_of_round"),
            models.CheckConstraint(condition=~Q(status="claimed") | Q(claimed_by__isnull=False),
                                   name="relief_task_claimed_has_claimant"),
            models.CheckConstraint(condition=~Q(status="open") | Q(claimed_by__isnull=True),
                                   name="relief_task_open_has_no_claimant"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.building}"


class DeliveryStop(models.Model):
    """One household's share of a task. The household proves receipt with its one-time code.

    A round has one stop per household it serves, a rule of the schema: the stop names its round beside its task,
    and (household, round) is unique. Its lines are the household's allocations with units in that round (found
    by the pair: ``RoundAllocation`` says why an allocation has no key to its stop).

    The round is the task's round. On PostgreSQL the stop's key to its task is therefore one composite key
    (round, task) -> the task's unique (round, id), which refuses a round other than the task's; it also stands
    for the key to the round (the task's own key checks that). That keeps a district round's commit at two key
    checks per stop, as before the round was named (relief migration 0015, which says what a later migration of
    these fields must do). SQLite keeps the single-column keys Django declares, so there the service's word is all
    that ties the two. The (household, round) index also finds a household's stops: the household has no
    index of its own."""

    class Status(models.TextChoices):
        PENDING = "pending", _("To deliver")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    task = models.ForeignKey(DeliveryTask, on_delete=models.PROTECT, related_name="stops")
    # the task's round; indexed after the household (Meta): a round's stops alone are found through its tasks
    round = models.ForeignKey(AllocationRound, on_delete=models.PROTECT, related_name="stops", db_index=False)
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="relief_stops", db_index=False)
    code = EncryptedCharField(_("one-time code"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    wrong_codes = models.PositiveSmallIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    failure_reason = models.CharField(_("reason"), max_length=16, blank=True, choices=_choices(FAILURE_REASONS))

    class Meta:
        ordering = ["task_id", "household__code"]
        constraints = [models.UniqueConstraint(fields=["household", "round"],
                                               name="relief_one_stop_per_household_round")]

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
        return f"{self.at:%Y-%m-%d %H:%M}"
