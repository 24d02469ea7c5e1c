"""Finding 2 of the production issue: an import lands only inside the importer's area. A director
could import places, households, actors and posts into another community, and the posts widened other
users' scopes. Every row outside the area is now a reported bad row, and nothing is written."""

from __future__ import annotations

import pytest
from django.utils import translation

from civicgrid.accounts.roles import scope_for
from civicgrid.core.importing import ImportRejected
from civicgrid.core.scoping import PLATFORM
from civicgrid.registry.models import Household, Place, Post
from civicgrid.registry.services import registry_import
from tests.platform.factories import user
from tests.platform.test_import import _fingerprint, _new_community_tables

pytestmark = pytest.mark.django_db


def _rows_outside(tables: dict[str, list[dict[str, str]]], area: str) -> dict[str, set[int]]:
    """Independently: which rows of each table lie outside ``area`` (spreadsheet row numbers)."""
    paths = dict(Place.objects.values_list("code", "path"))
    outside: dict[str, set[int]] = {"places": set(), "households": set(), "actors": set(), "posts": set()}
    parents = {row["code"]: row["parent_code"] for row in tables["places"]}

    def path_of(code: str) -> str:
        return paths.get(code) or (path_of(parents[code]) if parents.get(code) else "") + code + "/"

    for n, row in enumerate(tables["places"], start=2):
        if row["code"] not in paths:  # existing places are skipped by the import
            paths[row["code"]] = path_of(row["code"])
            if not paths[row["code"]].startswith(area):
                outside["places"].add(n)
    for n, row in enumerate(tables["households"], start=2):
        if not paths.get(row["building_code"], "").startswith(area):
            outside["households"].add(n)
    actor_area = {row["code"]: paths.get(row["service_area_code"], "") for row in tables["actors"]}
    for n, row in enumerate(tables["actors"], start=2):
        if not actor_area[row["code"]].startswith(area):
            outside["actors"].add(n)
    for n, row in enumerate(tables["posts"], start=2):
        if not actor_area.get(row["actor_code"], "").startswith(area):
            outside["posts"].add(n)
    return outside


def test_a_director_cannot_import_into_another_community() -> None:
    director = user("director")
    area = director.role.place.path
    tables = _new_community_tables(households=800)  # three communities' worth: C01 is the director's
    expected = _rows_outside(tables, area)
    assert expected["households"] and expected["actors"] and expected["posts"]  # the test means something
    before = _fingerprint()
    with translation.override("en"), pytest.raises(ImportRejected) as refused:
        registry_import(user=director, scope=scope_for(director), tables=tables)
    assert _fingerprint() == before  # nothing was written
    # the report lists the first rows (the importer caps its length) and counts them all
    assert refused.value.total == sum(len(rows) for rows in expected.values())
    reported = [(e.table, e.row) for e in refused.value.errors]
    assert all("outside your area" in e.reason for e in refused.value.errors)
    assert set(reported) <= {(t, n) for t, rows in expected.items() for n in rows}
    assert len(reported) == min(refused.value.total, len(refused.value.errors))


def test_inside_its_area_a_director_imports_and_nobody_else_gains_access() -> None:
    director = user("director")
    area = director.role.place.path
    tables = _new_community_tables(households=800)
    outside = _rows_outside(tables, area)
    keep = {t: [r for n, r in enumerate(tables[t], start=2) if n not in outside.get(t, set())]
            for t in tables}
    codes = {r["code"] for r in keep["households"]}
    keep["residents"] = [r for r in tables["residents"] if r["household_code"] in codes]
    residents = {r["code"] for r in keep["residents"]}
    keep["people"] = [r for r in tables["people"] if not r["resident_code"] or r["resident_code"] in residents]
    people = {r["code"] for r in keep["people"]}
    keep["posts"] = [r for r in keep["posts"] if r["person_code"] in people]
    grid_scope_before = scope_for(user("grid")).area_paths
    try:
        counts = registry_import(user=director, scope=scope_for(director), tables=keep)
    except ImportRejected as refused:
        raise AssertionError([str(e) for e in refused.errors[:5]]) from None
    assert counts["households"] == len(keep["households"]) > 0
    assert all(h.place_path.startswith(area) for h in Household.objects.filter(code__in=codes))
    assert all(p.actor.service_area.path.startswith(area) for p in Post.objects.filter(
        actor__code__in={r["code"] for r in keep["actors"]}))
    assert scope_for(user("grid")).area_paths == grid_scope_before


def test_the_platform_imports_anywhere() -> None:
    tables = _new_community_tables(households=800)
    assert registry_import(user=None, scope=PLATFORM, tables=tables)["households"] == 800
