"""Writes to the registry. Each service follows the house contract (README, "The house rules"): it
takes the acting ``user`` and ``scope`` keyword-only, refuses with :mod:`civicgrid.core.errors`, runs in
one transaction and writes its typed audit event in that transaction (civicgrid.core.audit)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from civicgrid.core import audit, tallies
from civicgrid.core.bulk import mapping_in, rows_in
from civicgrid.core.crypto import DigestField, digest
from civicgrid.core.errors import Conflict, Invalid
from civicgrid.core.importing import Rows
from civicgrid.core.locking import locked, serialised
from civicgrid.core.places import common_ancestor
from civicgrid.core.scoping import Scope, check_in_scope, require
from civicgrid.engine.vulnerability import VulnerabilityRule
from civicgrid.registry import bulkimport, importer, roster
from civicgrid.registry.events import RegistryEvent
from civicgrid.registry.models import Actor, Household, Person, Place, Post, Resident
from civicgrid.registry.pinyin import name_initials

_FACT_FIELDS = ("lives_alone", "chronic_illness", "pregnant", "limited_mobility", "language_barrier",
                "mental_health_needs")


def vulnerability_rule() -> VulnerabilityRule:
    return VulnerabilityRule.from_config(settings.CIVICGRID_VULNERABILITY_RULE)


# --- vulnerability ------------------------------------------------------------------------------
def _vulnerability(residents: pd.DataFrame, households: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Score households (``household``, ``income_status``) from their residents (``household``,
    ``birth_date``, ``disability_grade`` and the fact columns) with the configured rule.

    Returns the engine's table with ``size`` and ``summary`` added, indexed by household.
    """
    rule = vulnerability_rule()
    residents = residents.copy()
    if len(residents):
        born = pd.to_datetime(residents["birth_date"])
        residents["age"] = as_of.year - born.dt.year - (
            (born.dt.month > as_of.month) | ((born.dt.month == as_of.month) & (born.dt.day > as_of.day)))
    else:
        residents["age"] = pd.Series(dtype=int)
    scores = rule.score(residents=residents, households=households)
    scores["size"] = residents.groupby("household").size().reindex(scores.index, fill_value=0)
    status = dict(zip(households["household"], households["income_status"], strict=True))
    counts = scores.filter(like="n_")
    said: dict[tuple[bytes, str], str] = {}  # the same counts and status say the same (a million households)
    summaries = []
    for hid, row in zip(scores.index, counts.to_numpy(), strict=True):
        key = (row.tobytes(), status[hid])
        if key not in said:
            said[key] = rule.explain(dict(zip(counts.columns, row, strict=True)), income_status=status[hid])[:300]
        summaries.append(said[key])
    scores["summary"] = summaries
    return scores


def household_vulnerability_refresh(*, household_ids: Iterable[int], as_of: date | None = None) -> int:
    """Recompute and store the vulnerability score of these households with the configured rule.

    Derived values, not audited field by field: the rule version stored beside them says how they
    were produced, and the resident or household change that triggered them is audited.
    """
    ids = list(household_ids)
    if not ids:
        return 0
    columns = ["household_id", "birth_date", "disability_grade", *_FACT_FIELDS]
    residents = pd.DataFrame.from_records(
        rows_in(Resident.objects.all(), field="household_id", values=ids, columns=columns), columns=columns,
    ).rename(columns={"household_id": "household"})
    households = pd.DataFrame.from_records(
        rows_in(Household.objects.all(), field="id", values=ids, columns=["id", "income_status"]),
        columns=["id", "income_status"],
    ).rename(columns={"id": "household"})
    scores = _vulnerability(residents, households, as_of or date.today())
    objects = [Household(id=hid, vulnerability_score=float(row.score), vulnerability_weight=float(row.weight),
                         vulnerability_rule=row.rule_version, size=int(row.size), vulnerability_summary=row.summary)
               for hid, row in zip(scores.index, scores.itertuples(), strict=True)]
    Household.objects.bulk_update(objects, ["vulnerability_score", "vulnerability_weight",
                                            "vulnerability_rule", "size", "vulnerability_summary"],
                                  batch_size=1000)
    return len(objects)


# --- households and residents -------------------------------------------------------------------
@transaction.atomic
def household_create(*, user: Any, scope: Scope, code: str, building: Place, address: str, housing_type: str,
                     income_status: str = "normal", contact_phone: str = "") -> Household:
    require(scope, "edit")
    check_in_scope(scope, building)
    if building.level != "building":
        raise Invalid({"building": _("A household must be placed in a building.")})
    household = Household(code=code, building=building, grid=building.parent, place_path=building.path,
                          address=address, housing_type=housing_type, income_status=income_status,
                          contact_phone=contact_phone)
    household.full_clean()
    household.save()
    audit.record(user=user, event=RegistryEvent.HOUSEHOLD_CREATED, instance=household,
                 new=audit.snapshot(household))
    household_vulnerability_refresh(household_ids=[household.id])
    return household


@serialised  # SQLite: BEGIN IMMEDIATE, else its read-then-write fails beside a need filing ("locked")
def household_update(*, user: Any, scope: Scope, household: Household, **changes: Any) -> Household:
    require(scope, "edit")
    check_in_scope(scope, household)
    allowed = {"building", "address", "housing_type", "income_status", "contact_phone"}
    unknown = set(changes) - allowed
    if unknown:
        raise Invalid(_("These fields of a household cannot be changed: %(fields)s")
                      % {"fields": ", ".join(sorted(unknown))})
    if "building" in changes:
        building = changes["building"]
        check_in_scope(scope, building)
        if building.level != "building":
            raise Invalid({"building": _("A household must be placed in a building.")})
        changes.update(grid=building.parent, place_path=building.path)
    new_grid = getattr(changes.get("grid"), "pk", household.grid_id)
    moved = [household.grid_id, new_grid] if new_grid != household.grid_id else []
    if moved:  # the counts per grid of other apps' records (needs) follow the household: locks before the audit,
        # the household's row first, as a need filing for it takes them (else each could wait for the other)
        locked(Household.objects.filter(pk=household.pk)).get()
        tallies.hold_grid_tallies()
    audit.update_fields(user=user, event=RegistryEvent.HOUSEHOLD_UPDATED, instance=household, changes=changes)
    tallies.grids_changed(moved)
    household_vulnerability_refresh(household_ids=[household.id])
    household.refresh_from_db()
    return household


@transaction.atomic
def resident_create(*, user: Any, scope: Scope, household: Household, **fields: Any) -> Resident:
    require(scope, "edit")
    check_in_scope(scope, household)
    if not fields.get("code"):
        fields["code"] = _next_code(Resident, "R")
    resident = Resident(household=household, **fields)
    resident.name_initials = name_initials(resident.name)
    resident.full_clean()
    resident.save()
    audit.record(user=user, event=RegistryEvent.RESIDENT_CREATED, instance=resident, new=audit.snapshot(resident))
    household_vulnerability_refresh(household_ids=[household.id])
    return resident


@transaction.atomic
def resident_update(*, user: Any, scope: Scope, resident: Resident, **changes: Any) -> Resident:
    require(scope, "edit")
    check_in_scope(scope, resident)
    changes.pop("household", None)  # moving a resident between households is a separate act
    if "name" in changes:
        changes["name_initials"] = name_initials(changes["name"])
    audit.update_fields(user=user, event=RegistryEvent.RESIDENT_UPDATED, instance=resident, changes=changes)
    household_vulnerability_refresh(household_ids=[resident.household_id])
    return resident


@transaction.atomic
def resident_delete(*, user: Any, scope: Scope, resident: Resident) -> None:
    require(scope, "edit")
    check_in_scope(scope, resident)
    household_id = resident.household_id
    audit.record(user=user, event=RegistryEvent.RESIDENT_DELETED, instance=resident, old=audit.snapshot(resident))
    resident.delete()
    household_vulnerability_refresh(household_ids=[household_id])


def _next_code(model: type[Resident], prefix: str) -> str:
    last = model.objects.filter(code__startswith=prefix).order_by("-code").values_list("code", flat=True).first()
    number = int(last[len(prefix):]) + 1 if last and last[len(prefix):].isdigit() else 1
    return f"{prefix}{number:08d}"


# --- import ---------------------------------------------------------------------------------------
@transaction.atomic
def registry_import(*, user: Any, scope: Scope, tables: Mapping[str, Iterable[dict[str, str]]], update: bool = False,
                    expected: str = "") -> dict[str, Any]:
    """Validate every row, then write everything, or nothing (raises ImportRejected).

    Every row must lie inside the importer's area: a place under one of its places, a household in
    one of its buildings, an actor serving a place in it, a post to such an actor. A director cannot
    import into another community, nor widen anyone's scope there with a post.

    Without ``update``, every code must be new; returns the rows created per table. With ``update``
    (the monthly roster refresh), a row whose code exists updates that record, and the answer is
    ``{table: {"new", "changed", "unchanged"}}``; ``expected`` is the fingerprint of the plan the user
    previewed (:func:`registry_import_plan`), refused with Conflict if the registry changed since.
    """
    require(scope, "import")
    if update:  # a roster refresh: compared with the records as a whole (a community's file, held)
        return _import_update(user=user, scope=scope, tables={t: list(rows) for t, rows in tables.items()},
                              expected=expected)
    # New records: streamed, written with the database's bulk path, one summarising audit event.
    return bulkimport.import_new(user=user, scope=scope, tables=tables)


def _all_places() -> dict[str, Place]:
    return {p.code: p for p in Place.objects.all().only("id", "code", "path", "level", "parent_id")}


def registry_import_plan(*, scope: Scope, tables: dict[str, Rows]) -> roster.Plan:
    """What an update import of ``tables`` would do (new, changed, unchanged per table), checked row by
    row and against the importer's area; writes nothing (raises ImportRejected)."""
    require(scope, "import")
    cleaned = importer.validate(tables, update=True)
    plan = roster.plan(cleaned)
    if not scope.unrestricted:
        roster.refuse_outside(scope, tables, cleaned, _all_places(), plan)
    return plan


def _import_update(*, user: Any, scope: Scope, tables: dict[str, Rows], expected: str) -> dict[str, Any]:
    plan = registry_import_plan(scope=scope, tables=tables)
    if expected and roster.digest(plan) != expected:
        raise Conflict(_("The registry changed since the preview: look at the new preview before applying it."))
    new_only = importer.Cleaned(**{table: plan[table].new for table in plan})
    places = _all_places()
    created, new_households, new_residents = _create(new_only, places)
    places = _all_places()
    moved = {g for c in plan["households"].changed if "building_code" in c.fields
             for g in (c.record.grid_id, _grid_id(places[c.fields["building_code"][1]]))}
    changed = _apply_changes(plan, places)
    tallies.grids_changed(moved)  # households that moved take their needs' counts along (before the audit row)
    touched = {h.id for h in new_households} | {r.household_id for r in new_residents}
    touched |= {c.record.pk for c in plan["households"].changed}
    touched |= {c.record.household_id for c in plan["residents"].changed}
    touched |= {o for o in changed if isinstance(o, int)}  # households that residents left
    household_vulnerability_refresh(household_ids=touched)
    counts = roster.counts(plan)
    audit.record_bulk(user=user, event=RegistryEvent.REGISTRY_IMPORTED, model=Household,
                      ids=[f"{type(o).__name__}:{o.pk}" for o in created + [c for c in changed if not isinstance(c, int)]],
                      counts={"update": True, **counts},
                      place_path=_import_place(scope, created) if created else scope.place_path(),
                      summary="")
    return counts


def _apply_changes(plan: roster.Plan, places: dict[str, Place]) -> list[Any]:
    """Write each changed field of each changed record (bulk, per table); returns the changed records,
    and the ids of households residents left."""
    households = mapping_in(Household.objects.all(), field="code", key="code", value="id", values=(
        c.fields["household_code"][1] for c in plan["residents"].changed if "household_code" in c.fields))
    residents = mapping_in(Resident.objects.all(), field="code", key="code", value="id", values=(
        c.fields["resident_code"][1] for c in plan["people"].changed if "resident_code" in c.fields))
    out: list[Any] = []
    for table, model in (("places", Place), ("households", Household), ("residents", Resident),
                         ("actors", Actor), ("people", Person), ("posts", Post)):
        fields: set[str] = set()
        records = []
        for change in plan[table].changed:
            record = change.record
            for column, (_old, new) in change.fields.items():
                if column == "building_code":
                    building = places[new]
                    record.building, record.grid_id, record.place_path = building, _grid_id(building), building.path
                    fields |= {"building", "grid", "place_path"}
                elif column == "household_code":
                    out.append(record.household_id)  # the household left: its score changes too
                    record.household_id = households[new]
                    fields.add("household")
                elif column == "service_area_code":
                    record.service_area = places[new]
                    fields.add("service_area")
                elif column == "resident_code":
                    record.resident_id = residents.get(new) if new else None
                    fields.add("resident")
                else:
                    setattr(record, column, new)
                    fields.add(column)
                    if table == "residents" and column == "name":
                        record.name_initials = name_initials(new)
                        fields.add("name_initials")
            for f in model._meta.concrete_fields:  # bulk_update skips pre_save: refresh the digests here
                if isinstance(f, DigestField) and f.source in fields:
                    setattr(record, f.attname, digest(getattr(record, f.source) or ""))
                    fields.add(f.name)
            records.append(record)
        if records:
            model.objects.bulk_update(records, sorted(fields), batch_size=1000)
            out += records
    return out


def _create(cleaned: importer.Cleaned, places: dict[str, Place]) -> tuple[list[Any], list[Household], list[Resident]]:
    """Create every row of ``cleaned`` (all of them new), places level by level, then households with
    their scores, residents, actors, people and posts."""
    created: list[Any] = list(bulkimport.create_places(cleaned.places, places))

    # New households are written once, with their scores computed from the validated rows.
    fact_columns = ["household_code", "birth_date", "disability_grade", *_FACT_FIELDS]
    scores = _vulnerability(
        pd.DataFrame([{k: r[k] for k in fact_columns} for r in cleaned.residents], columns=fact_columns)
        .rename(columns={"household_code": "household"}),
        pd.DataFrame([{"household": r["code"], "income_status": r["income_status"]} for r in cleaned.households],
                     columns=["household", "income_status"]),
        date.today())
    new_households = [
        Household(code=r["code"], building=places[r["building_code"]], grid_id=_grid_id(places[r["building_code"]]),
                  place_path=places[r["building_code"]].path, address=r["address"],
                  housing_type=r["housing_type"], income_status=r["income_status"],
                  contact_phone=r["contact_phone"], vulnerability_score=float(score.score),
                  vulnerability_weight=float(score.weight), vulnerability_rule=score.rule_version,
                  size=int(score.size), vulnerability_summary=score.summary)
        for r, score in zip(cleaned.households, scores.loc[[r["code"] for r in cleaned.households]].itertuples(),
                            strict=True)
    ]
    Household.objects.bulk_create(new_households, batch_size=2000)
    created += new_households
    household_ids = mapping_in(Household.objects.all(), field="code", key="code", value="id",
                               values=(r["household_code"] for r in cleaned.residents))
    household_ids.update({h.code: h.id for h in new_households})
    new_residents = [Resident(household_id=household_ids[r.pop("household_code")], name_initials=name_initials(r["name"]),
                              **r) for r in (dict(r) for r in cleaned.residents)]
    Resident.objects.bulk_create(new_residents, batch_size=2000)
    created += new_residents

    new_actors = [Actor(code=r["code"], name=r["name"], sector=r["sector"], kind=r["kind"],
                        service_area=places[r["service_area_code"]], capacities=r["capacities"],
                        contact_phone=r["contact_phone"]) for r in cleaned.actors]
    Actor.objects.bulk_create(new_actors, batch_size=2000)
    created += new_actors
    resident_ids = mapping_in(Resident.objects.all(), field="code", key="code", value="id",
                              values=(r["resident_code"] for r in cleaned.people if r["resident_code"]))
    new_people = [Person(code=r["code"], name=r["name"], phone=r["phone"],
                         resident_id=resident_ids.get(r["resident_code"])) for r in cleaned.people]
    Person.objects.bulk_create(new_people, batch_size=2000)
    person_ids = dict(Person.objects.values_list("code", "id"))
    actor_map = {a.code: a for a in Actor.objects.select_related("service_area")}
    new_posts = [Post(person_id=person_ids[r["person_code"]], actor=actor_map[r["actor_code"]], role=r["role"],
                      is_key=r["is_key"], place=places.get(r["place_code"]) if r["place_code"] else None)
                 for r in cleaned.posts]
    Post.objects.bulk_create(new_posts, batch_size=2000)
    created += new_people + new_posts
    return created, new_households, new_residents


def _import_place(scope: Scope, created: list[Any]) -> str:
    paths = [audit.place_path_of(o) for o in created if isinstance(o, Place | Household | Actor)]
    return common_ancestor([p for p in paths if p]) or scope.place_path()


def _grid_id(building: Place) -> int:
    if building.parent_id is None:  # the importer only accepts buildings inside a grid
        raise Invalid(f"building {building.code} has no grid")
    return building.parent_id


@transaction.atomic
def registry_export_recorded(*, user: Any, scope: Scope, counts: dict[str, int], masked: bool) -> None:
    """Record an export (what and how much, masked or not) where the exporter's area lies, so the
    director sees a grid member's export."""
    require(scope, "export")
    audit.record_bulk(user=user, event=RegistryEvent.REGISTRY_EXPORTED, model=Household, ids=[],
                      counts={**counts, "masked": masked}, place_path=scope.place_path(),
                      summary="")


__all__ = [
    "household_create",
    "household_update",
    "household_vulnerability_refresh",
    "registry_export_recorded",
    "registry_import",
    "registry_import_plan",
    "resident_create",
    "resident_delete",
    "resident_update",
]
