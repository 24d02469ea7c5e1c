"""Volunteers, their courses and hours, the time bank, paired help and care visits.

The hours ledger and the time bank's transfers are append-only: rows are written once by the services
(``civicgrid.volunteers.services``) and never updated or deleted (their querysets and ``save`` refuse, as
the audit log's do). A manual entry counts once a second person approves it (a row of its own).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicgrid.core.servicekinds import SERVICE_KINDS
from civicgrid.registry.models import Person, Place, Resident

SKILLS = {
    "elderly_care": _("elderly care"),
    "first_aid": _("first aid"),
    "counselling": _("counselling"),
    "driving": _("driving"),
    "lifting": _("carrying and lifting"),
    "sign_language": _("sign language"),
    "dialect": _("local dialect"),
}
# The skill that makes a volunteer a better match for a kind of work (matching, not a prerequisite:
# prerequisites are courses, see Course.required_for).
KIND_SKILLS = {"care_visit": "elderly_care", "delivery": "lifting", "sweep": "first_aid",
               "psychosocial": "counselling", "medical_escort": "driving"}
ALL_DAYS = 127  # availability as a bit mask, Monday = bit 0
WEEKDAYS = (_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun"))


class AppendOnlyQuerySet(models.QuerySet[Any]):
    """Ledger rows are never rewritten: the same refusal as the audit log's (core.models.AuditLog)."""

    def update(self, **kwargs: Any) -> int:
        raise PermissionError("the ledger is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("the ledger is append-only")

    def _raw_delete(self, using: Any) -> int:
        raise PermissionError("the ledger is append-only")

    def bulk_update(self, objs: Any, *args: Any, **kwargs: Any) -> int:
        raise PermissionError("the ledger is append-only")


class AppendOnly(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("the ledger is append-only")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("the ledger is append-only")


class Course(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("course"), max_length=100)
    required_for = models.CharField(_("required before"), max_length=20, blank=True,
                                    choices=list(SERVICE_KINDS.items()))
    valid_months = models.PositiveSmallIntegerField(_("valid for (months)"), default=24)

    class Meta:
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=Q(valid_months__gte=1, valid_months__lte=120),
                                              name="volunteers_course_valid_1_120")]

    def __str__(self) -> str:
        return self.name


class Volunteer(models.Model):
    """A registry person who volunteers (a resident or not); their teams are their registry posts."""

    person = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="volunteer")
    home = models.ForeignKey(Place, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("where they live or serve"))
    place_path = models.CharField(max_length=255, db_index=True)
    skills = models.JSONField(_("skills"), default=list, blank=True)
    days = models.PositiveSmallIntegerField(_("available days"), default=ALL_DAYS)
    from_hour = models.PositiveSmallIntegerField(pgettext_lazy("hour", "from"), default=8)
    to_hour = models.PositiveSmallIntegerField(_("until"), default=20)
    joined_on = models.DateField(_("joined"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["person__code"]
        constraints = [
            models.CheckConstraint(condition=Q(days__lte=ALL_DAYS), name="volunteers_days_mask"),
            models.CheckConstraint(condition=Q(from_hour__lt=models.F("to_hour"), to_hour__lte=24),
                                   name="volunteers_hours_window"),
        ]

    def __str__(self) -> str:
        return self.person.name

    def available_on(self, weekday: int, hour: int) -> bool:
        return bool(self.days >> weekday & 1) and self.from_hour <= hour < self.to_hour


class Certificate(models.Model):
    """A course attended: the volunteer may take the work it opens until it expires."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="certificates")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="certificates")
    attended_on = models.DateField(_("attended"))
    expires_on = models.DateField(_("expires"))
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        ordering = ["-attended_on", "id"]
        constraints = [models.CheckConstraint(condition=Q(expires_on__gt=models.F("attended_on")),
                                              name="volunteers_certificate_expires_after")]

    def __str__(self) -> str:
        return f"{self.course} ({self.attended_on})"


class HelperAssignment(models.Model):
    """Paired help (结对帮扶): a named helper visits one vulnerable resident every ``every_days`` days."""

    class Kind(models.TextChoices):
        VOLUNTEER = "volunteer", _("volunteer")
        GRID_MEMBER = "grid_member", _("grid member")
        NEIGHBOUR = "neighbour", _("neighbour")

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="helpers")
    helper = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="helping")
    kind = models.CharField(_("helper"), max_length=12, choices=Kind.choices)
    every_days = models.PositiveSmallIntegerField(_("visit every (days)"))
    grid = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")
    place_path = models.CharField(max_length=255, db_index=True)
    started_on = models.DateField(_("since"))
    ended_on = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        ordering = ["place_path", "id"]
        constraints = [
            models.UniqueConstraint(fields=["resident"], condition=Q(ended_on__isnull=True),
                                    name="volunteers_one_active_helper"),
            models.CheckConstraint(condition=Q(every_days__gte=1, every_days__lte=90),
                                   name="volunteers_every_1_90"),
        ]

    def __str__(self) -> str:
        return f"{self.helper} → {self.resident}"


class CareVisit(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("waiting for a volunteer")
        CLAIMED = "claimed", _("care visit to make")
        DONE = "done", _("done")
        MISSED = "missed", _("missed")

    class Outcome(models.TextChoices):
        WELL = "well", _("all well")
        NEEDS_HELP = "needs_help", _("needs help")
        NOT_HOME = "not_home", _("not at home")

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="care_visits")
    assignment = models.ForeignKey(HelperAssignment, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="visits")
    grid = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")
    place_path = models.CharField(max_length=255, db_index=True)
    due_on = models.DateField(_("due"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    visitor = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="care_visits")
    claimed_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(_("visited"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, blank=True, choices=Outcome.choices)
    minutes = models.PositiveSmallIntegerField(pgettext_lazy("duration", "minutes"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["status", "due_on"]), models.Index(fields=["visitor", "status"])]
        constraints = [
            models.CheckConstraint(condition=~Q(status__in=["claimed", "done"]) | Q(visitor__isnull=False),
                                   name="volunteers_visit_has_visitor"),
            models.CheckConstraint(condition=~Q(status="done") | Q(done_at__isnull=False, minutes__gte=1,
                                                                   minutes__lte=480),
                                   name="volunteers_visit_done_complete"),
        ]

    def __str__(self) -> str:
        return f"{self.resident} {self.due_on}"


class HoursEntry(AppendOnly):
    """One line of a volunteer's service hours. A line posted from a confirmed act names it (one line per
    act: the unique constraint); a line typed by hand describes the act and counts once approved."""

    class Source(models.TextChoices):
        DELIVERY = "delivery", _("delivery confirmed by the household's code")
        SWEEP = "sweep", _("door-to-door sweep visit")
        CARE_VISIT = "care_visit", _("care visit")
        MANUAL = "manual", _("typed by hand")

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="hours")
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=2)
    on = models.DateField(_("date"))
    place_path = models.CharField(max_length=255, db_index=True)
    note = models.CharField(_("what was done"), max_length=200, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-on", "-id"]
        # the ledger's order: a page of the district's 780k lines (1M households) read from the index's
        # head, not sorted out of all of them
        indexes = [models.Index(fields=["-on", "-id"], name="volunteers_hours_latest")]
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], condition=~Q(source="manual"),
                                    name="volunteers_one_entry_per_act"),
            models.CheckConstraint(condition=Q(hours__gt=0, hours__lte=Decimal("24")),
                                   name="volunteers_hours_0_24"),
            models.CheckConstraint(condition=(Q(source="manual", source_id__isnull=True) & ~Q(note=""))
                                   | (~Q(source="manual") & Q(source_id__isnull=False)),
                                   name="volunteers_hours_have_a_record"),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} {self.hours}h {self.on}"


class HoursApproval(AppendOnly):
    """A second person's decision on an entry typed by hand (never the one who typed it, nor the volunteer)."""

    entry = models.OneToOneField(HoursEntry, on_delete=models.PROTECT, related_name="approval")
    approved = models.BooleanField(_("approved"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    def __str__(self) -> str:
        return f"#{self.entry_id} {'+' if self.approved else '-'}"


class TimeAccount(models.Model):
    """A time-bank account: a person's (never below zero), or a community's pool, which issues the
    credits earned by service (its balance is minus the credits in circulation)."""

    person = models.OneToOneField(Person, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="time_account")
    community = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")
    place_path = models.CharField(max_length=255, db_index=True)
    balance = models.IntegerField(_("balance (minutes)"), default=0)

    class Meta:
        ordering = ["place_path", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(person__isnull=True) | Q(balance__gte=0),
                                   name="volunteers_no_negative_balance"),
            models.UniqueConstraint(fields=["community"], condition=Q(person__isnull=True),
                                    name="volunteers_one_pool_per_community"),
        ]

    def __str__(self) -> str:
        return str(self.person or self.community)


class TimeTransfer(AppendOnly):
    """Credits moved from one account to another: one row is both the debit and the credit (double entry
    by construction), written with both balances in one transaction."""

    class Kind(models.TextChoices):
        EARNED = "earned", _("earned by service")
        SPENT = "spent", _("spent on a service")

    from_account = models.ForeignKey(TimeAccount, on_delete=models.PROTECT, related_name="outgoing")
    to_account = models.ForeignKey(TimeAccount, on_delete=models.PROTECT, related_name="incoming")
    minutes = models.PositiveIntegerField(pgettext_lazy("duration", "minutes"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    note = models.CharField(_("for"), max_length=200)
    place_path = models.CharField(max_length=255, db_index=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                           related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        # the time bank's list, newest first: read from this index instead of sorting a district's 215,000
        # transfers on every request (on disk, 180 ms at 1,000,000 households; issue 15)
        indexes = [models.Index(fields=["-at", "-id"], name="volunteers_transfer_latest")]
        constraints = [
            models.CheckConstraint(condition=Q(minutes__gte=1, minutes__lte=6000), name="volunteers_transfer_1_6000"),
            models.CheckConstraint(condition=~Q(from_account=models.F("to_account")),
                                   name="volunteers_transfer_two_accounts"),
        ]

    def __str__(self) -> str:
        return f"{self.minutes}′ {self.from_account_id}→{self.to_account_id}"
