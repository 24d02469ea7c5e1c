"""Validation of a registry import (see civicgrid.engine.registry_format for the tables).

:func:`validate` checks every row of every table against the file itself and the database, and
returns plain cleaned rows or raises :class:`ImportRejected` with every error. It writes nothing;
:func:`civicgrid.registry.services.registry_import` writes what it returns.

Choice values may be written as their labels in any site language (男/女, 低保, 户主, 商品房): one
mapping, built from the models' choices, turns them into codes before any check
(:func:`civicgrid.registry.spreadsheet.decode_values`).

With ``update=True`` (a monthly roster refresh) a row whose code is already in the registry is an
update of that record, not an error; :mod:`civicgrid.registry.roster` then sorts the rows into new,
changed and unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from civicgrid.core.crypto import digest, digests
from civicgrid.core.importing import ImportRejected, RowError, Rows
from civicgrid.engine import registry_format as fmt
from civicgrid.registry import validation as v
from civicgrid.registry.models import LEVEL_LABELS, Actor, Household, Person, Place, Resident
from civicgrid.registry.spreadsheet import decode_values

PARENT_LEVEL = dict(zip(fmt.PLACE_LEVELS[1:], fmt.PLACE_LEVELS[:-1], strict=True))


def _level(code: str) -> str:
    """A place level by its name in the reader's language ("sub-district", "社区")."""
    return str(LEVEL_LABELS.get(code, code)).lower()


@dataclass
class Cleaned:
    places: list[dict[str, Any]] = field(default_factory=list)
    households: list[dict[str, Any]] = field(default_factory=list)
    residents: list[dict[str, Any]] = field(default_factory=list)
    actors: list[dict[str, Any]] = field(default_factory=list)
    people: list[dict[str, Any]] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in fmt.TABLES}


class _Checker:
    """Collects errors for one table while cleaning its rows."""

    def __init__(self, table: str, errors: list[RowError]):  # any list: a bulk import's keeps only the first
        self.table, self.errors = table, errors

    def fail(self, row: int, column: str, value: str, reason: str) -> None:
        self.errors.append(RowError(self.table, row, column, value, str(reason)))

    def apply(self, row: int, column: str, value: str, parse: Callable[[str], Any], *, shown: int = 200) -> Any:
        """``parse(value)``, or None with the error recorded (the value cut to ``shown`` characters)."""
        try:
            return parse(value)
        except ValidationError as exc:
            self.fail(row, column, value[:shown], " ".join(exc.messages))
        except ValueError as exc:
            self.fail(row, column, value[:shown], str(exc))
        return None

    def require(self, row: int, column: str, value: str) -> str | None:
        if not value:
            self.fail(row, column, value, _("required"))
            return None
        return value

    def choice(self, row: int, column: str, value: str, allowed: tuple[str, ...]) -> str | None:
        if value not in allowed:
            self.fail(row, column, value, _("expected one of %(allowed)s") % {"allowed": ", ".join(allowed)})
            return None
        return value

    def new_code(self, row: int, value: str, seen: dict[str, int], existing: set[str]) -> str | None:
        """A required code that is neither repeated in the file nor already in the registry."""
        code = self.require(row, "code", value)
        if code:
            self.unique(row, "code", code, seen, existing)
        return code

    def unique(self, row: int, column: str, value: str, seen: dict[str, int], existing: set[str]) -> None:
        if value in seen:
            self.fail(row, column, value, _("duplicate of row %(row)s") % {"row": seen[value]})
        elif value in existing:
            self.fail(row, column, value, _("already in the registry"))
        else:
            seen[value] = row


def validate(tables: dict[str, Rows], *, update: bool = False) -> Cleaned:
    decode_values(tables)
    errors: list[RowError] = []
    out = Cleaned()
    place_levels = _places(tables.get("places", []), errors, out, update=update)
    household_codes = _households(tables.get("households", []), errors, out, place_levels, update=update)
    resident_codes = _residents(tables.get("residents", []), errors, out, household_codes, update=update)
    actor_codes = _actors(tables.get("actors", []), errors, out, place_levels, update=update)
    person_codes = _people(tables.get("people", []), errors, out, resident_codes, update=update)
    _posts(tables.get("posts", []), errors, out, person_codes, actor_codes, place_levels)
    if errors:
        raise ImportRejected(errors)
    return out


def _places(rows: Rows, errors: list[RowError], out: Cleaned, *, update: bool = False) -> dict[str, str]:
    check = _Checker("places", errors)
    existing = dict(Place.objects.values_list("code", "level"))
    existing_parent = dict(Place.objects.values_list("code", "parent__code"))
    levels = dict(existing)
    seen: dict[str, int] = {}
    for n, r in enumerate(rows, start=2):
        code = check.require(n, "code", r["code"])
        level = check.choice(n, "level", r["level"], fmt.PLACE_LEVELS)
        check.require(n, "name", r["name"])
        parent = r["parent_code"]
        if code is None or level is None:
            continue
        if code in seen:
            check.fail(n, "code", code, _("duplicate of row %(row)s") % {"row": seen[code]})
            continue
        seen[code] = n
        if level == "district":
            if parent:
                check.fail(n, "parent_code", parent, _("a district has no parent"))
        elif not parent:
            check.fail(n, "parent_code", parent, _("a %(level)s needs a parent %(parent)s")
                       % {"level": _level(level), "parent": _level(PARENT_LEVEL[level])})
        elif levels.get(parent) != PARENT_LEVEL[level]:
            reason = (_("unknown place code (places must be listed after their parent)") if parent not in levels
                      else _("the parent of a %(level)s must be a %(parent)s, not a %(other)s")
                      % {"level": _level(level), "parent": _level(PARENT_LEVEL[level]), "other": _level(levels[parent])})
            check.fail(n, "parent_code", parent, reason)
        geometry = None
        if r["geometry"]:
            geometry = check.apply(n, "geometry", r["geometry"], _geojson, shown=60)
        if code in existing:
            if existing[code] != level or (existing_parent.get(code) or "") != parent:
                check.fail(n, "code", code, _("already in the registry with another level or parent"))
            elif update:  # kept for the roster's comparison of its name and geometry
                out.places.append({"code": code, "name": r["name"], "level": level, "parent_code": parent or None,
                                   "geometry": geometry})
            continue  # an existing place is a reference, not a new row
        levels[code] = level
        out.places.append({"code": code, "name": r["name"], "level": level, "parent_code": parent or None,
                           "geometry": geometry})
    return levels


def _geojson(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict) or "type" not in value:
        raise ValueError(_("not a GeoJSON object"))
    return value


def _households(rows: Rows, errors: list[RowError], out: Cleaned, levels: dict[str, str], *,
                update: bool = False) -> set[str]:
    check = _Checker("households", errors)
    existing = set(Household.objects.values_list("code", flat=True))
    seen: dict[str, int] = {}
    for n, r in enumerate(rows, start=2):
        check.new_code(n, r["code"], seen, set() if update else existing)
        out.households.append(household_fields(check, n, r, levels))
    return existing | set(seen)


def household_fields(check: _Checker, n: int, r: dict[str, str], levels: Mapping[str, str]) -> dict[str, Any]:
    """The checks of one household row that need no other row (the code's uniqueness is the caller's);
    the cleaned row."""
    if levels.get(r["building_code"]) != "building":
        check.fail(n, "building_code", r["building_code"], _("unknown building code"))
    check.require(n, "address", r["address"])
    check.choice(n, "housing_type", r["housing_type"], fmt.HOUSING_TYPES)
    status = r["income_status"] or "normal"
    check.choice(n, "income_status", status, _INCOME)
    phone = check.apply(n, "contact_phone", r["contact_phone"], v.validate_phone)
    return {**r, "income_status": status, "contact_phone": phone or ""}


def _residents(rows: Rows, errors: list[RowError], out: Cleaned, households: set[str], *,
               update: bool = False) -> set[str]:
    check = _Checker("residents", errors)
    existing = set(Resident.objects.values_list("code", flat=True))
    # each stored ID number's digest -> the resident holding it (an update may keep its own number)
    existing_ids = dict(Resident.objects.exclude(id_number_digest="").values_list("id_number_digest", "code"))
    seen: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    for n, r in enumerate(rows, start=2):
        code = check.new_code(n, r["code"], seen, set() if update else existing)
        if r["household_code"] not in households:
            check.fail(n, "household_code", r["household_code"], _("unknown household code"))
        row = resident_fields(check, n, r)
        row["code"] = code
        id_number = row["id_number"]
        if id_number:
            key = digest(id_number)
            if key in seen_ids:
                check.fail(n, "id_number", r["id_number"], _("duplicate ID number: also on row %(row)s") % {"row": seen_ids[key]})
            elif any(existing_ids.get(k, code) != code for k in digests(id_number)):
                check.fail(n, "id_number", r["id_number"], _("this ID number is already in the registry"))
            else:
                seen_ids[key] = n
        out.residents.append(row)
    return existing | set(seen)


_FLAGS = ("lives_alone", "chronic_illness", "pregnant", "limited_mobility", "language_barrier", "mental_health_needs")
_INCOME = ("normal", "low_income", "dibao", "tekun")
_SEX = {"男": "M", "女": "F"}
_BINARY = frozenset(("0", "1", ""))  # what an export writes: read without the general parser


def resident_fields(check: _Checker, n: int, r: dict[str, str]) -> dict[str, Any]:
    """The checks of one resident row that need no other row (the code's uniqueness, the household's
    existence and the ID number's uniqueness are the caller's); the cleaned row (its ID number
    normalised, '' when absent or invalid)."""
    check.require(n, "name", r["name"])
    sex = _SEX.get(r["sex"], r["sex"].upper())
    check.choice(n, "sex", sex, fmt.SEXES)
    birth = check.apply(n, "birth_date", r["birth_date"], v.parse_date)
    check.choice(n, "relation", r["relation"], fmt.RELATIONS)
    id_number = ""
    if r["id_number"]:
        id_number = check.apply(n, "id_number", r["id_number"], v.validate_id_number) or ""
        if id_number and birth and v.id_number_birth_date(id_number) != birth:
            check.fail(n, "birth_date", r["birth_date"], _("does not match the birth date in the ID number"))
    phone = check.apply(n, "phone", r["phone"], v.validate_phone)
    flags = {c: r[c] == "1" if r[c] in _BINARY else bool(check.apply(n, c, r[c], v.parse_bool)) for c in _FLAGS}
    kind = r["disability_kind"]
    if kind:
        check.choice(n, "disability_kind", kind, fmt.DISABILITY_KINDS)
    grade = None
    if r["disability_grade"]:
        grade = check.apply(n, "disability_grade", r["disability_grade"],
                            lambda s: v.validate_disability_grade(int(s)))
        if not kind:
            check.fail(n, "disability_kind", kind, _("a disability grade needs a disability kind"))
    elif kind:
        check.fail(n, "disability_grade", "", _("a disability kind needs a grade (1-4)"))
    return {
        "code": r["code"], "household_code": r["household_code"], "name": r["name"], "sex": sex,
        "birth_date": birth, "relation": r["relation"], "id_number": id_number, "phone": phone or "",
        "disability_kind": kind, "disability_grade": grade, **flags,
    }


def _actors(rows: Rows, errors: list[RowError], out: Cleaned, levels: dict[str, str], *,
            update: bool = False) -> set[str]:
    check = _Checker("actors", errors)
    existing = set(Actor.objects.values_list("code", flat=True))
    seen: dict[str, int] = {}
    for n, r in enumerate(rows, start=2):
        check.new_code(n, r["code"], seen, set() if update else existing)
        check.require(n, "name", r["name"])
        check.choice(n, "sector", r["sector"], fmt.SECTORS)
        check.choice(n, "kind", r["kind"], fmt.ACTOR_KINDS)
        if r["service_area_code"] not in levels:
            check.fail(n, "service_area_code", r["service_area_code"], _("unknown place code"))
        capacities = check.apply(n, "capacities", r["capacities"], _capacities) if r["capacities"] else {}
        out.actors.append({**r, "capacities": capacities or {}})
    return existing | set(seen)


def _capacities(text: str) -> dict[str, int]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError(_('expected a JSON object such as {"food_supply": 300}'))
    for key, amount in value.items():
        if key not in fmt.CRITICAL_FUNCTIONS:
            raise ValueError(_("unknown critical function %(key)s; expected %(allowed)s")
                             % {"key": key, "allowed": ", ".join(fmt.CRITICAL_FUNCTIONS)})
        if not isinstance(amount, int) or amount < 0:
            raise ValueError(_("capacity of %(key)s must be a whole number of households >= 0") % {"key": key})
    return value


def _people(rows: Rows, errors: list[RowError], out: Cleaned, residents: set[str], *,
            update: bool = False) -> set[str]:
    check = _Checker("people", errors)
    existing = set(Person.objects.values_list("code", flat=True))
    seen: dict[str, int] = {}
    for n, r in enumerate(rows, start=2):
        check.new_code(n, r["code"], seen, set() if update else existing)
        check.require(n, "name", r["name"])
        phone = check.apply(n, "phone", r["phone"], v.validate_phone)
        if r["resident_code"] and r["resident_code"] not in residents:
            check.fail(n, "resident_code", r["resident_code"], _("unknown resident code"))
        out.people.append({**r, "phone": phone or ""})
    return existing | set(seen)


def _posts(rows: Rows, errors: list[RowError], out: Cleaned, people: set[str], actors: set[str],
           levels: dict[str, str]) -> None:
    check = _Checker("posts", errors)
    for n, r in enumerate(rows, start=2):
        if r["person_code"] not in people:
            check.fail(n, "person_code", r["person_code"], _("unknown person code"))
        if r["actor_code"] not in actors:
            check.fail(n, "actor_code", r["actor_code"], _("unknown actor code"))
        check.require(n, "role", r["role"])
        is_key = check.apply(n, "is_key", r["is_key"], v.parse_bool)
        if r["place_code"] and r["place_code"] not in levels:
            check.fail(n, "place_code", r["place_code"], _("unknown place code"))
        if r["role"] == "grid_member" and levels.get(r["place_code"]) != "grid":
            check.fail(n, "place_code", r["place_code"], _("a grid member's post needs the grid's code"))
        out.posts.append({**r, "is_key": bool(is_key)})
