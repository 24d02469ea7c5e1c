"""Every role against every list and detail endpoint of the registry API, inside and outside its scope.

Expectations are computed from the generated tables (codes and the hierarchy written into them), not
from the scoping code under test.
"""

from __future__ import annotations

import pandas as pd
import pytest
from django.test import Client

from civicgrid.accounts.models import Role
from civicgrid.core.models import AuditLog

pytestmark = pytest.mark.django_db

ENDPOINTS = ("places", "households", "residents", "actors", "people", "audit")
KEY = {"places": "code", "households": "code", "residents": "code", "actors": "code", "people": "code",
       "audit": "id"}


def _ancestors(code: str, places: pd.DataFrame) -> set[str]:
    parent = dict(zip(places["code"], places["parent_code"], strict=True))
    out, node = set(), code
    while node:
        out.add(node)
        node = parent.get(node) or ""
    return out


def _audit_rows_within(root: str, places: pd.DataFrame) -> set[int]:
    """Ids of the audit rows about a place inside ``root``. A row's place is the last code of its
    ``place_path`` (the chain of codes from the root); whether that place lies inside ``root`` comes from
    the generated tables' parent codes, not from the scoping code. Rows about no place (role changes,
    people, the import itself) lie inside no area."""
    rows = AuditLog.objects.values_list("id", "place_path")
    return {pk for pk, path in rows if path and root in _ancestors(path.rstrip("/").split("/")[-1], places)}


def _expected(role: Role, c) -> dict[str, set[str] | None]:
    """What each role should see, from the generated tables. None = refused (403)."""
    places, hh, res, actors, people, posts = (c.places, c.households, c.residents, c.actors, c.people, c.posts)
    under = lambda codes, prefix: {x for x in codes if x == prefix or x.startswith(prefix + "-")}  # noqa: E731

    def people_of(actor_codes: set[str]) -> set[str]:
        return set(posts.loc[posts["actor_code"].isin(actor_codes), "person_code"])

    def serving(area_codes: set[str], below: set[str]) -> set[str]:
        area = actors["service_area_code"]
        return set(actors.loc[area.isin(area_codes) | area.isin(below), "code"])

    if role.role == "district_official":
        return {"places": set(places["code"]), "households": set(hh["code"]), "residents": set(res["code"]),
                "actors": set(actors["code"]), "people": set(people["code"]),
                "audit": _audit_rows_within(role.place.code, places)}
    if role.role in {"community_director", "grid_member"}:
        if role.role == "community_director":
            roots = {role.place.code}
        else:
            roots = set(posts.loc[(posts["person_code"] == role.person.code) & (posts["role"] == "grid_member"),
                                  "place_code"])
        in_area = set().union(*(under(places["code"], r) for r in roots))
        households = set(hh.loc[hh["building_code"].isin(in_area), "code"])
        visible_actors = serving(set().union(*(_ancestors(r, places) for r in roots)), in_area)
        return {"places": in_area, "households": households,
                "residents": set(res.loc[res["household_code"].isin(households), "code"]),
                "actors": visible_actors, "people": people_of(visible_actors),
                "audit": _audit_rows_within(role.place.code, places) if role.role == "community_director"
                else None}
    if role.role == "org_staff":
        area = role.actor.service_area.code
        in_area = under(places["code"], area)
        return {"places": in_area, "households": set(), "residents": set(),
                "actors": serving(_ancestors(area, places), in_area) | {role.actor.code},
                "people": None, "audit": None}
    if role.role == "volunteer":
        teams = set(posts.loc[posts["person_code"] == role.person.code, "actor_code"])
        return {"places": None, "households": set(), "residents": set(), "actors": teams, "people": None,
                "audit": None}
    if role.role == "resident":
        own = role.household.code
        building = hh.loc[hh["code"] == own, "building_code"].item()
        return {"places": None, "households": {own},
                "residents": set(res.loc[res["household_code"] == own, "code"]),
                "actors": serving(_ancestors(building, places), set()), "people": None, "audit": None}
    raise AssertionError(role.role)


def _get_all(client: Client, endpoint: str) -> tuple[int, list[dict]]:
    rows: list[dict] = []
    offset = 0
    while True:
        response = client.get(f"/api/registry/{endpoint}", {"offset": offset})
        if response.status_code != 200:
            return response.status_code, rows
        page = response.json()
        rows += page
        if len(page) < 200:
            return 200, rows
        offset += 200


ROLES = ["district", "director", "grid", "orgstaff", "volunteer", "resident"]


@pytest.mark.parametrize("username", ROLES)
def test_every_role_sees_exactly_its_scope(username: str, community) -> None:
    client = Client()
    assert client.login(username=username, password="civicgrid-demo")
    role = Role.objects.select_related("place", "person", "actor__service_area", "household").get(
        user__username=username)
    expected = _expected(role, community)
    for endpoint in ENDPOINTS:
        status, rows = _get_all(client, endpoint)
        if expected[endpoint] is None:
            assert status == 403, f"{username} should be refused {endpoint}, got {status}"
            assert client.get(f"/api/registry/{endpoint}/1").status_code in {403, 404, 405}
            continue
        assert status == 200, f"{username} should list {endpoint}, got {status}"
        seen = {r[KEY[endpoint]] for r in rows}
        assert seen == expected[endpoint], (
            f"{username} on {endpoint}: {len(seen - expected[endpoint])} extra, "
            f"{len(expected[endpoint] - seen)} missing")
    if expected["audit"] is not None:  # the comparison separated audit rows inside and outside the area
        assert 0 < len(expected["audit"]) < AuditLog.objects.count()


MODELS = {"places": "Place", "households": "Household", "residents": "Resident", "actors": "Actor",
          "people": "Person"}


@pytest.mark.parametrize("username", ROLES)
def test_detail_inside_scope_is_shown_and_outside_is_not_found(username: str, community) -> None:
    from django.apps import apps

    client = Client()
    assert client.login(username=username, password="civicgrid-demo")
    role = Role.objects.select_related("place", "person", "actor__service_area", "household").get(
        user__username=username)
    expected = _expected(role, community)
    for endpoint, model_name in MODELS.items():
        model = apps.get_model("registry", model_name)
        inside = expected[endpoint]
        if inside is None:
            some = model.objects.order_by("id").first()
            assert client.get(f"/api/registry/{endpoint}/{some.id}").status_code == 403
            continue
        if inside:
            obj = model.objects.filter(code__in=inside).order_by("?").first()
            response = client.get(f"/api/registry/{endpoint}/{obj.id}")
            assert response.status_code == 200 and response.json()["code"] == obj.code
        outside = model.objects.exclude(code__in=inside).order_by("id").first()
        if outside is not None:
            response = client.get(f"/api/registry/{endpoint}/{outside.id}")
            assert response.status_code == 404, f"{username} reached {endpoint} {outside.code} outside scope"
            assert "detail" in response.json()


def test_identity_is_masked_for_roles_without_clearance(community) -> None:
    district, director = Client(), Client()
    district.login(username="district", password="civicgrid-demo")
    director.login(username="director", password="civicgrid-demo")
    rows = director.get("/api/registry/residents").json()
    with_id = next(r for r in rows if r["id_number"])
    truth = community.residents.set_index("code").loc[with_id["code"], "id_number"]
    assert with_id["id_number"] == truth  # the director has clearance
    masked = district.get(f"/api/registry/residents/{with_id['id']}").json()["id_number"]
    assert masked == "*" * 14 + truth[-4:]  # never the region or the birth date (issue 11, finding 3)


def test_anonymous_requests_are_refused() -> None:
    assert Client().get("/api/registry/households").status_code == 401
    page = Client().get("/households/")
    assert page.status_code == 302 and "/login/" in page["Location"]


def test_pages_follow_the_same_scope(community) -> None:
    from civicgrid.registry.models import Household

    grid = Client()
    grid.login(username="grid", password="civicgrid-demo")
    role = Role.objects.get(user__username="grid")
    posts = community.posts
    grid_code = posts.loc[(posts["person_code"] == role.person.code) & (posts["role"] == "grid_member"),
                          "place_code"].iloc[0]
    mine = Household.objects.filter(grid__code=grid_code).first()
    other = Household.objects.exclude(grid__code=grid_code).first()
    assert grid.get(f"/households/{mine.id}/").status_code == 200
    assert grid.get(f"/households/{other.id}/").status_code == 404
    assert grid.get(f"/households/{other.id}/edit/").status_code == 404
    assert grid.get("/registry/import/").status_code == 403
