"""Live operations: an activated emergency (or drill) in one community, its live tasks, and drills."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicgrid.alerts.text import localized
from civicgrid.emergency.models.templates import HAZARDS, RESPONSE_LEVELS, PlanTemplate


class Emergency(models.Model):
    """A community in emergency mode for one hazard. At most one active per community and hazard."""

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("emergency", "active")
        CLOSED = "closed", pgettext_lazy("emergency", "closed")

    community = models.ForeignKey("registry.Place", on_delete=models.PROTECT, related_name="emergencies")
    hazard = models.CharField(_("hazard"), max_length=16, choices=list(HAZARDS.items()))
    level = models.CharField(_("response level"), max_length=3, choices=list(RESPONSE_LEVELS.items()))
    plan = models.ForeignKey(PlanTemplate, on_delete=models.PROTECT, related_name="emergencies")
    plan_version = models.PositiveIntegerField()
    plan_snapshot = models.JSONField(help_text="the plan document as it was at activation")
    is_drill = models.BooleanField(_("drill"), default=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    activated_at = models.DateTimeField()
    activated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    command = models.JSONField(default=list, help_text="the command structure with the actors and people assigned")
    stock_targets = models.JSONField(default=list)
    opening_alert = models.ForeignKey("alerts.Alert", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    closing_alert = models.ForeignKey("alerts.Alert", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    vulnerable_reached_at = models.DateTimeField(null=True, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    deactivated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    review_summary = models.TextField(_("what happened"), blank=True)
    review_went_well = models.TextField(_("what went well"), blank=True)
    review_to_improve = models.TextField(_("what to improve"), blank=True)
    review_facts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-activated_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["community", "hazard"], condition=models.Q(status="active"),
                                               name="one_active_emergency_per_community_hazard")]

    def __str__(self) -> str:
        return f"{self.community} {self.get_hazard_display()} {self.level}"


class Drill(models.Model):
    """A drill's clock: started when the exercise is announced; the activation it leads to is flagged as
    a drill, so time to activate and time until every vulnerable household was reached are measured."""

    community = models.ForeignKey("registry.Place", on_delete=models.PROTECT, related_name="drills")
    plan = models.ForeignKey(PlanTemplate, on_delete=models.PROTECT, related_name="drills")
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    emergency = models.OneToOneField(Emergency, null=True, blank=True, on_delete=models.PROTECT, related_name="drill")

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.plan} @ {self.community}"


    @property
    def time_to_activate(self) -> timedelta | None:
        return self.emergency.activated_at - self.started_at if self.emergency else None

    @property
    def time_to_reach_vulnerable(self) -> timedelta | None:
        reached = self.emergency.vulnerable_reached_at if self.emergency else None
        return reached - self.started_at if reached else None


class LiveTask(models.Model):
    """A plan task made live at activation, assigned to an actor and a person (per grid where the plan
    says so)."""

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("task", "open")
        DONE = "done", pgettext_lazy("task", "done")

    emergency = models.ForeignKey(Emergency, on_delete=models.CASCADE, related_name="tasks")
    key = models.SlugField(max_length=60)
    unit = models.SlugField(max_length=60)
    title_en = models.CharField(max_length=200)
    title_zh = models.CharField(max_length=200)
    actor = models.ForeignKey("registry.Actor", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey("registry.Place", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    place_path = models.CharField(max_length=255, db_index=True)
    due_at = models.DateTimeField()
    state = models.CharField(max_length=6, choices=State.choices, default=State.OPEN)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [models.UniqueConstraint(fields=["emergency", "key", "grid"], name="live_task_once")]

    def __str__(self) -> str:
        return self.title


    @property
    def title(self) -> str:
        return localized(self.title_en, self.title_zh)
