"""Door-to-door sweeps: one visit per household, vulnerable households first."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.emergency.models.operations import Emergency


class Sweep(models.Model):
    emergency = models.ForeignKey(Emergency, on_delete=models.PROTECT, related_name="sweeps")
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    n_households = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return str(self.emergency)


class SweepVisit(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("to visit")
        SAFE = "safe", _("safe")
        NEEDS_HELP = "needs_help", _("needs help")
        NOT_HOME = "not_home", _("not at home")

    REACHED = (State.SAFE, State.NEEDS_HELP)
    TO_DO = (State.PENDING, State.NOT_HOME)

    sweep = models.ForeignKey(Sweep, on_delete=models.CASCADE, related_name="visits")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey("registry.Place", on_delete=models.PROTECT, related_name="+")
    place_path = models.CharField(max_length=255)
    priority = models.FloatField(help_text="the household's vulnerability score when the sweep began")
    vulnerable = models.BooleanField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    visited_at = models.DateTimeField(null=True, blank=True)
    visited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    revisit_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    filed = models.CharField(max_length=40, blank=True, help_text="case:<id> or need:<id> filed for the household")
    assignee = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", help_text="a volunteer given this visit")

    class Meta:
        ordering = ["-priority", "household_id"]
        constraints = [models.UniqueConstraint(fields=["sweep", "household"], name="one_visit_per_household")]
        indexes = [models.Index(fields=["sweep", "grid", "state", "priority"]),
                   models.Index(fields=["sweep", "place_path"]),
                   models.Index(fields=["assignee", "state"])]

    def __str__(self) -> str:
        return f"{self.sweep_id}/{self.household_id}"

