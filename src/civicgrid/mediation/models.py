"""Dispute mediation (矛盾纠纷调解): a case with its parties, mediator, sessions, agreement (text and the
parties' signatures) and a follow-up visit a set time after the agreement.

Confidential: the parties' names and phones are encrypted at rest like the registry's (Fernet, see
civicgrid.core.crypto), and the parties, the summary, the sessions' notes and the agreement's text are shown
only to the case's mediator and its community's director (selectors.may_see_parties). Nobody else, the
district included, sees more than the case's code, kind, grid, state and dates; the audit log holds no party
data either (services write explicit, party-free values)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicgrid.core.crypto import DigestField, EncryptedCharField
from civicgrid.core.limits import NOTE_CEILING

FOLLOW_UP_DAYS_MAX = 365


class MediationCase(models.Model):
    class Category(models.TextChoices):
        NEIGHBOUR = "neighbour", _("between neighbours")
        FAMILY = "family", _("within a family")
        PROPERTY = "property", pgettext_lazy("dispute category", "property management")
        TENANCY = "tenancy", _("tenancy")
        OTHER = "other", _("other")

    class State(models.TextChoices):
        OPEN = "open", _("in mediation")
        AGREED = "agreed", _("agreement reached")
        FAILED = "failed", _("no agreement")
        CLOSED = "closed", _("closed after the follow-up")

    class FollowUp(models.TextChoices):
        NONE = "none", _("none")
        SCHEDULED = "scheduled", _("scheduled")
        DUE = "due", _("due")
        DONE = "done", _("done")

    code = models.CharField(max_length=24, unique=True, editable=False)
    category = models.CharField(_("kind of dispute"), max_length=12, choices=Category.choices)
    place = models.ForeignKey("registry.Place", on_delete=models.PROTECT, related_name="+", verbose_name=_("place"))
    place_path = models.CharField(max_length=255, db_index=True, editable=False)
    grid = models.ForeignKey("registry.Place", on_delete=models.PROTECT, related_name="+", editable=False)
    summary = models.TextField(_("the dispute"))  # confidential: the mediator and the director only
    mediator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="mediations", verbose_name=_("mediator"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    opened_at = models.DateTimeField(db_index=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN, db_index=True)
    agreed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    follow_up_days = models.PositiveSmallIntegerField(_("follow-up visit after (days)"), default=30)
    follow_up_state = models.CharField(max_length=10, choices=FollowUp.choices, default=FollowUp.NONE)
    follow_up_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    followed_up_at = models.DateTimeField(null=True, blank=True)
    follow_up_note = models.TextField(blank=True)  # confidential

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(follow_up_days__gte=1, follow_up_days__lte=FOLLOW_UP_DAYS_MAX),
                                   name="mediation_follow_up_days_bounded"),
            models.CheckConstraint(condition=models.Q(state__in=["open", "agreed", "failed", "closed"]),
                                   name="mediation_state_known"),
            models.CheckConstraint(condition=LessThanOrEqual(Length("summary"), NOTE_CEILING),
                                   name="mediation_summary_bounded"),
            models.CheckConstraint(condition=LessThanOrEqual(Length("follow_up_note"), NOTE_CEILING),
                                   name="mediation_follow_up_note_bounded"),
            models.CheckConstraint(condition=~models.Q(follow_up_state="scheduled") | models.Q(follow_up_due_at__isnull=False),
                                   name="mediation_follow_up_has_date"),
        ]

    def __str__(self) -> str:
        return self.code  # never a party's name: this is what the audit log keeps as the record's name


class Party(models.Model):
    class Side(models.TextChoices):
        APPLICANT = "applicant", _("applicant")
        RESPONDENT = "respondent", _("respondent")
        OTHER = "other", _("other party")

    case = models.ForeignKey(MediationCase, on_delete=models.CASCADE, related_name="parties")
    side = models.CharField(_("side"), max_length=10, choices=Side.choices)
    name = EncryptedCharField(_("name"))
    phone = EncryptedCharField(_("phone"), blank=True, default="")
    phone_digest = DigestField(source="phone")
    signed_at = models.DateTimeField(_("signed the agreement"), null=True, blank=True)

    class Meta:
        ordering = ["case_id", "id"]
        indexes = [models.Index(fields=["phone_digest"], name="mediation_party_phone_dg")]
        constraints = [models.CheckConstraint(condition=models.Q(side__in=["applicant", "respondent", "other"]),
                                              name="mediation_party_side_known")]

    def __str__(self) -> str:
        return str(self.case_id)


class Session(models.Model):
    case = models.ForeignKey(MediationCase, on_delete=models.CASCADE, related_name="sessions")
    held_at = models.DateTimeField(_("held"))
    note = models.TextField(_("what was said and agreed"))  # confidential
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")

    class Meta:
        ordering = ["held_at", "id"]
        constraints = [models.CheckConstraint(condition=LessThanOrEqual(Length("note"), NOTE_CEILING),
                                              name="mediation_session_note_bounded")]

    def __str__(self) -> str:
        return str(self.case_id)


class Agreement(models.Model):
    case = models.OneToOneField(MediationCase, on_delete=models.CASCADE, related_name="agreement")
    text = models.TextField(_("agreement"))  # confidential
    made_at = models.DateTimeField()

    class Meta:
        constraints = [models.CheckConstraint(condition=LessThanOrEqual(Length("text"), NOTE_CEILING),
                                              name="mediation_agreement_bounded")]

    def __str__(self) -> str:
        return str(self.case_id)
