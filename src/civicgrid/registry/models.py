"""The registry: places, households, residents, and the actors of governance with the people who hold
posts in them. Models hold data and integrity constraints only; rules live in services.py."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from civicgrid.core.crypto import DigestField, EncryptedCharField
from civicgrid.core.textsearch import TextIndex
from civicgrid.engine import registry_format as fmt


def _choices(values: tuple[str, ...], labels: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [(v, labels.get(v, v)) for v in values]


LEVEL_LABELS = {"district": _("District"), "subdistrict": _("Sub-district"), "community": _("Community"),
                "grid": _("Grid"), "building": _("Building")}
SECTOR_LABELS = {"state": _("State"), "capital": _("Capital"), "society": _("Society")}
# The critical functions an actor declares capacities for (households served), by their names.
CRITICAL_FUNCTION_LABELS = {"food_supply": _("Food supply"), "medicine": _("Medicine"),
                            "care_vulnerable": _("Care for vulnerable people"),
                            "information_release": _("Information release"), "access_control": _("Access control"),
                            "shelter": _("Shelter")}
KIND_LABELS = {
    "party_committee": _("Party committee"), "subdistrict_office": _("Sub-district office"),
    "government_department": _("Government department"), "residents_committee": _("Residents' committee"),
    "property_management": _("Property-management company"), "enterprise": _("Enterprise"), "shop": _("Shop"),
    "social_organisation": _("Social organisation"), "foundation": _("Foundation"),
    "volunteer_team": _("Volunteer team"), "resident_self_organisation": _("Resident self-organisation"),
}
HOUSING_LABELS = {"commodity": _("Commodity housing"), "old_estate": _("Old estate"),
                  "resettlement": _("Resettlement housing"), "public_rental": _("Public rental"),
                  "self_built": _("Self-built house")}
INCOME_LABELS = {"normal": _("Normal"), "low_income": _("Low income"),
                 "dibao": _("Minimum living allowance (dibao)"), "tekun": _("Extreme-poverty support (tekun)")}
RELATION_LABELS = {"head": _("Head"), "spouse": _("Spouse"), "child": _("Child"), "parent": _("Parent"),
                   "grandchild": _("Grandchild"), "sibling": _("Sibling"), "other": _("Other")}
DISABILITY_LABELS = {"physical": _("Physical"), "hearing": _("Hearing"), "visual": _("Visual"),
                     "speech": _("Speech"), "intellectual": _("Intellectual"), "mental": _("Mental"),
                     "multiple": _("Multiple")}


class Place(models.Model):
    """A node of the hierarchy district > sub-district > community > grid > building.

    ``path`` is the chain of codes from the root ("D01/D01-S01/D01-S01-C01/"), so "everything inside this
    place" is one indexed prefix query: the basis of role scoping.
    """

    level = models.CharField(_("level"), max_length=16, choices=_choices(fmt.PLACE_LEVELS, LEVEL_LABELS))
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    path = models.CharField(max_length=255, unique=True, editable=False)
    geometry = models.JSONField(_("GeoJSON geometry"), null=True, blank=True)

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name


def vulnerable_score() -> float:
    """The one definition of a "vulnerable" household: its score reaches CIVICGRID_VULNERABLE_SCORE
    (settings/civicgrid.py). Every app (alerts to vulnerable households, sweeps' order, relief's group
    reports, governance stress tests, the CREI) uses this, never its own threshold."""
    return float(settings.CIVICGRID_VULNERABLE_SCORE)


def is_vulnerable(score: float) -> bool:
    return score >= vulnerable_score()


def vulnerable_filter(via: str = "") -> models.Q:
    """The vulnerable households as a filter, for any queryset of households, or of rows that belong to
    one through ``via`` (``"household__"`` for residents)."""
    return models.Q(**{f"{via}vulnerability_score__gte": vulnerable_score()})


class HouseholdQuerySet(models.QuerySet["Household"]):
    def vulnerable(self) -> HouseholdQuerySet:
        return self.filter(vulnerable_filter())


class Household(models.Model):
    code = models.CharField(_("household code"), max_length=40, unique=True)
    building = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="households",
                                 limit_choices_to={"level": "building"}, verbose_name=_("building"))
    grid = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="grid_households", editable=False)
    place_path = models.CharField(max_length=255, db_index=True, editable=False)
    address = models.CharField(_("address"), max_length=200)
    housing_type = models.CharField(_("housing type"), max_length=20,
                                    choices=_choices(fmt.HOUSING_TYPES, HOUSING_LABELS))
    income_status = models.CharField(_("income status"), max_length=20, default="normal",
                                     choices=_choices(("normal", "low_income", "dibao", "tekun"), INCOME_LABELS))
    contact_phone = EncryptedCharField(_("contact phone"), blank=True, default="")
    contact_phone_digest = DigestField(source="contact_phone")
    size = models.PositiveIntegerField(_("household size"), default=0, editable=False)
    vulnerability_score = models.FloatField(_("vulnerability score"), default=0.0, editable=False)
    vulnerability_weight = models.FloatField(default=1.0, editable=False)
    vulnerability_rule = models.CharField(max_length=20, blank=True, editable=False)
    vulnerability_summary = models.CharField(max_length=300, blank=True, editable=False)

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["contact_phone_digest"], name="registry_household_phone_dg")]

    def __str__(self) -> str:
        return f"{self.code} {self.address}"

    @property
    def is_vulnerable(self) -> bool:
        return is_vulnerable(self.vulnerability_score)

    @property
    def vulnerability_text(self) -> str:
        """The vulnerability reasons in the reader's language (the stored summary is the engine's English)."""
        from civicgrid.registry.vulnerability_words import summary_text

        return summary_text(self.vulnerability_summary)


class Resident(models.Model):
    code = models.CharField(_("resident code"), max_length=40, unique=True)
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="residents",
                                  verbose_name=_("household"))
    name = models.CharField(_("name"), max_length=60, db_index=True)  # indexed for "names starting with"
    # pinyin initials of the name ("zsf" for 张三丰), for search; see civicgrid.registry.pinyin
    name_initials = models.CharField(max_length=60, blank=True, default="", db_index=True, editable=False)
    sex = models.CharField(_("sex"), max_length=1, choices=[("M", _("Male")), ("F", _("Female"))])
    birth_date = models.DateField(_("birth date"))
    relation = models.CharField(_("relation to head"), max_length=16,
                                choices=_choices(fmt.RELATIONS, RELATION_LABELS))
    id_number = EncryptedCharField(_("national ID number"), blank=True, default="")
    id_number_digest = DigestField(source="id_number")
    phone = EncryptedCharField(_("phone"), blank=True, default="")
    phone_digest = DigestField(source="phone")
    lives_alone = models.BooleanField(_("lives alone"), default=False)
    disability_kind = models.CharField(_("disability kind"), max_length=16, blank=True,
                                       choices=_choices(fmt.DISABILITY_KINDS, DISABILITY_LABELS))
    disability_grade = models.PositiveSmallIntegerField(_("disability grade (1-4)"), null=True, blank=True)
    chronic_illness = models.BooleanField(_("chronic illness"), default=False)
    pregnant = models.BooleanField(_("pregnant"), default=False)
    limited_mobility = models.BooleanField(_("limited mobility"), default=False)
    language_barrier = models.BooleanField(_("language barrier"), default=False)
    mental_health_needs = models.BooleanField(_("mental-health needs"), default=False)

    class Meta:
        ordering = ["household_id", "id"]
        indexes = [models.Index(fields=["id_number_digest"], name="registry_resident_id_dg"),
                   models.Index(fields=["phone_digest"], name="registry_resident_phone_dg")]
        constraints = [
            models.UniqueConstraint(fields=["id_number_digest"], condition=~models.Q(id_number_digest=""),
                                    name="resident_unique_id_number"),
            models.CheckConstraint(condition=models.Q(disability_grade__isnull=True)
                                   | models.Q(disability_grade__gte=1, disability_grade__lte=4),
                                   name="resident_disability_grade_1_4"),
        ]

    def __str__(self) -> str:
        return self.name


    def age_on(self, day: date | None = None) -> int:
        day = day or date.today()
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))

    @property
    def age(self) -> int:
        return self.age_on()


# The columns searched by substring (civicgrid.core.textsearch; created by migration 0003): trigram
# indexes on PostgreSQL, FTS5 tables on SQLite.
HOUSEHOLD_TEXT = TextIndex(table="registry_household", columns=("code", "address"))
RESIDENT_TEXT = TextIndex(table="registry_resident", columns=("name",))


class Actor(models.Model):
    """An organisation that takes part in governance, tagged with its sector (seed 001: state, capital,
    society)."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    sector = models.CharField(_("sector"), max_length=10, choices=_choices(fmt.SECTORS, SECTOR_LABELS))
    kind = models.CharField(_("kind"), max_length=32, choices=_choices(fmt.ACTOR_KINDS, KIND_LABELS))
    service_area = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="actors",
                                     verbose_name=_("service area"))
    capacities = models.JSONField(_("capacities (households per critical function)"), default=dict, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    """Someone who holds posts in actors (staff, grid members, volunteers); may also be a resident."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    phone = EncryptedCharField(_("phone"), blank=True, default="")
    phone_digest = DigestField(source="phone")
    resident = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="people")

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["phone_digest"], name="registry_person_phone_dg")]

    def __str__(self) -> str:
        return self.name


# A post's role is free text from the registry file; these are the ones the platform itself uses
# (grid_member, volunteer: scoping reads them) and the titles the synthetic generator writes. Shown in
# the reader's language; any other title is shown as it was entered.
POST_ROLE_LABELS: dict[str, Any] = {
    "grid_member": _("grid member"), "volunteer": _("volunteer"), "secretary": _("party secretary"),
    "deputy secretary": _("deputy party secretary"), "director": _("director"), "chairman": _("chairman"),
    "manager": _("manager"), "staff": _("staff member"), "captain": _("team captain"),
    "convenor": _("convenor"),
}


class Post(models.Model):
    """A person's role in an actor. One person may hold posts in several actors (and sectors)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="posts")
    actor = models.ForeignKey(Actor, on_delete=models.CASCADE, related_name="posts")
    role = models.CharField(_("role"), max_length=40)
    is_key = models.BooleanField(_("key post"), default=False)
    place = models.ForeignKey(Place, null=True, blank=True, on_delete=models.PROTECT, related_name="posts",
                              help_text=_("for grid members: the grid they serve"))

    class Meta:
        ordering = ["actor_id", "-is_key", "id"]
        constraints = [models.UniqueConstraint(fields=["person", "actor", "role", "place"], name="post_unique")]

    def __str__(self) -> str:
        return f"{self.person} - {self.role} @ {self.actor}"

    @property
    def role_label(self) -> str:
        return str(POST_ROLE_LABELS.get(self.role, self.role))

