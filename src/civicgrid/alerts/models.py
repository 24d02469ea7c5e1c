"""Alerts to residents (CAP 1.2 fields), their queued deliveries, acknowledgements, rumour
clarifications, and personal in-app notices. Rules live in services.py."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicgrid.alerts.text import localized


class Alert(models.Model):
    """One published alert. Field names follow CAP 1.2 (OASIS), so :mod:`civicgrid.alerts.cap` can
    render it without guessing."""

    class Status(models.TextChoices):
        ACTUAL = "Actual", _("Actual")
        EXERCISE = "Exercise", _("Exercise (drill)")
        TEST = "Test", _("Test")

    class MsgType(models.TextChoices):
        ALERT = "Alert", _("Alert")
        UPDATE = "Update", _("Update")
        CANCEL = "Cancel", _("Cancel")

    class Group(models.TextChoices):
        ALL = "all", _("Everyone in the area")
        VULNERABLE = "vulnerable", pgettext_lazy("alert audience", "Vulnerable households")
        VOLUNTEERS = "volunteers", _("Volunteers")
        GRID_MEMBERS = "grid_members", _("Grid members")

    class Category(models.TextChoices):
        GEO = "Geo", _("Geophysical (earthquake, landslide)")
        MET = "Met", _("Meteorological (flood, storm)")
        SAFETY = "Safety", _("General safety")
        SECURITY = "Security", _("Security")
        RESCUE = "Rescue", _("Rescue and recovery")
        FIRE = "Fire", _("Fire")
        HEALTH = "Health", _("Public health")
        ENV = "Env", _("Environment")
        TRANSPORT = "Transport", _("Transport")
        INFRA = "Infra", _("Infrastructure and utilities")
        OTHER = "Other", _("Other")

    class Urgency(models.TextChoices):
        IMMEDIATE = "Immediate", _("Immediate")
        EXPECTED = "Expected", _("Expected")
        FUTURE = "Future", _("Future")
        PAST = "Past", _("Past")
        UNKNOWN = "Unknown", _("Unknown")

    class Severity(models.TextChoices):
        EXTREME = "Extreme", _("Extreme")
        SEVERE = "Severe", _("Severe")
        MODERATE = "Moderate", _("Moderate")
        MINOR = "Minor", _("Minor")
        UNKNOWN = "Unknown", _("Unknown")

    class Certainty(models.TextChoices):
        OBSERVED = "Observed", _("Observed")
        LIKELY = "Likely", _("Likely")
        POSSIBLE = "Possible", _("Possible")
        UNLIKELY = "Unlikely", _("Unlikely")
        UNKNOWN = "Unknown", _("Unknown")

    identifier = models.CharField(max_length=80, unique=True, editable=False)
    area = models.ForeignKey("registry.Place", on_delete=models.PROTECT, related_name="alerts",
                             verbose_name=_("area"))
    area_path = models.CharField(max_length=255, db_index=True, editable=False)
    group = models.CharField(_("who"), max_length=16, choices=Group.choices, default=Group.ALL)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTUAL)
    msg_type = models.CharField(_("message type"), max_length=8, choices=MsgType.choices,
                                default=MsgType.ALERT)
    references = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="updates", verbose_name=_("updates or cancels"))
    category = models.CharField(_("category"), max_length=10, choices=Category.choices,
                                default=Category.SAFETY)
    event_en = models.CharField(_("event (English)"), max_length=100, blank=True)
    event_zh = models.CharField(_("event (Chinese)"), max_length=100, blank=True)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices,
                               default=Urgency.EXPECTED)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices,
                                default=Severity.MODERATE)
    certainty = models.CharField(_("certainty"), max_length=10, choices=Certainty.choices,
                                 default=Certainty.LIKELY)
    headline_en = models.CharField(_("headline (English)"), max_length=160, blank=True)
    headline_zh = models.CharField(_("headline (Chinese)"), max_length=160, blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    instruction_en = models.TextField(_("instruction (English)"), blank=True)
    instruction_zh = models.TextField(_("instruction (Chinese)"), blank=True)
    sent_at = models.DateTimeField(_("sent"), db_index=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    sender_name = models.CharField(max_length=120, blank=True)
    source = models.CharField(max_length=60, blank=True, db_index=True,
                              help_text="what raised it, e.g. emergency:12")
    channels = models.JSONField(default=list, blank=True)
    n_households_targeted = models.PositiveIntegerField(default=0, editable=False)
    n_people_targeted = models.PositiveIntegerField(default=0, editable=False)
    n_acknowledged = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return self.headline or self.identifier


    @property
    def headline(self) -> str:
        return localized(self.headline_en, self.headline_zh)

    @property
    def description(self) -> str:
        return localized(self.description_en, self.description_zh)

    @property
    def instruction(self) -> str:
        return localized(self.instruction_en, self.instruction_zh)

    @property
    def event(self) -> str:
        return localized(self.event_en, self.event_zh)

    @property
    def n_targeted(self) -> int:
        return self.n_households_targeted + self.n_people_targeted

    @property
    def reach_rate(self) -> float | None:
        """Share of the targeted households and people who acknowledged (None when nobody was targeted)."""
        return self.n_acknowledged / self.n_targeted if self.n_targeted else None

    @property
    def is_restricted(self) -> bool:
        """Alerts to volunteers or grid members are for the responders, not the public feed."""
        return self.group in {self.Group.VOLUNTEERS, self.Group.GRID_MEMBERS}


class Delivery(models.Model):
    """One message waiting in (or gone through) the outbox. The address is looked up at sending time
    from the household, person or user, so no phone number is copied here."""

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("E-mail")

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    household = models.ForeignKey("registry.Household", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="+")
    person = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    gateway_id = models.CharField(max_length=100, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"]),
                   # the outbox's claim reads the due rows in this order; sent rows leave the index
                   models.Index(fields=["next_attempt_at", "id"], condition=models.Q(state="queued"),
                                name="delivery_due")]

    def __str__(self) -> str:
        return str(self.alert_id)


class SendBudget(models.Model):
    """The next free sending slot of one gateway (seconds since the epoch), shared by every sender: each
    takes its slots by moving it forward in one statement, so senders in several processes or machines
    together keep to the gateway's limit (:mod:`civicgrid.alerts.pacing`)."""

    gateway = models.CharField(max_length=100, unique=True)
    next_slot = models.FloatField(default=0.0)

    def __str__(self) -> str:
        return f"{self.gateway} {self.next_slot}"


class Acknowledgement(models.Model):
    """'I have read this': by a resident for their household, or by a volunteer or grid member."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="acknowledgements")
    household = models.ForeignKey("registry.Household", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="+")
    person = models.ForeignKey("registry.Person", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["alert", "household"], condition=models.Q(household__isnull=False),
                                    name="ack_once_per_household"),
            models.UniqueConstraint(fields=["alert", "person"], condition=models.Q(person__isnull=False),
                                    name="ack_once_per_person"),
            models.CheckConstraint(condition=models.Q(household__isnull=False) | models.Q(person__isnull=False),
                                   name="ack_has_subject"),
        ]

    def __str__(self) -> str:
        return str(self.alert_id)


class Clarification(models.Model):
    """A rumour and the authoritative answer to it, attached to an alert (seed 000, 4.3: 'clarify
    doubts timely')."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="clarifications")
    question_en = models.CharField(_("rumour or question (English)"), max_length=300, blank=True)
    question_zh = models.CharField(_("rumour or question (Chinese)"), max_length=300, blank=True)
    answer_en = models.TextField(_("authoritative answer (English)"), blank=True)
    answer_zh = models.TextField(_("authoritative answer (Chinese)"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.question


    @property
    def question(self) -> str:
        return localized(self.question_en, self.question_zh)

    @property
    def answer(self) -> str:
        return localized(self.answer_en, self.answer_zh)


class Notice(models.Model):
    """A personal in-app notice (a missed check-in for the grid member, an escalated case for the
    community). Broadcast alerts are not copied here: the notices page finds them by area and group."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    title_en = models.CharField(max_length=200)
    title_zh = models.CharField(max_length=200)
    body_en = models.TextField(blank=True)
    body_zh = models.TextField(blank=True)
    link = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=60, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return localized(self.title_en, self.title_zh)

    @property
    def body(self) -> str:
        return localized(self.body_en, self.body_zh)
