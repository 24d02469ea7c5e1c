"""Government purchase of services (seed 000, 4.2): an appropriation pays for calls for proposals; verified
social organisations apply; named reviewers score against a rubric; the award signs a contract whose
milestones, each tied to a deliverable counted from platform records, are accepted by an arbiter and paid.

Money is integer fen (分). The appropriation keeps running sums, ``committed_fen`` (awarded contracts) and
``spent_fen`` (payments), updated in the transaction that commits or pays under a row lock, and the database
refuses ``spent <= committed <= amount`` being broken: a payment can never exceed the appropriation, even if
a service were wrong. A payment names exactly one milestone, once (a unique column).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicgrid.core.servicekinds import SERVICE_KINDS
from civicgrid.procurement.conf import MONEY_CEILING_FEN, yuan
from civicgrid.registry.models import Actor, Place
from civicgrid.social.models import Organisation

# The rubric every application is scored against: criterion -> (label, maximum points). Totals are out of 100.
RUBRIC: dict[str, tuple[Any, int]] = {
    "capacity": (_("Capacity and experience"), 30),
    "plan": (_("Service plan"), 40),
    "value": (_("Value for money"), 20),
    "local": (_("Local ties"), 10),
}

def deliverable_choices() -> list[tuple[str, Any]]:
    """The deliverables the installed apps count (core.plugins), as a field's choices: read when used, so a
    milestone shows its deliverable by name."""
    from civicgrid.core.plugins import deliverables

    return [(kind, d.label) for kind, d in sorted(deliverables().items())]


_MONEY = Q(amount_fen__gt=0) & Q(amount_fen__lte=MONEY_CEILING_FEN)


class Appropriation(models.Model):
    """Money set aside by a funder (for government purchase, a state actor) for services in a place."""

    name = models.CharField(_("name"), max_length=120)
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    funder = models.ForeignKey(Actor, on_delete=models.PROTECT, related_name="appropriations",
                               verbose_name=_("funder"))
    year = models.PositiveSmallIntegerField(_("year"))
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    committed_fen = models.BigIntegerField(_("committed (fen)"), default=0)
    spent_fen = models.BigIntegerField(_("spent (fen)"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("appropriation")
        verbose_name_plural = _("appropriations")
        ordering = ["-year", "name", "id"]
        constraints = [
            models.CheckConstraint(condition=_MONEY, name="procurement_appropriation_amount"),
            models.CheckConstraint(condition=Q(spent_fen__gte=0) & Q(spent_fen__lte=F("committed_fen")),
                                   name="procurement_spent_within_committed"),
            models.CheckConstraint(condition=Q(committed_fen__gte=0) & Q(committed_fen__lte=F("amount_fen")),
                                   name="procurement_committed_within_appropriation"),
            models.CheckConstraint(condition=Q(year__gte=2000) & Q(year__lte=2100), name="procurement_year"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.year})"

    @property
    def available_fen(self) -> int:
        return self.amount_fen - self.committed_fen


class Call(models.Model):
    """A call for proposals: a service in an area, a budget from an appropriation, a deadline."""

    class Status(models.TextChoices):
        OPEN = "open", _("open for applications")
        AWARDED = "awarded", _("awarded")

    appropriation = models.ForeignKey(Appropriation, on_delete=models.PROTECT, related_name="calls",
                                      verbose_name=_("appropriation"))
    title = models.CharField(_("title"), max_length=120)
    service_kind = models.CharField(_("service"), max_length=20, choices=list(SERVICE_KINDS.items()))
    description = models.CharField(_("description"), max_length=2000, blank=True)
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    budget_fen = models.BigIntegerField(_("budget (fen)"))
    deadline = models.DateTimeField(_("deadline for applications"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    published_at = models.DateTimeField(_("published at"), auto_now_add=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("published by"))

    class Meta:
        verbose_name = _("call for proposals")
        verbose_name_plural = _("calls for proposals")
        ordering = ["-published_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(budget_fen__gt=0) & Q(budget_fen__lte=MONEY_CEILING_FEN),
                                   name="procurement_call_budget"),
            models.CheckConstraint(condition=Q(status__in=["open", "awarded"]), name="procurement_call_status"),
        ]

    def __str__(self) -> str:
        return self.title


class Reviewer(models.Model):
    """A user named to score a call's applications."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="reviewers", verbose_name=_("call"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("reviewer"))

    class Meta:
        verbose_name = _("reviewer of a call")
        verbose_name_plural = _("reviewers of calls")
        constraints = [models.UniqueConstraint(fields=["call", "user"], name="procurement_one_reviewer_entry")]

    def __str__(self) -> str:
        return f"{self.user} ({self.call})"


class Application(models.Model):
    """A verified organisation's proposal for a call (one per organisation and call)."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        AWARDED = "awarded", _("awarded")
        NOT_AWARDED = "not_awarded", _("not awarded")

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="applications", verbose_name=_("call"))
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="applications",
                                     verbose_name=_("organisation"))
    amount_fen = models.BigIntegerField(_("amount asked (fen)"))
    proposal = models.CharField(_("proposal"), max_length=2000)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("submitted by"))

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["call", "organisation"], name="procurement_one_application"),
            models.CheckConstraint(condition=_MONEY, name="procurement_application_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} → {self.call}"


class Score(models.Model):
    """One reviewer's marks for one application against :data:`RUBRIC`."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="scores",
                                    verbose_name=_("application"))
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("reviewer"))
    # one column per criterion of RUBRIC, each bounded by its maximum in the database too
    capacity = models.PositiveSmallIntegerField(RUBRIC["capacity"][0])
    plan = models.PositiveSmallIntegerField(RUBRIC["plan"][0])
    value = models.PositiveSmallIntegerField(RUBRIC["value"][0])
    local = models.PositiveSmallIntegerField(RUBRIC["local"][0])
    total = models.PositiveSmallIntegerField(_("total"))
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    scored_at = models.DateTimeField(_("scored at"), auto_now_add=True)

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        constraints = [
            models.UniqueConstraint(fields=["application", "reviewer"], name="procurement_one_score"),
            models.CheckConstraint(condition=Q(total__lte=100), name="procurement_score_total"),
            models.CheckConstraint(condition=Q(capacity__lte=30) & Q(plan__lte=40) & Q(value__lte=20) & Q(local__lte=10),
                                   name="procurement_score_rubric"),
            models.CheckConstraint(condition=Q(total=F("capacity") + F("plan") + F("value") + F("local")),
                                   name="procurement_score_sum"),
        ]

    def __str__(self) -> str:
        return f"{self.total}: {self.application}"

    @property
    def marks(self) -> dict[str, int]:
        return {key: getattr(self, key) for key in RUBRIC}


class Contract(models.Model):
    """What the award signs: the organisation, the amount (committed against the appropriation), the
    arbiter who accepts its milestones."""

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("contract", "active")
        COMPLETED = "completed", pgettext_lazy("contract", "completed")

    call = models.OneToOneField(Call, on_delete=models.PROTECT, related_name="contract", verbose_name=_("call"))
    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="contract",
                                       verbose_name=_("application"))
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="contracts",
                                     verbose_name=_("organisation"))
    amount_fen = models.BigIntegerField(_("contract amount (fen)"))
    arbiter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("arbiter"))
    signed_at = models.DateTimeField(_("signed at"))
    ends_on = models.DateField(_("ends on"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    award_reason = models.CharField(_("reason for the award"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("service contract")
        verbose_name_plural = _("service contracts")
        ordering = ["-signed_at", "-id"]
        constraints = [models.CheckConstraint(condition=_MONEY, name="procurement_contract_amount")]

    def __str__(self) -> str:
        return f"{self.call.title}: {self.organisation}"


class Milestone(models.Model):
    """A share of the contract's money, due by a date, earned by a deliverable counted from platform records
    (``deliverable`` names a counter of :func:`civicgrid.core.plugins.deliverables`, ``target`` how many)."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("milestone", "pending")
        ACCEPTED = "accepted", pgettext_lazy("milestone", "accepted")
        REJECTED = "rejected", pgettext_lazy("milestone", "rejected")
        PAID = "paid", pgettext_lazy("milestone", "paid")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="milestones",
                                 verbose_name=_("service contract"))
    number = models.PositiveSmallIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=120)
    share_percent = models.PositiveSmallIntegerField(_("payout share (%)"))
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    due_on = models.DateField(_("deadline"))
    deliverable = models.CharField(_("deliverable"), max_length=40, choices=deliverable_choices)
    target = models.PositiveIntegerField(_("target count"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    counted = models.PositiveIntegerField(_("count at decision"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=pgettext_lazy("acceptance", "decided by"))
    decided_at = models.DateTimeField(pgettext_lazy("acceptance", "decided at"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    overridden = models.BooleanField(_("accepted short of target"), default=False)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["contract_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "number"], name="procurement_milestone_number"),
            models.CheckConstraint(condition=Q(share_percent__gte=1) & Q(share_percent__lte=100),
                                   name="procurement_milestone_share"),
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="procurement_milestone_amount"),
            models.CheckConstraint(condition=Q(target__gte=1) & Q(target__lte=1_000_000),
                                   name="procurement_milestone_target"),
            models.CheckConstraint(condition=Q(status__in=["pending", "accepted", "rejected", "paid"]),
                                   name="procurement_milestone_status"),
            # a rejection and an acceptance short of the target always carry their reason
            models.CheckConstraint(condition=~Q(status="rejected") | ~Q(reason=""), name="procurement_reject_reason"),
            models.CheckConstraint(condition=Q(overridden=False) | ~Q(reason=""), name="procurement_override_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.contract} #{self.number} {self.title}"


class Payment(models.Model):
    """Money paid against exactly one accepted milestone, once."""

    milestone = models.OneToOneField(Milestone, on_delete=models.PROTECT, related_name="payment",
                                     verbose_name=_("milestone"))
    appropriation = models.ForeignKey(Appropriation, on_delete=models.PROTECT, related_name="payments",
                                      verbose_name=_("appropriation"))
    amount_fen = models.BigIntegerField(_("amount (fen)"))
    paid_at = models.DateTimeField(_("paid at"))
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("paid by"))
    reference = models.CharField(_("payment reference"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-paid_at", "-id"]
        constraints = [models.CheckConstraint(condition=_MONEY, name="procurement_payment_amount")]

    def __str__(self) -> str:
        return f"{yuan(self.amount_fen)} → {self.milestone}"
