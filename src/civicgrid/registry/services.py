"""Writes to the registry. Each service is keyword-only, runs in one transaction and writes its audit
rows in that transaction (civicgrid.core.audit)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import pandas as pd
from django.conf import settings
from django.db import transaction

from civicgrid.core import audit
from civicgrid.core.importing import Rows
from civicgrid.core.models import AuditLog
from civicgrid.engine.vulnerability import VulnerabilityRule
from civicgrid.registry import importer
from civicgrid.registry.models import Actor, Household, Person, Place, Post, Resident

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
    scores["summary"] = [rule.explain(dict(zip(counts.columns, row, strict=True)),
                                      income_status=status[hid])[:300]
                         for hid, row in zip(scores.index, counts.to_numpy(), strict=True)]
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
        Resident.objects.filter(household_id__in=ids).values(*columns), columns=columns,
    ).rename(columns={"household_id": "household"})
    households = pd.DataFrame.from_records(
        Household.objects.filter(id__in=ids).values("id", "income_status"), columns=["id", "income_status"]
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
def household_create(*, user: Any, code: str, building: Place, address: str, housing_type: str,
                     income_status: str = "normal", contact_phone: str = "") -> Household:
    if building.level != "building":
        raise ValueError("a household must be placed in a building")
    household = Household(code=code, building=building, grid=building.parent, place_path=building.path,
                          address=address, housing_type=housing_type, income_status=income_status,
                          contact_phone=contact_phone)
    household.full_clean()
    household.save()
    audit.record(user=user, action=AuditLog.Action.CREATE, instance=household, new=audit.snapshot(household))
    household_vulnerability_refresh(household_ids=[household.id])
    return household


@transaction.atomic
def household_update(*, user: Any, household: Household, **changes: Any) -> Household:
    allowed = {"building", "address", "housing_type", "income_status", "contact_phone"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)} of a household")
    if "building" in changes:
        building = changes["building"]
        if building.level != "building":
            raise ValueError("a household must be placed in a building")
        changes.update(grid=building.parent, place_path=building.path)
    audit.update_fields(user=user, instance=household, changes=changes)
    household_vulnerability_refresh(household_ids=[household.id])
    household.refresh_from_db()
    return household


@transaction.atomic
def resident_create(*, user: Any, household: Household, **fields: Any) -> Resident:
    if not fields.get("code"):
        fields["code"] = _next_code(Resident, "R")
    resident = Resident(household=household, **fields)
    resident.full_clean()
    resident.save()
    audit.record(user=user, action=AuditLog.Action.CREATE, instance=resident, new=audit.snapshot(resident))
    household_vulnerability_refresh(household_ids=[household.id])
    return resident


@transaction.atomic
def resident_update(*, user: Any, resident: Resident, **changes: Any) -> Resident:
    changes.pop("household", None)  # moving a resident between households is a separate act
    audit.update_fields(user=user, instance=resident, changes=changes)
    household_vulnerability_refresh(household_ids=[resident.household_id])
    return resident


@transaction.atomic
def resident_delete(*, user: Any, resident: Resident) -> None:
    household_id = resident.household_id
    audit.record(user=user, action=AuditLog.Action.DELETE, instance=resident, old=audit.snapshot(resident))
    resident.delete()
    household_vulnerability_refresh(household_ids=[household_id])


def _next_code(model: type[Resident], prefix: str) -> str:
    last = model.objects.filter(code__startswith=prefix).order_by("-code").values_list("code", flat=True).first()
    number = int(last[len(prefix):]) + 1 if last and last[len(prefix):].isdigit() else 1
    return f"{prefix}{number:08d}"


# --- import ---------------------------------------------------------------------------------------
@transaction.atomic
def registry_import(*, user: Any, tables: dict[str, Rows]) -> dict[str, int]:
    """Validate every row, then write everything, or nothing (raises ImportRejected)."""
    cleaned = importer.validate(tables)
    created: list[Any] = []

    places = {p.code: p for p in Place.objects.all().only("id", "code", "path", "level", "parent_id")}
    for level in ("district", "subdistrict", "community", "grid", "building"):
        batch = []
        for row in (r for r in cleaned.places if r["level"] == level):
            parent = places.get(row["parent_code"]) if row["parent_code"] else None
            batch.append(Place(code=row["code"], name=row["name"], level=level, parent=parent,
                               geometry=row["geometry"], path=(parent.path if parent else "") + row["code"] + "/"))
        for place in Place.objects.bulk_create(batch, batch_size=2000):
            places[place.code] = place
            created.append(place)

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
    household_ids = dict(Household.objects.filter(
        code__in={r["household_code"] for r in cleaned.residents}).values_list("code", "id"))
    household_ids.update({h.code: h.id for h in new_households})
    household_paths = {h.id: h.place_path for h in new_households}
    new_residents = [Resident(household_id=household_ids[r.pop("household_code")], **r) for r in
                     (dict(r) for r in cleaned.residents)]
    Resident.objects.bulk_create(new_residents, batch_size=2000)
    _known_paths(new_residents, household_paths)
    created += new_residents

    new_actors = [Actor(code=r["code"], name=r["name"], sector=r["sector"], kind=r["kind"],
                        service_area=places[r["service_area_code"]], capacities=r["capacities"],
                        contact_phone=r["contact_phone"]) for r in cleaned.actors]
    Actor.objects.bulk_create(new_actors, batch_size=2000)
    created += new_actors
    resident_ids = dict(Resident.objects.filter(
        code__in={r["resident_code"] for r in cleaned.people if r["resident_code"]}).values_list("code", "id"))
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

    audit.record_created(user=user, instances=created)
    # Residents added to households that were already in the registry change those households' scores.
    new_ids = {h.id for h in new_households}
    household_vulnerability_refresh(household_ids={r.household_id for r in new_residents} - new_ids)
    counts = cleaned.counts()
    AuditLog.objects.create(user=user if getattr(user, "is_authenticated", False) else None,
                            action=AuditLog.Action.IMPORT, model="registry.Registry", object_id="-",
                            object_repr="registry import", new=counts)
    return counts


def _grid_id(building: Place) -> int:
    if building.parent_id is None:  # the importer only accepts buildings inside a grid
        raise ValueError(f"building {building.code} has no grid")
    return building.parent_id


def _known_paths(residents: list[Resident], paths: dict[int, str]) -> None:
    """Give bulk-created residents their household's path for the audit rows without a query each."""
    missing = {r.household_id for r in residents} - set(paths)
    if missing:
        paths.update(dict(Household.objects.filter(id__in=missing).values_list("id", "place_path")))
    for resident in residents:
        resident.audit_place_path = paths[resident.household_id]  # type: ignore[method-assign,assignment]


@transaction.atomic
def registry_export_recorded(*, user: Any, counts: dict[str, int], masked: bool) -> None:
    AuditLog.objects.create(user=user if getattr(user, "is_authenticated", False) else None,
                            action=AuditLog.Action.EXPORT, model="registry.Registry", object_id="-",
                            object_repr="registry export", new={**counts, "masked": masked})


__all__ = [
    "household_create",
    "household_update",
    "household_vulnerability_refresh",
    "registry_export_recorded",
    "registry_import",
    "resident_create",
    "resident_delete",
    "resident_update",
]
