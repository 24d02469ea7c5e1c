"""A before/after comparison: its inputs (the community, the event's date, the outcome, the comparison
communities and the last day of records read) and, once the job has run, its results. The inputs fix the
window of records read, so a rerun on a later day reads the same days and gives the same numbers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicgrid.registry.models import Place

MAX_COMPARISONS = 20  # comparison communities of one comparison (each is a placebo in place: a fit each)


class Comparison(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    community = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="comparisons",
                                  verbose_name=_("community"))
    place_path = models.CharField(max_length=255, db_index=True, editable=False)
    emergency = models.ForeignKey("emergency.Emergency", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=pgettext_lazy("comparison", "emergency"))
    event_day = models.DateField(_("date of the change"))
    source = models.CharField(pgettext_lazy("comparison", "outcome"), max_length=64)
    comparison_ids = models.JSONField(_("comparison communities"), default=list, blank=True)
    # the last day of records read (exclusive): the request's day, kept so that a rerun reads the same window
    until = models.DateField(_("records up to"))
    event_en = models.CharField(max_length=200)
    event_zh = models.CharField(max_length=200)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    result = models.JSONField(null=True, blank=True, editable=False)
    error = models.CharField(max_length=500, blank=True, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    rerun_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="comparison_progress_bounds"),
            models.CheckConstraint(condition=Q(status__in=["queued", "running", "done", "failed"]),
                                   name="comparison_status_known"),
            models.CheckConstraint(condition=Q(until__gt=models.F("event_day")), name="comparison_until_after_event"),
        ]

    def __str__(self) -> str:
        return f"comparison {self.pk}: {self.source} ({self.community_id}, {self.event_day})"
