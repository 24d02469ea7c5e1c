"""A before/after comparison: its inputs (the community, the event's date, the outcome, the comparison
communities and the last day of records read) and, once the job has run, its results. The inputs fix the
window of records read, so a rerun on a later day reads the same days and gives the same numbers."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicgrid.core.models import SavedRun
from civicgrid.registry.models import Place

MAX_COMPARISONS = 20  # comparison communities of one comparison (each is a placebo in place: a fit each)


class Comparison(SavedRun):
    """(State, progress, result, who asked and what it reruns: :class:`~civicgrid.core.models.SavedRun`.)"""

    community = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="comparisons",
                                  verbose_name=_("community"))
    emergency = models.ForeignKey("emergency.Emergency", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=pgettext_lazy("comparison", "emergency"))
    event_day = models.DateField(_("date of the change"))
    source = models.CharField(pgettext_lazy("comparison", "outcome"), max_length=64)
    comparison_ids = models.JSONField(_("comparison communities"), default=list, blank=True)
    # the last day of records read (exclusive): the request's day, kept so that a rerun reads the same window
    until = models.DateField(_("records up to"))
    event_en = models.CharField(max_length=200)
    event_zh = models.CharField(max_length=200)

    class Meta(SavedRun.Meta):
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="comparison_progress_bounds"),
            models.CheckConstraint(condition=Q(status__in=["queued", "running", "done", "failed"]),
                                   name="comparison_status_known"),
            models.CheckConstraint(condition=Q(until__gt=models.F("event_day")), name="comparison_until_after_event"),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.event_day}"
