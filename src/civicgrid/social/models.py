"""Social organisations: the society-sector actors a community grows (seed 000, 4.2)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.registry.models import Actor


class Organisation(models.Model):
    """A social organisation's register entry: an actor of sector ``society`` with its credit code,
    verification state and incubation stage (each change goes through a service that audits it)."""

    class Verification(models.TextChoices):
        APPLIED = "applied", _("applied")
        VERIFIED = "verified", _("verified")
        SUSPENDED = "suspended", _("suspended")

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
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        ordering = ["actor__code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(verification__in=["applied", "verified", "suspended"]),
                                   name="organisation_verification_known"),
            models.CheckConstraint(condition=models.Q(stage__in=["incubating", "growing", "independent"]),
                                   name="organisation_stage_known"),
        ]

    def __str__(self) -> str:
        return str(self.actor)

    @property
    def is_verified(self) -> bool:
        return self.verification == self.Verification.VERIFIED
