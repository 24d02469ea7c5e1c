"""Editable templates shipped as data: emergency plans per hazard and the checklists from the seeds."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.alerts.text import localized

HAZARDS = {"epidemic": _("Epidemic"), "earthquake": _("Earthquake"), "flood": _("Flood"),
           "fire": _("Fire"), "other": _("Other hazard")}
RESPONSE_LEVELS = {"I": _("Level I (most severe)"), "II": _("Level II"), "III": _("Level III"),
                   "IV": _("Level IV (least severe)")}


class PlanTemplate(models.Model):
    """An emergency plan for one hazard. ``body`` is the validated plan document
    (civicgrid.emergency.plan_format): command structure, tasks, checklists, stock targets, alert texts."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    hazard = models.CharField(_("hazard"), max_length=16, choices=list(HAZARDS.items()))
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120)
    default_level = models.CharField(_("default response level"), max_length=3, choices=list(RESPONSE_LEVELS.items()))
    body = models.JSONField()
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        ordering = ["hazard", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self.name_en, self.name_zh)


class ChecklistTemplate(models.Model):
    class Target(models.TextChoices):
        SITE = "site", _("a site (gate, courtyard, grid)")
        HOUSEHOLD = "household", _("a household")

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120)
    target = models.CharField(_("checked for"), max_length=10, choices=Target.choices)
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self.name_en, self.name_zh)


class ChecklistItem(models.Model):
    class Kind(models.TextChoices):
        ITEM = "item", _("item")
        DO = "do", _("do")
        DONT = "dont", _("don't")

    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="items")
    key = models.SlugField(max_length=40)
    order = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices, default=Kind.ITEM)
    text_en = models.CharField(_("text (English)"), max_length=200)
    text_zh = models.CharField(_("text (Chinese)"), max_length=200)
    from_seed = models.BooleanField(_("named in the seed text"), default=False)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["template_id", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["template", "key"], name="checklist_item_key_unique")]

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        return localized(self.text_en, self.text_zh)
