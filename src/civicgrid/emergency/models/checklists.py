"""Checklist completion, per site or household and per day."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from civicgrid.emergency.models.templates import ChecklistItem, ChecklistTemplate


class ChecklistCompletion(models.Model):
    template = models.ForeignKey(ChecklistTemplate, on_delete=models.PROTECT, related_name="completions")
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="completions")
    place = models.ForeignKey("registry.Place", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey("registry.Household", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    subject = models.CharField(max_length=40, help_text="place:<id> or household:<id>")
    place_path = models.CharField(max_length=255, db_index=True)
    day = models.DateField()
    done = models.BooleanField(default=False)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["day", "item__order"]
        constraints = [models.UniqueConstraint(fields=["item", "subject", "day"], name="checklist_once_a_day")]
        indexes = [models.Index(fields=["template", "day"])]

    def __str__(self) -> str:
        return f"{self.item} {self.subject} {self.day}: {self.done}"

