"""Grievances and appeals: a complaint about a relief round, a case, an organisation, a volunteer, a grid
member or a decision; its two clocks (the business clock from filing, never reset, and the current level's
clock, reset on escalation), both stopped only by a pause with a stated reason; the appeal to a reviewer
outside the handling chain. Rules are in services.py; the clock arithmetic in clock.py."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils.translation import gettext_lazy as _

from civicgrid.core.limits import NOTE_CEILING

LEVELS: tuple[str, ...] = ("grid", "community", "subdistrict", "district")
LEVEL_LABELS = {"grid": _("grid"), "community": _("community"), "subdistrict": _("sub-district"),
                "district": _("district")}


class Grievance(models.Model):
    class Kind(models.TextChoices):
        RELIEF_ROUND = "relief_round", _("a relief round")
        CASE = "case", _("a grid case")
        ORGANISATION = "organisation", _("an organisation")
        VOLUNTEER = "volunteer", _("a volunteer")
        GRID_MEMBER = "grid_member", _("a grid member")
        DECISION = "decision", _("a decision")
        OTHER = "other", _("something else")

    class State(models.TextChoices):
        OPEN = "open", _("being handled")
        CLOSED = "closed", _("answered")
        APPEALED = "appealed", _("under appeal")

    code = models.CharField(max_length=24, unique=True, editable=False)
    kind = models.CharField(_("about"), max_length=16, choices=Kind.choices)
    subject_ref = models.CharField(_("reference"), max_length=64, blank=True,
                                   help_text=_("the record complained about: its number, or its name"))
    subject_label = models.CharField(max_length=200, blank=True, editable=False)
    subject_path = models.CharField(max_length=255, blank=True, editable=False)  # where the subject lies
    description = models.TextField(_("what happened"))
    sensitive = models.BooleanField(_("sensitive"), default=False)
    household = models.ForeignKey("registry.Household", on_delete=models.PROTECT, related_name="grievances",
                                  verbose_name=_("household"))
    grid = models.ForeignKey("registry.Place", on_delete=models.PROTECT, related_name="+", editable=False)
    place_path = models.CharField(max_length=255, db_index=True, editable=False)
    # Where it may be seen: its place, or (sensitive track) the handling level's path with a "~/" segment no
    # grid's path begins with, so the chain it concerns does not see it (see services.visible_path).
    visible_path = models.CharField(max_length=255, db_index=True, editable=False)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN, db_index=True)
    level = models.CharField(max_length=12, choices=[(k, v) for k, v in LEVEL_LABELS.items()], default="grid")
    filed_at = models.DateTimeField(db_index=True)
    level_started_at = models.DateTimeField()
    paused_since = models.DateTimeField(null=True, blank=True)
    # Deadlines computed from the clock (None while paused: the clock stands still).
    response_due_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    level_due_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_on_time = models.BooleanField(null=True, blank=True)
    reply = models.TextField(_("answer"), blank=True)
    rating = models.PositiveSmallIntegerField(_("satisfaction (1-5)"), null=True, blank=True)

    class Meta:
        ordering = ["-filed_at", "-id"]
        indexes = [models.Index(fields=["state", "level_due_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                                   name="grievance_rating_1_5"),
            models.CheckConstraint(condition=LessThanOrEqual(Length("description"), NOTE_CEILING),
                                   name="grievance_description_bounded"),
            models.CheckConstraint(condition=LessThanOrEqual(Length("reply"), NOTE_CEILING),
                                   name="grievance_reply_bounded"),
            models.CheckConstraint(condition=models.Q(state__in=["open", "closed", "appealed"]),
                                   name="grievance_state_known"),
            models.CheckConstraint(condition=~models.Q(state="closed") | models.Q(closed_at__isnull=False),
                                   name="grievance_closed_has_time"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def level_label(self) -> str:
        return str(LEVEL_LABELS.get(self.level, self.level))


class Pause(models.Model):
    """One stop of the clock, with its stated reason; ``ended_at`` None while it lasts."""

    class Reason(models.TextChoices):
        AWAITING_COMPLAINANT = "awaiting_complainant", _("waiting for the complainant's information")
        AWAITING_THIRD_PARTY = "awaiting_third_party", _("waiting for another body's finding")
        COMPLAINANT_REQUEST = "complainant_request", _("the complainant asked to wait")
        IN_MEDIATION = "in_mediation", _("the dispute is in mediation")

    grievance = models.ForeignKey(Grievance, on_delete=models.CASCADE, related_name="pauses")
    reason = models.CharField(_("reason"), max_length=24, choices=Reason.choices)
    note = models.CharField(_("explanation"), max_length=500)
    # the mediation the dispute went to (reason "in_mediation"): its code, checked when the pause is made
    mediation_code = models.CharField(_("mediation"), max_length=24, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ended_at__isnull=True) | models.Q(ended_at__gte=models.F("started_at")),
                                   name="grievance_pause_ordered"),
            models.CheckConstraint(condition=~models.Q(note=""), name="grievance_pause_explained"),
            models.UniqueConstraint(fields=["grievance"], condition=models.Q(ended_at__isnull=True),
                                    name="grievance_one_open_pause"),
        ]

    def __str__(self) -> str:
        return str(self.grievance_id)


class Step(models.Model):
    """One step of the timeline: who did what, at which level, with which note."""

    grievance = models.ForeignKey(Grievance, on_delete=models.CASCADE, related_name="steps")
    at = models.DateTimeField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    action = models.CharField(max_length=16)
    level = models.CharField(max_length=12)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.CheckConstraint(condition=LessThanOrEqual(Length("note"), NOTE_CEILING),
                                              name="grievance_step_note_bounded")]

    def __str__(self) -> str:
        return str(self.grievance_id)


class Appeal(models.Model):
    class Outcome(models.TextChoices):
        PENDING = "pending", _("waiting for the reviewer")
        UPHELD = "upheld", _("upheld")
        DISMISSED = "dismissed", _("not upheld")

    grievance = models.ForeignKey(Grievance, on_delete=models.PROTECT, related_name="appeals")
    reason = models.TextField(_("why you appeal"))
    filed_at = models.DateTimeField()
    due_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision = models.TextField(_("the reviewer's reasons"), blank=True)

    class Meta:
        ordering = ["-filed_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(outcome__in=["pending", "upheld", "dismissed"]),
                                   name="appeal_outcome_known"),
            models.CheckConstraint(condition=models.Q(outcome="pending") | models.Q(decided_at__isnull=False),
                                   name="appeal_decided_has_time"),
            models.CheckConstraint(condition=LessThanOrEqual(Length("reason"), NOTE_CEILING), name="appeal_reason_bounded"),
            models.CheckConstraint(condition=LessThanOrEqual(Length("decision"), NOTE_CEILING),
                                   name="appeal_decision_bounded"),
            models.UniqueConstraint(fields=["grievance"], condition=models.Q(outcome="pending"),
                                    name="appeal_one_pending"),
        ]

    def __str__(self) -> str:
        return str(self.grievance_id)
