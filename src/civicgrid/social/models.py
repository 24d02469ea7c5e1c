"""Social organisations: the society-sector actors a community grows (seed 000, 4.2), the evidence of
their growth, and their admission to an emergency (seed 000: the "disorderly participation" after Wenchuan).

Every change goes through a service (``services``) that audits it; the histories below are append-only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicgrid.core.servicekinds import SERVICE_KINDS
from civicgrid.registry.models import SECTOR_LABELS, Actor

VERIFICATIONS = ("applied", "verified", "suspended")
STAGES = ("incubating", "growing", "independent")
MAX_FEN = 10**12  # ten billion yuan: no single grant is larger


class Organisation(models.Model):
    """A social organisation's register entry: an actor of sector ``society`` with its credit code,
    verification state and incubation stage (each change goes through a service that audits it)."""

    class Verification(models.TextChoices):
        APPLIED = "applied", pgettext_lazy("verification", "applied")
        VERIFIED = "verified", pgettext_lazy("verification", "verified")
        SUSPENDED = "suspended", pgettext_lazy("verification", "suspended")

    class Stage(models.TextChoices):
        INCUBATING = "incubating", _("incubating")
        GROWING = "growing", _("growing")
        INDEPENDENT = "independent", _("independent")

    actor = models.OneToOneField(Actor, on_delete=models.PROTECT, related_name="organisation",
                                 verbose_name=_("actor"))
    credit_code = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    verification = models.CharField(_("verification state"), max_length=10, choices=Verification.choices,
                                    default=Verification.APPLIED)
    verification_reason = models.CharField(_("reason"), max_length=500, blank=True)
    stage = models.CharField(_("incubation stage"), max_length=12, choices=Stage.choices,
                             default=Stage.INCUBATING)
    stage_since = models.DateField(_("stage since"), null=True, blank=True)
    score = models.DecimalField(_("capacity score"), max_digits=3, decimal_places=2, null=True, blank=True,
                                help_text=_("the latest capacity assessment's score (1 to 5)"))
    hub = models.ForeignKey(Actor, null=True, blank=True, on_delete=models.PROTECT, related_name="incubated",
                            verbose_name=_("incubated by"))
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("social organisation")
        verbose_name_plural = _("social organisations")
        ordering = ["actor__code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(verification__in=["applied", "verified", "suspended"]),
                                   name="organisation_verification_known"),
            models.CheckConstraint(condition=models.Q(stage__in=["incubating", "growing", "independent"]),
                                   name="organisation_stage_known"),
            models.CheckConstraint(condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5),
                                   name="organisation_score_1_to_5"),
        ]

    def __str__(self) -> str:
        return str(self.actor)

    @property
    def is_verified(self) -> bool:
        return self.verification == self.Verification.VERIFIED


class VerificationChange(models.Model):
    """One dated change of an organisation's verification state, with its reason (and the complaint
    that led to it, if one did)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="verification_changes",
                                     verbose_name=_("organisation"))
    from_state = models.CharField(_("from"), max_length=10, choices=Organisation.Verification.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=10, choices=Organisation.Verification.choices)
    reason = models.CharField(_("reason"), max_length=500)
    complaint = models.ForeignKey("Complaint", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("complaint"))
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                           related_name="+", verbose_name=_("recorded by"))

    class Meta:
        verbose_name = _("verification change")
        verbose_name_plural = _("verification changes")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return str(self.organisation_id)


class CapacityAssessment(models.Model):
    """A capacity assessment: each configured indicator rated 1 to 5; the score is their mean."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="assessments",
                                     verbose_name=_("organisation"))
    assessed_on = models.DateField(_("assessed on"))
    score = models.DecimalField(_("score"), max_digits=3, decimal_places=2)
    note = models.CharField(_("note"), max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                           related_name="+", verbose_name=_("recorded by"))
    at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("capacity assessment")
        verbose_name_plural = _("capacity assessments")
        ordering = ["-assessed_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="assessment_score_1_to_5")]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.assessed_on}: {self.score}"


class AssessmentRating(models.Model):
    assessment = models.ForeignKey(CapacityAssessment, on_delete=models.CASCADE, related_name="ratings",
                                   verbose_name=_("assessment"))
    indicator = models.CharField(_("indicator"), max_length=40)
    words_en = models.CharField(_("indicator (English)"), max_length=120)
    words_zh = models.CharField(_("indicator (Chinese)"), max_length=120)
    rating = models.PositiveSmallIntegerField(_("rating (1-5)"))

    class Meta:
        verbose_name = _("indicator rating")
        verbose_name_plural = _("indicator ratings")
        ordering = ["assessment_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="rating_1_to_5"),
            models.UniqueConstraint(fields=["assessment", "indicator"], name="one_rating_per_indicator"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.rating}"

    @property
    def label(self) -> str:
        """The indicator in the reader's language, in the words it had when it was rated."""
        from civicgrid.social.conf import indicator_label

        return indicator_label(self.indicator, (self.words_en, self.words_zh))


class Training(models.Model):
    """A training the organisation's people attended."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="trainings",
                                     verbose_name=_("organisation"))
    title = models.CharField(_("training"), max_length=120)
    provider = models.CharField(_("given by"), max_length=120, blank=True)
    held_on = models.DateField(_("held on"))
    attendees = models.PositiveIntegerField(_("attendees"))
    at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("training")
        verbose_name_plural = _("trainings")
        ordering = ["-held_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(attendees__gte=1, attendees__lte=10_000),
                                              name="training_attendees_bounded")]

    def __str__(self) -> str:
        return self.title


class Funding(models.Model):
    """Money the organisation received, in fen, with its source and the source's sector."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="fundings",
                                     verbose_name=_("organisation"))
    source = models.ForeignKey(Actor, null=True, blank=True, on_delete=models.PROTECT, related_name="funded",
                               verbose_name=_("funder"))
    source_name = models.CharField(_("funder"), max_length=120, blank=True)
    source_sector = models.CharField(_("sector of the funder"), max_length=10, choices=list(SECTOR_LABELS.items()))
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    received_on = models.DateField(_("received on"))
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("funding")
        verbose_name_plural = _("fundings")
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gte=1, amount_fen__lte=MAX_FEN), name="funding_amount_bounded"),
            models.CheckConstraint(condition=Q(source_sector__in=["state", "capital", "society"]),
                                   name="funding_sector_known"),
        ]

    def __str__(self) -> str:
        return f"{self.source_name} {self.amount_fen}"

    @property
    def amount_yuan(self) -> str:
        return f"{self.amount_fen / 100:,.2f}"


class StageChange(models.Model):
    """One dated step of the incubation ladder, with the evidence it stood on when it was taken."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="stage_changes",
                                     verbose_name=_("organisation"))
    from_stage = models.CharField(_("from"), max_length=12, choices=Organisation.Stage.choices, blank=True)
    to_stage = models.CharField(_("to"), max_length=12, choices=Organisation.Stage.choices)
    on = models.DateField(_("on"))
    reason = models.CharField(_("reason"), max_length=500)
    assessment = models.ForeignKey(CapacityAssessment, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("assessment"))
    trainings = models.PositiveIntegerField(_("trainings attended"), default=0)
    funding_fen = models.BigIntegerField(_("funding received (fen)"), default=0)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                           related_name="+", verbose_name=_("recorded by"))
    at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("incubation stage change")
        verbose_name_plural = _("incubation stage changes")
        ordering = ["-on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(funding_fen__gte=0), name="stage_funding_not_negative")]

    def __str__(self) -> str:
        return str(self.organisation_id)


class Complaint(models.Model):
    """A complaint about an organisation (Crisis Cleanup's "complaint about another organisation"): upheld,
    it may suspend the organisation's verification."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        UPHELD = "upheld", pgettext_lazy("complaint", "upheld")
        DISMISSED = "dismissed", pgettext_lazy("complaint", "dismissed")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="complaints",
                                     verbose_name=_("organisation"))
    text = models.CharField(_("complaint"), max_length=500)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("filed by"))
    filed_at = models.DateTimeField(_("filed at"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    resolution = models.CharField(_("resolution"), max_length=500, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("resolved by"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("complaint about an organisation")
        verbose_name_plural = _("complaints about organisations")
        ordering = ["-filed_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["open", "upheld", "dismissed"]), name="complaint_status_known"),
            models.CheckConstraint(condition=Q(status="open") | ~Q(resolution=""), name="complaint_resolved_with_reason"),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class Admission(models.Model):
    """An organisation's application to serve one grid with one kind of service in one emergency, and the
    coordinator's decision. Only an admitted organisation may claim that work there (``guard.py``)."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("applied")
        ADMITTED = "admitted", _("admitted")
        REFUSED = "refused", _("refused")

    emergency = models.ForeignKey("emergency.Emergency", on_delete=models.PROTECT, related_name="admissions",
                                  verbose_name=_("emergency"))
    actor = models.ForeignKey(Actor, on_delete=models.PROTECT, related_name="admissions",
                              verbose_name=_("organisation"))
    grid = models.ForeignKey("registry.Place", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid"))
    service_kind = models.CharField(_("service"), max_length=20, choices=list(SERVICE_KINDS.items()))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.APPLIED)
    note = models.CharField(_("note"), max_length=500, blank=True)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("applied by"))
    applied_at = models.DateTimeField(_("applied at"))
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("admission in an emergency")
        verbose_name_plural = _("admissions in an emergency")
        ordering = ["-applied_at", "actor_id", "grid_id", "service_kind"]
        constraints = [
            models.UniqueConstraint(fields=["emergency", "actor", "grid", "service_kind"], name="admission_once"),
            models.CheckConstraint(condition=Q(status__in=["applied", "admitted", "refused"]),
                                   name="admission_status_known"),
            models.CheckConstraint(condition=Q(service_kind__in=list(SERVICE_KINDS)), name="admission_kind_known"),
            models.CheckConstraint(condition=Q(status="applied") | Q(decided_at__isnull=False),
                                   name="admission_decided_when"),
            models.CheckConstraint(condition=~Q(status="refused") | ~Q(reason=""), name="admission_refused_with_reason"),
        ]
        indexes = [models.Index(fields=["status", "service_kind"])]

    def __str__(self) -> str:
        return f"{self.actor} {self.grid} {self.get_service_kind_display()}"

