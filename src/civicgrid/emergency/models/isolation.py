"""Home isolation: isolated residents, their daily check-ins and the days they missed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

SYMPTOMS = {"fever": _("fever"), "cough": _("cough"), "sore_throat": _("sore throat"), "fatigue": _("fatigue"),
            "breathless": _("shortness of breath"), "taste_smell": _("loss of taste or smell"),
            "diarrhoea": _("diarrhoea")}


class Isolation(models.Model):
    resident = models.ForeignKey("registry.Resident", on_delete=models.PROTECT, related_name="isolations")
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="+")
    place_path = models.CharField(max_length=255, db_index=True)
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    emergency = models.ForeignKey("emergency.Emergency", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="isolations")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(end_date__gte=models.F("start_date")),
                                              name="isolation_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.resident} {self.start_date}..{self.end_date}"


class CheckIn(models.Model):
    isolation = models.ForeignKey(Isolation, on_delete=models.CASCADE, related_name="checkins")
    day = models.DateField(_("day"))
    temperature = models.DecimalField(_("temperature (°C)"), max_digits=3, decimal_places=1)
    symptoms = models.JSONField(_("symptoms"), default=list, blank=True)
    needs = models.CharField(_("needs"), max_length=500, blank=True)
    filed = models.CharField(max_length=40, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    for_resident = models.BooleanField(default=False, help_text="recorded by a grid member for the resident")
    at = models.DateTimeField()

    class Meta:
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["isolation", "day"], name="one_checkin_a_day")]

    def __str__(self) -> str:
        return f"{self.isolation_id} {self.day} {self.temperature}"


    @property
    def symptom_text(self) -> str:
        """The symptoms by their names in the reader's language."""
        return "、".join(str(SYMPTOMS.get(code, code)) for code in self.symptoms or [])

    @property
    def feverish(self) -> bool:
        return float(self.temperature) >= 37.3 or bool(self.symptoms)


class MissedCheckIn(models.Model):
    isolation = models.ForeignKey(Isolation, on_delete=models.CASCADE, related_name="missed")
    day = models.DateField()
    flagged_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["isolation", "day"], name="missed_once_a_day")]

    def __str__(self) -> str:
        return f"{self.isolation_id} {self.day}"

