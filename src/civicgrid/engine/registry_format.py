"""The registry's exchange format: the tables and columns that ``civicgrid import`` reads,
``civicgrid export`` and ``civicgrid synth`` write.

A registry is a folder of CSV files (UTF-8), a ZIP of them, or an XLSX workbook with one sheet per
table, named as below. Tables are read in this order, so a row may refer to rows of earlier tables.
Booleans are written ``1``/``0``; ``true/false``, ``yes/no`` and ``是/否`` are read too. Dates are ISO
(``YYYY-MM-DD``). Empty cells mean "not recorded".
"""

from __future__ import annotations

TABLES: dict[str, tuple[str, ...]] = {
    "places": ("code", "name", "level", "parent_code", "geometry"),
    "households": (
        "code",
        "building_code",
        "address",
        "housing_type",
        "income_status",
        "contact_phone",
    ),
    "residents": (
        "code",
        "household_code",
        "name",
        "sex",
        "birth_date",
        "relation",
        "id_number",
        "phone",
        "lives_alone",
        "disability_kind",
        "disability_grade",
        "chronic_illness",
        "pregnant",
        "limited_mobility",
        "language_barrier",
        "mental_health_needs",
    ),
    "actors": (
        "code",
        "name",
        "sector",
        "kind",
        "service_area_code",
        "capacities",
        "contact_phone",
    ),
    "people": ("code", "name", "phone", "resident_code"),
    "posts": ("person_code", "actor_code", "role", "is_key", "place_code"),
}

PLACE_LEVELS: tuple[str, ...] = ("district", "subdistrict", "community", "grid", "building")
SECTORS: tuple[str, ...] = ("state", "capital", "society")
ACTOR_KINDS: tuple[str, ...] = (
    "party_committee",
    "subdistrict_office",
    "government_department",
    "residents_committee",
    "property_management",
    "enterprise",
    "shop",
    "social_organisation",
    "foundation",
    "volunteer_team",
    "resident_self_organisation",
)
HOUSING_TYPES: tuple[str, ...] = (
    "commodity",
    "old_estate",
    "resettlement",
    "public_rental",
    "self_built",
)
SEXES: tuple[str, ...] = ("M", "F")
RELATIONS: tuple[str, ...] = ("head", "spouse", "child", "parent", "grandchild", "sibling", "other")
DISABILITY_KINDS: tuple[str, ...] = (
    "physical",
    "hearing",
    "visual",
    "speech",
    "intellectual",
    "mental",
    "multiple",
)
CRITICAL_FUNCTIONS: tuple[str, ...] = (
    "food_supply",
    "medicine",
    "care_vulnerable",
    "information_release",
    "access_control",
    "shelter",
)
BOOLEAN_COLUMNS: frozenset[str] = frozenset(
    {
        "lives_alone",
        "chronic_illness",
        "pregnant",
        "limited_mobility",
        "language_barrier",
        "mental_health_needs",
        "is_key",
    }
)
