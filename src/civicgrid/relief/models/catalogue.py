"""The catalogue and where stock is kept: :class:`Item` (with ``CATEGORIES``, the categories of items and
needs) and :class:`DistributionPoint`; ``_choices`` turns a label mapping into a field's choices.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from civicgrid.registry.models import Place

CATEGORIES = {
    "food": _("Food"),
    "water": _("Drinking water"),
    "medicine": _("Medicine"),
    "medical_transport": _("Medical transport"),
    "care": _("Care"),
    "shelter": _("Shelter"),
    "psychosocial": _("Psychosocial support"),
    "other": _("Other"),
}


def _choices(labels: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return list(labels.items())


class Item(models.Model):
    """A catalogue entry. ``unit_size`` says how much of ``measure`` one unit holds (a 2,100 kcal ration,
    a 5 L bottle); ``per_person_per_day`` is the default need in that measure (Sphere: 15 L water,
    2,100 kcal food); ``sphere_kind`` makes the round's floor the Sphere minimum for the household's size.
    """

    SPHERE_KINDS = {"": _("none"), "water": _("water (15 L per person per day)"),
                    "food": _("food (2,100 kcal per person per day)")}

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name (English)"), max_length=100)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100, blank=True)
    category = models.CharField(_("category"), max_length=20, choices=_choices(CATEGORIES))
    unit = models.CharField(_("unit (English)"), max_length=30, default="unit")
    unit_zh = models.CharField(_("unit (Chinese)"), max_length=30, blank=True)
    measure = models.CharField(_("measure"), max_length=10, blank=True, help_text=_("e.g. kcal or L"))
    unit_size = models.FloatField(_("measure per unit"), default=1.0)
    per_person_per_day = models.FloatField(_("default per person per day"), null=True, blank=True)
    sphere_kind = models.CharField(_("Sphere floor"), max_length=5, blank=True, default="",
                                   choices=_choices(SPHERE_KINDS))
    life_critical = models.BooleanField(_("life-critical"), default=False)
    floor_units = models.PositiveIntegerField(
        _("minimum units per request"), default=1,
        help_text=_("the floor of items without a Sphere standard, capped by the need"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["category", "code"]
        constraints = [models.CheckConstraint(condition=Q(unit_size__gt=0), name="relief_item_unit_size_positive")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.name_zh if self.name_zh and (get_language() or "").startswith("zh") else self.name

    @property
    def unit_label(self) -> str:
        return self.unit_zh if self.unit_zh and (get_language() or "").startswith("zh") else self.unit

    def default_quantity(self, *, persons: int, days: float) -> int:
        """Units covering ``persons`` for ``days`` at the per-person default (at least one unit)."""
        if not self.per_person_per_day:
            return 1
        return max(1, math.ceil(persons * self.per_person_per_day * days / self.unit_size - 1e-9))


class DistributionPoint(models.Model):
    """Where stock is kept and handed out. A household draws on the point of its nearest enclosing place
    (its grid's point if there is one, else its community's)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="distribution_points",
                              verbose_name=_("serves"))
    address = models.CharField(_("address"), max_length=200, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name
