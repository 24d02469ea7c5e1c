"""Builders shared by the relief tests (no tests here). The session's community has two communities of 350
households; the demo logins serve community C01 (director, grid member of its grid G01, a volunteer of its
volunteer team, a resident of G01) and its sub-district (organisation staff)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.test import Client

from civicgrid.accounts.roles import scope_for
from civicgrid.core.scoping import PLATFORM, Scope
from civicgrid.registry.models import Household, Place
from civicgrid.relief import services
from civicgrid.relief.models import DistributionPoint, Item, Need
from tests.platform.factories import user

# Sphere Handbook 2018: water supply standard 1.1 (15 L per person per day) and food security standard
# 6.1 (2,100 kcal per person per day) - written out here, not taken from the code under test.
SPHERE_WATER_L = 15
SPHERE_FOOD_KCAL = 2100


def key() -> str:
    return uuid.uuid4().hex


def client_for(username: str, language: str = "en") -> Client:
    """A logged-in test client whose requests ask for ``language`` (the site's default is Chinese)."""
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.login(username=username, password="civicgrid-demo")
    return client


def login(username: str) -> tuple[Any, Scope]:
    """A demo user and a freshly built scope (task access changes as tasks are claimed)."""
    found = user(username)
    return found, scope_for(found)


def catalogue() -> dict[str, Item]:
    specs: list[dict[str, Any]] = [
        dict(code="t-food", name="Food ration", name_zh="口粮", category="food", unit="rations", unit_zh="份",
             measure="kcal", unit_size=2100, per_person_per_day=2100, sphere_kind="food"),
        dict(code="t-water", name="Water 5 L", name_zh="饮用水", category="water", unit="bottles", unit_zh="桶",
             measure="L", unit_size=5, per_person_per_day=15, sphere_kind="water"),
        dict(code="t-insulin", name="Insulin pen", name_zh="胰岛素笔", category="medicine", unit="pens",
             unit_zh="支", life_critical=True),
        dict(code="t-medicine", name="Medicine pack", name_zh="药品", category="medicine", unit="packs",
             unit_zh="盒", floor_units=1),
    ]
    return {s["code"].removeprefix("t-"): Item.objects.create(**s) for s in specs}


def community(code_suffix: str = "C01") -> Place:
    return Place.objects.get(level="community", code__endswith=code_suffix)


def point_for(place: Place) -> DistributionPoint:
    return DistributionPoint.objects.create(code=f"t-{place.code}".lower(), name=f"Point {place.code}", place=place)


def grid_households(grid_suffix: str = "C01-G01", limit: int | None = None) -> list[Household]:
    households = Household.objects.filter(grid__code__endswith=grid_suffix).order_by("code")
    return list(households[:limit] if limit else households)


def receive(item: Item, point: DistributionPoint, quantity: int, expiry: date | None = None) -> None:
    services.stock_receive(user=None, scope=PLATFORM, item=item, point=point, quantity=quantity, expiry=expiry, source="test")


@dataclass
class World:
    items: dict[str, Item]
    point: DistributionPoint
    households: list[Household]
    needs: list[Need]


def lockdown(*, households: list[Household], share: float = 0.6, water_every: int = 3) -> World:
    """Food needs of a week for every household, water for every ``water_every``-th, filed by the district
    official in the order given; stock of ``share`` of each item's units at the community's point."""
    items = catalogue()
    user, scope = login("district")
    place = Place.objects.get(path="/".join(households[0].place_path.split("/")[:3]) + "/")
    point = point_for(place)
    needs = []
    for i, household in enumerate(households):
        persons = max(1, household.size)
        needs.append(services.need_file(user=user, scope=scope, household_id=household.pk, item=items["food"],
                                        quantity=7 * persons, key=key(), channel="phone").need)
        if i % water_every == 0:
            needs.append(services.need_file(user=user, scope=scope, household_id=household.pk,
                                            item=items["water"], quantity=15 * persons, key=key()).need)
    for name in ("food", "water"):
        units = sum(n.quantity for n in needs if n.item_id == items[name].pk)
        receive(items[name], point, int(units * share))
    return World(items, point, households, needs)
