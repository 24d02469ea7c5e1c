"""Grid cases: the closed loop of digital grid management (report, register, dispatch, handle, verify,
close, rate). Models hold data and integrity constraints; the transition table is in transitions.py
and the rules in services.py."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils.translation import gettext_lazy as _

from civicgrid.alerts.text import localized
from civicgrid.core.limits import NOTE_CEILING

STATE_LABELS = {
    "reported": _("reported"), "registered": _("registered"), "dispatched": _("dispatched"),
    "handled": _("handled"), "verified": _("verified"), "closed": _("closed"), "dismissed": _("dismissed"),
}
LEVELS: tuple[str, ...] = ("grid", "community", "subdistrict", "district")
LEVEL_LABELS = {"grid": _("grid"), "community": _("community"), "subdistrict": _("sub-district"),
                "district": _("district")}


@lru_cache(maxsize=1)
def photo_storage() -> FileSystemStorage:
    """Case photos live under <var>/media/cases and are served only through the scoped photo view."""
    from civicgrid.config.settings.paths import VAR_DIR

    return FileSystemStorage(location=Path(VAR_DIR) / "media" / "cases")


class CaseCategory(models.Model):
    """A kind of affair with its time limit (hours from report to handling). Shipped from
    cases/data/categories.json; edits made here are kept."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=80)
    name_zh = models.CharField(_("name (Chinese)"), max_length=80)
    time_limit_hours = models.PositiveIntegerField(_("time limit (hours)"))
    order = models.PositiveSmallIntegerField(default=100)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["order", "code"]
        verbose_name_plural = "case categories"

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self.name_en, self.name_zh)


class Case(models.Model):
    class State(models.TextChoices):
        REPORTED = "reported", STATE_LABELS["reported"]
        REGISTERED = "registered", STATE_LABELS["registered"]
        DISPATCHED = "dispatched", STATE_LABELS["dispatched"]
        HANDLED = "handled", STATE_LABELS["handled"]
        VERIFIED = "verified", STATE_LABELS["verified"]
        CLOSED = "closed", STATE_LABELS["closed"]
        DISMISSED = "dismissed", STATE_LABELS["dismissed"]

    code = models.CharField(max_length=24, unique=True, editable=False)
    category = models.ForeignKey(CaseCategory, on_delete=models.PROTECT, related_name="cases",
                                 verbose_name=_("category"))
    place = models.ForeignKey("registry.Place", on_delete=models.PROTECT, related_name="cases",
                              verbose_name=_("place"))
    place_path = models.CharField(max_length=255, db_index=True, editable=False)
    grid = models.ForeignKey("registry.Place", on_delete=models.PROTECT, related_name="grid_cases",
                             editable=False)
    household = models.ForeignKey("registry.Household", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="cases", verbose_name=_("household concerned"))
    description = models.TextField(_("description"))
    photo = models.FileField(_("photo"), storage=photo_storage, upload_to="%Y/%m/", blank=True)
    source = models.CharField(max_length=60, blank=True, help_text="what filed it, e.g. sweep:3 or isolation:7")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="reported_cases")
    reporter_label = models.CharField(max_length=80, blank=True, help_text="who reported it, when not a user")
    state = models.CharField(max_length=12, choices=State.choices, default=State.REPORTED, db_index=True)
    level = models.CharField(max_length=12, default="grid", choices=[(k, v) for k, v in LEVEL_LABELS.items()])
    handler = models.ForeignKey("registry.Actor", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="cases", verbose_name=_("handling actor"))
    reported_at = models.DateTimeField(db_index=True)
    due_at = models.DateTimeField(help_text="time limit for handling, from the category")
    level_due_at = models.DateTimeField(help_text="when the current level's time runs out")
    registered_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("satisfaction (1-5)"), null=True, blank=True)
    rating_comment = models.CharField(_("comment"), max_length=300, blank=True)

    class Meta:
        ordering = ["-reported_at", "-id"]
        indexes = [models.Index(fields=["state", "level_due_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                                   name="case_rating_1_5"),
            models.CheckConstraint(condition=LessThanOrEqual(Length("description"), NOTE_CEILING),
                                   name="case_description_bounded"),
        ]

    def __str__(self) -> str:
        return str(self.code)


class CaseEvent(models.Model):
    """One step of a case's history, shown as its timeline: who did what, with which reason."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    action = models.CharField(max_length=16)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    level = models.CharField(max_length=12)
    handler = models.ForeignKey("registry.Actor", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.CheckConstraint(condition=LessThanOrEqual(Length("note"), NOTE_CEILING),
                                              name="case_event_note_bounded")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.at:%Y-%m-%d %H:%M}"

    # the timeline in words (the stored codes are the transitions' names)
    @property
    def action_label(self) -> str:
        from civicgrid.cases.transitions import ACTION_LABELS

        return str(ACTION_LABELS.get(self.action, self.action))

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS.get(self.to_state, self.to_state))

    @property
    def level_label(self) -> str:
        return str(LEVEL_LABELS.get(self.level, self.level))

