"""The registry's JSON API: the same selectors, hence the same scoping, as the pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from civicgrid.accounts.roles import scope_for
from civicgrid.core.apischema import code_query, id_path, offset_query, page, responses
from civicgrid.registry import selectors
from civicgrid.registry.models import Actor, Household, Person, Place, Resident

router = Router(tags=["registry"])


class PlaceOut(Schema):
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None


class HouseholdOut(Schema):
    id: int
    code: str
    address: str
    building_id: int
    grid_id: int
    housing_type: str
    income_status: str | None  # None for roles that see households by need only (volunteers)
    size: int
    contact_phone: str
    vulnerability_score: float | None
    vulnerability_rule: str | None


class ResidentOut(Schema):
    id: int
    code: str
    household_id: int
    name: str
    sex: str
    birth_date: str  # "" for roles without identity clearance (they get the age)
    age: int
    relation: str
    id_number: str
    phone: str


class ActorOut(Schema):
    id: int
    code: str
    name: str
    sector: str
    kind: str
    service_area_id: int
    capacities: dict[str, int]


class PersonOut(Schema):
    id: int
    code: str
    name: str
    phone: str


class AuditOut(Schema):
    id: int
    at: str
    action: str
    model: str
    object_id: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None


def _page(qs: Any, offset: int) -> Any:
    return page(qs, offset)


def _place(p: Place) -> dict[str, Any]:
    return {"id": p.id, "code": p.code, "name": p.name, "level": p.level, "parent_id": p.parent_id}


def _household(request: HttpRequest, h: Household) -> dict[str, Any]:
    scope = scope_for(request.user)
    welfare = selectors.sees_welfare_and_health(scope)
    return {"id": h.id, "code": h.code, "address": h.address, "building_id": h.building_id, "grid_id": h.grid_id,
            "housing_type": h.housing_type, "income_status": h.income_status if welfare else None, "size": h.size,
            "contact_phone": selectors.show_identity(scope, h.contact_phone),
            "vulnerability_score": h.vulnerability_score if welfare else None,
            "vulnerability_rule": h.vulnerability_rule if welfare else None}


def _resident(request: HttpRequest, r: Resident) -> dict[str, Any]:
    scope = scope_for(request.user)
    return {"id": r.id, "code": r.code, "household_id": r.household_id, "name": r.name, "sex": r.sex,
            "birth_date": selectors.show_birth_date(scope, r.birth_date), "age": r.age, "relation": r.relation,
            "id_number": selectors.show_identity(scope, r.id_number), "phone": selectors.show_identity(scope, r.phone)}


def _actor(a: Actor) -> dict[str, Any]:
    return {"id": a.id, "code": a.code, "name": a.name, "sector": a.sector, "kind": a.kind,
            "service_area_id": a.service_area_id, "capacities": a.capacities or {}}


def _person(request: HttpRequest, p: Person) -> dict[str, Any]:
    return {"id": p.id, "code": p.code, "name": p.name,
            "phone": selectors.show_identity(scope_for(request.user), p.phone)}


@router.get("/places", response=responses(list[PlaceOut]))
def places(request: HttpRequest, offset: int = offset_query()) -> list[dict[str, Any]]:
    return [_place(p) for p in _page(selectors.place_all(scope=scope_for(request.user)), offset)]


@router.get("/places/{place_id}", response=responses(PlaceOut))
def place(request: HttpRequest, place_id: int = id_path()) -> dict[str, Any]:
    return _place(selectors.place_get(scope=scope_for(request.user), place_id=place_id))


@router.get("/households", response=responses(list[HouseholdOut]))
def households(request: HttpRequest, q: str = Query("", max_length=100), offset: int = offset_query()) -> list[dict[str, Any]]:
    found = selectors.household_list(scope=scope_for(request.user), query=q)
    return [_household(request, h) for h in _page(found, offset)]


@router.get("/households/{household_id}", response=responses(HouseholdOut))
def household(request: HttpRequest, household_id: int = id_path()) -> dict[str, Any]:
    return _household(request, selectors.household_get(scope=scope_for(request.user), household_id=household_id))


@router.get("/residents", response=responses(list[ResidentOut]))
def residents(request: HttpRequest, offset: int = offset_query()) -> list[dict[str, Any]]:
    return [_resident(request, r) for r in _page(selectors.resident_list(scope=scope_for(request.user)), offset)]


@router.get("/residents/{resident_id}", response=responses(ResidentOut))
def resident(request: HttpRequest, resident_id: int = id_path()) -> dict[str, Any]:
    return _resident(request, selectors.resident_get(scope=scope_for(request.user), resident_id=resident_id))


@router.get("/actors", response=responses(list[ActorOut]))
def actors(request: HttpRequest, sector: str = code_query(), offset: int = offset_query()) -> list[dict[str, Any]]:
    return [_actor(a) for a in _page(selectors.actor_list(scope=scope_for(request.user), sector=sector), offset)]


@router.get("/actors/{actor_id}", response=responses(ActorOut))
def actor(request: HttpRequest, actor_id: int = id_path()) -> dict[str, Any]:
    return _actor(selectors.actor_get(scope=scope_for(request.user), actor_id=actor_id))


@router.get("/people", response=responses(list[PersonOut]))
def people(request: HttpRequest, offset: int = offset_query()) -> list[dict[str, Any]]:
    return [_person(request, p) for p in _page(selectors.person_list(scope=scope_for(request.user)), offset)]


@router.get("/people/{person_id}", response=responses(PersonOut))
def person(request: HttpRequest, person_id: int = id_path()) -> dict[str, Any]:
    return _person(request, selectors.person_get(scope=scope_for(request.user), person_id=person_id))


@router.get("/audit", response=responses(list[AuditOut]))
def audit(request: HttpRequest, offset: int = offset_query()) -> list[dict[str, Any]]:
    scope = scope_for(request.user)
    rows = _page(selectors.audit_list(scope=scope), offset)
    return [{"id": a.id, "at": a.at.isoformat(), "action": a.action, "model": a.model, "object_id": a.object_id,
             "old": selectors.show_audit_values(scope, a.old), "new": selectors.show_audit_values(scope, a.new)}
            for a in rows]
