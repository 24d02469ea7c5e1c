"""A registry import as an update (the monthly roster refresh): which rows are new, which change an
existing record (and which of its fields), which change nothing.

:func:`plan` compares validated rows (:func:`civicgrid.registry.importer.validate` with
``update=True``) with the records that carry the same codes, field by field, in one representation
(codes for references, plain values for encrypted fields, which the model decrypts on reading). It
writes nothing: the preview page shows it, and
:func:`civicgrid.registry.services.registry_import` applies it in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from civicgrid.core.bulk import chunks, mapping_in
from civicgrid.core.importing import ImportRejected, RowError, Rows
from civicgrid.core.scoping import Scope, scoped
from civicgrid.engine import registry_format as fmt
from civicgrid.registry.importer import Cleaned
from civicgrid.registry.models import Actor, Household, Person, Place, Post, Resident

_FACTS = ("lives_alone", "chronic_illness", "pregnant", "limited_mobility", "language_barrier",
          "mental_health_needs")


@dataclass
class Changed:
    row: dict[str, Any]                       # the cleaned row
    record: Any                               # the record it updates (a model instance)
    fields: dict[str, tuple[Any, Any]]        # column -> (old, new)


@dataclass
class TablePlan:
    new: list[dict[str, Any]] = field(default_factory=list)
    changed: list[Changed] = field(default_factory=list)
    unchanged: list[Any] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"new": len(self.new), "changed": len(self.changed), "unchanged": len(self.unchanged)}


Plan = dict[str, TablePlan]


def _code(obj: Any) -> str:
    return str(obj.code) if obj is not None else ""


# For each table: the records the rows may update, and each side in the same representation.
_CURRENT: dict[str, Callable[[Any], dict[str, Any]]] = {
    "places": lambda p: {"name": p.name, "geometry": p.geometry},
    "households": lambda h: {"building_code": h.building.code, "address": h.address, "housing_type": h.housing_type,
                             "income_status": h.income_status, "contact_phone": h.contact_phone},
    "residents": lambda r: {"household_code": r.household.code, "name": r.name, "sex": r.sex,
                            "birth_date": r.birth_date, "relation": r.relation, "id_number": r.id_number,
                            "phone": r.phone, "disability_kind": r.disability_kind,
                            "disability_grade": r.disability_grade, **{f: getattr(r, f) for f in _FACTS}},
    "actors": lambda a: {"name": a.name, "sector": a.sector, "kind": a.kind,
                         "service_area_code": a.service_area.code, "capacities": a.capacities or {},
                         "contact_phone": a.contact_phone},
    "people": lambda p: {"name": p.name, "phone": p.phone, "resident_code": _code(p.resident)},
}
_QUERIES: dict[str, Callable[[], models.QuerySet[Any]]] = {
    "places": lambda: Place.objects.all(),
    "households": lambda: Household.objects.select_related("building"),
    "residents": lambda: Resident.objects.select_related("household"),
    "actors": lambda: Actor.objects.select_related("service_area"),
    "people": lambda: Person.objects.select_related("resident"),
}


def _proposed(table: str, row: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    out = {k: row.get(k) for k in current}
    if table == "actors":
        out["capacities"] = row.get("capacities") or {}
    if table == "people":
        out["resident_code"] = row.get("resident_code") or ""
    return out


def plan(cleaned: Cleaned) -> Plan:
    out: Plan = {table: TablePlan() for table in fmt.TABLES}
    for table, current_of in _CURRENT.items():
        rows: list[dict[str, Any]] = getattr(cleaned, table)
        records = {r.code: r for batch in chunks(row["code"] for row in rows)
                   for r in _QUERIES[table]().filter(code__in=batch)}
        for row in rows:
            record = records.get(row["code"])
            if record is None:
                out[table].new.append(row)
                continue
            old = current_of(record)
            new = _proposed(table, row, old)
            diff = {k: (old[k], new[k]) for k in old if old[k] != new[k] and not (old[k] in (None, "") and
                                                                              new[k] in (None, ""))}
            if diff:
                out[table].changed.append(Changed(row, record, diff))
            else:
                out[table].unchanged.append(record)
    _plan_posts(cleaned, out["posts"])
    return out


def _plan_posts(cleaned: Cleaned, target: TablePlan) -> None:
    """A post has no code: the same person, actor, role and place is the same post (its key flag may change)."""
    existing = {(p.person.code, p.actor.code, p.role, _code(p.place)): p
                for p in Post.objects.select_related("person", "actor", "place").filter(
                    person__code__in={r["person_code"] for r in cleaned.posts})}
    for row in cleaned.posts:
        post = existing.get((row["person_code"], row["actor_code"], row["role"], row["place_code"] or ""))
        if post is None:
            target.new.append(row)
        elif post.is_key != row["is_key"]:
            target.changed.append(Changed(row, post, {"is_key": (post.is_key, row["is_key"])}))
        else:
            target.unchanged.append(post)


def counts(p: Plan) -> dict[str, dict[str, int]]:
    return {table: tp.counts() for table, tp in p.items()}


def digest(p: Plan) -> str:
    """A fingerprint of what the plan would do (new codes, changed codes with their fields and values,
    unchanged counts): applying checks that it is still the plan that was previewed. Keyed (it travels in
    the preview's form and is made from ID numbers and phones)."""
    summary = {table: {"new": sorted(str(r.get("code") or r.get("person_code")) for r in tp.new),
                       "changed": sorted([str(getattr(c.record, "code", c.record.pk)), sorted(c.fields),
                                          repr(sorted(c.fields.items()))] for c in tp.changed),
                       "unchanged": len(tp.unchanged)}
               for table, tp in p.items()}
    return salted_hmac("civicgrid.registry.roster", json.dumps(summary, sort_keys=True, default=str)).hexdigest()


def refuse_outside(scope: Scope, tables: dict[str, Rows], cleaned: Cleaned, places: dict[str, Place],
                   p: Plan | None = None) -> None:
    """Every row outside the importer's area, as a RowError (row numbers as in the file): a place not
    under one of its places, a household not in one of its buildings, an actor not serving a place in
    it, a post to such an actor. With a plan (an update), also every record it would change that lies
    outside the area now (a household moved in from another community, a person posted elsewhere). With
    a plan only the rows that write are checked: an unchanged row is a mere reference (a director's
    export lists the area's ancestors and the actors serving it from above) and passes."""
    area = tuple(scope.area_paths)
    new_paths: dict[str, str] = {}

    def writes(table: str, raw: dict[str, str]) -> bool:
        if p is None:  # a plain import writes every row but the places it already has (they are skipped)
            return not (table == "places" and raw.get("code") in places)
        key = _post_key(raw) if table == "posts" else raw.get("code")
        return key in _writing(p, table)

    for row in cleaned.places:
        if row["code"] in places:
            continue
        parent = new_paths.get(row["parent_code"]) or (places[row["parent_code"]].path
                                                        if row["parent_code"] in places else "")
        new_paths[row["code"]] = parent + row["code"] + "/"

    def inside_path(path: str, *, strictly: bool = False) -> bool:
        return bool(path) and any(path.startswith(a) and (not strictly or path != a) for a in area)

    def inside(code: str, *, strictly: bool = False) -> bool:
        return inside_path(new_paths.get(code) or (places[code].path if code in places else ""), strictly=strictly)

    known_actors = dict(Actor.objects.values_list("code", "service_area__path"))
    actor_paths = {r["code"]: new_paths.get(r["service_area_code"], "") or
                   (places[r["service_area_code"]].path if r["service_area_code"] in places else "")
                   for r in cleaned.actors}
    errors: list[RowError] = []
    outside = _("outside your area")
    for table, key, strictly in (("places", "code", True), ("households", "building_code", False),
                                 ("actors", "service_area_code", False)):
        for number, raw in enumerate(tables.get(table, []), start=2):
            if not writes(table, raw):
                continue
            if raw.get(key) and not inside(raw[key], strictly=strictly):
                errors.append(RowError(table, number, key, raw[key], str(outside)))
    new_households = {r["code"] for r in cleaned.households}
    existing = mapping_in(Household.objects.all(), field="code", key="code", value="place_path",
                          values={r.get("household_code", "") for r in tables.get("residents", [])} - new_households)
    for number, raw in enumerate(tables.get("residents", []), start=2):
        code = raw.get("household_code", "")
        if writes("residents", raw) and code in existing and not any(existing[code].startswith(a) for a in area):
            errors.append(RowError("residents", number, "household_code", code, str(outside)))
    for number, raw in enumerate(tables.get("posts", []), start=2):
        path = actor_paths.get(raw.get("actor_code", "")) or known_actors.get(raw.get("actor_code", ""), "")
        if writes("posts", raw) and not any(path.startswith(a) for a in area):
            errors.append(RowError("posts", number, "actor_code", raw.get("actor_code", ""), str(outside)))
    if p is not None:
        errors += _records_outside(scope, tables, p, inside_path, str(outside))
    if errors:
        raise ImportRejected(errors)


def _records_outside(scope: Scope, tables: dict[str, Rows], p: Plan, inside_path: Callable[..., bool],
                     outside: str) -> list[RowError]:
    """Existing records the update changes that lie outside the area now."""
    errors = []
    where: dict[str, Callable[[Any], str]] = {
        "households": lambda h: h.place_path, "residents": lambda r: r.household.place_path,
        "actors": lambda a: a.service_area.path,
    }
    for table, path_of in where.items():
        rows = {raw.get("code"): n for n, raw in enumerate(tables.get(table, []), start=2)}
        for record in [c.record for c in p[table].changed]:
            if not inside_path(path_of(record)):
                errors.append(RowError(table, rows.get(record.code, 0), "code", record.code, outside))
    rows = {raw.get("code"): n for n, raw in enumerate(tables.get("places", []), start=2)}
    for change in p["places"].changed:
        if not inside_path(change.record.path, strictly=True):
            errors.append(RowError("places", rows.get(change.record.code, 0), "code",
                                   change.record.code, outside))
    people = [c.record for c in p["people"].changed]
    if people:
        visible = set(scoped(Person.objects.filter(pk__in=[r.pk for r in people]), scope).values_list("pk", flat=True))
        rows = {raw.get("code"): n for n, raw in enumerate(tables.get("people", []), start=2)}
        for record in people:
            if record.pk not in visible:
                errors.append(RowError("people", rows.get(record.code, 0), "code", record.code, outside))
    return errors


def _post_key(row: dict[str, Any]) -> tuple[str, str, str, str]:
    return (row.get("person_code") or "", row.get("actor_code") or "", row.get("role") or "", row.get("place_code") or "")


def _writing(p: Plan, table: str) -> set[Any]:
    """The keys of the rows of ``table`` that the plan creates or changes."""
    rows = p[table].new + [c.row for c in p[table].changed]
    return {_post_key(r) for r in rows} if table == "posts" else {r["code"] for r in rows}
