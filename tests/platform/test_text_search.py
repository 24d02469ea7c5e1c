"""Issue 15, search by part of a name, address or code through an index (civicgrid.core.textsearch):
pg_trgm on PostgreSQL, FTS5 trigram tables on SQLite. Results are checked against a plain Python
substring test over the same rows (generated names mixing Chinese characters, pinyin and the
characters SQL and FTS5 treat specially); the query plans are read from the database itself."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from civicgrid.accounts.roles import scope_for
from civicgrid.core import textsearch
from civicgrid.core.scoping import Scope
from civicgrid.registry import selectors
from civicgrid.registry.models import HOUSEHOLD_TEXT, RESIDENT_TEXT, Household, Place, Resident
from civicgrid.registry.pinyin import name_initials
from tests.platform.factories import user

pytestmark = pytest.mark.django_db

# few characters, so generated values share substrings often; quotes, wildcards and backslashes included
ALPHABET = "王李张三丰雪社区栋单元室aAbZz19 -%_\"\\*"
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _district() -> Scope:
    return scope_for(user("district"))


def _plant(names: list[str], addresses: list[str], codes: list[str]) -> list[int]:
    building = Place.objects.filter(level="building").order_by("id").first()
    assert building is not None and building.parent is not None
    ids = []
    for i, (address, code) in enumerate(zip(addresses, codes, strict=True)):
        household = Household.objects.create(code=code, building=building, grid=building.parent,
                                             place_path=building.path, address=address, housing_type="commodity")
        ids.append(household.id)
        for j, name in enumerate(names[i::len(addresses)]):
            Resident.objects.create(code=f"{code}-R{j}", household=household, name=name, sex="F",
                                    name_initials=name_initials(name), birth_date=date(1970, 1, 1), relation="other")
    return ids


def _truth(query: str, *, starts: bool = False) -> set[int]:
    """The households a search for ``query`` must find, by reading every row in Python."""
    q = query.strip()
    if starts:  # a short query over a large area: names and codes starting with it
        found = {h for h, code in Household.objects.values_list("id", "code") if code.startswith((q, q.upper()))}
        found |= {h for h, name in Resident.objects.values_list("household_id", "name") if name.startswith(q)}
    else:
        low = q.lower()
        found = {h for h, code, address in Household.objects.values_list("id", "code", "address")
                 if low in code.lower() or low in address.lower()}
        found |= {h for h, name in Resident.objects.values_list("household_id", "name") if low in name.lower()}
    initials = name_initials(q) if q.isascii() and q.replace(" ", "").isalpha() else ""
    if len(initials) >= 2:
        found |= {h for h, i in Resident.objects.values_list("household_id", "name_initials") if i.startswith(initials)}
    return found


def _searched(scope: Scope, query: str) -> set[int]:
    return set(selectors.household_list(scope=scope, query=query).values_list("id", flat=True))


values = st.text(alphabet=ALPHABET, min_size=1, max_size=12)


@SETTINGS
@given(names=st.lists(values, min_size=1, max_size=12), addresses=st.lists(values, min_size=1, max_size=6),
       data=st.data())
def test_search_finds_what_a_python_substring_test_finds(names: list[str], addresses: list[str],
                                                         data: Any) -> None:
    scope = _district()
    with transaction.atomic():
        codes = [f"T{n}{data.draw(values)}" for n in range(len(addresses))]
        _plant(names, addresses, codes)
        source = data.draw(st.sampled_from(names + addresses + codes))
        start = data.draw(st.integers(0, len(source) - 1))
        query = data.draw(st.one_of(st.just(source[start:start + data.draw(st.integers(1, 6))]), values))
        assume(query.strip() and not selectors.PHONE_SUFFIX.match(query.strip()))
        visible = set(selectors.household_list(scope=scope).values_list("id", flat=True))
        assert _searched(scope, query) == _truth(query) & visible
        transaction.set_rollback(True)


@SETTINGS
@given(names=st.lists(values, min_size=1, max_size=12), addresses=st.lists(values, min_size=1, max_size=6),
       data=st.data())
def test_a_short_query_over_a_large_area_finds_names_and_codes_starting_with_it(
        names: list[str], addresses: list[str], data: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selectors, "SHORT_QUERY_SCAN_LIMIT", 20)  # the fixture's 700 households are "large"
    scope = _district()
    with transaction.atomic():
        codes = [f"t{n}{data.draw(values)}" for n in range(len(addresses))]
        _plant(names, addresses, codes)
        query = data.draw(st.sampled_from(names + codes))[:data.draw(st.integers(1, 2))]
        assume(query.strip())
        assert selectors.short_query_narrowed(selectors.household_list(scope=scope), query)
        assert _searched(scope, query) == _truth(query, starts=True)
        transaction.set_rollback(True)


def test_short_queries_in_a_small_area_still_search_anywhere() -> None:
    scope = scope_for(user("grid"))
    mine = selectors.household_list(scope=scope)
    resident = Resident.objects.filter(household__in=mine.values("id")).order_by("id")[5]
    for query in (resident.name[-1], resident.name[1:3]):
        assert not selectors.short_query_narrowed(mine, query)
        assert _searched(scope, query) == _truth(query) & set(mine.values_list("id", flat=True))


def _plans(scope: Scope, query: str) -> list[str]:
    """SQLite's plan of every statement the search page runs (the page's rows and their count)."""
    found = selectors.household_list(scope=scope, query=query)
    with CaptureQueriesContext(connection) as queries:
        list(found[:50])
        found.count()
    plans = []
    with connection.cursor() as cursor:
        for q in queries.captured_queries:
            cursor.execute("EXPLAIN QUERY PLAN " + q["sql"])
            plans.append(" | ".join(str(row[-1]) for row in cursor.fetchall()))
    return plans


def _queries() -> list[str]:
    resident = Resident.objects.filter(name__regex=r"^...$").order_by("id")[17]
    household = Household.objects.order_by("id")[40]
    return [resident.name, household.address[2:7], household.code[-5:]]


@pytest.mark.skipif(connection.vendor != "sqlite" or not textsearch.indexed(), reason="SQLite's plan")
@pytest.mark.parametrize("role", ["district", "director", "grid"])
def test_sqlite_searches_through_the_fts5_tables_not_a_table_scan(role: str) -> None:
    scope = scope_for(user(role))
    for query in _queries():
        plans = _plans(scope, query)
        assert len(plans) == 2
        for plan in plans:
            assert not re.search(r"SCAN (registry_household|registry_resident)( |$)", plan), plan
            assert "registry_household_text VIRTUAL TABLE" in plan and "registry_resident_text VIRTUAL TABLE" in plan
        assert _searched(scope, query) == _truth(query) & set(
            selectors.household_list(scope=scope).values_list("id", flat=True))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan")
def test_postgresql_searches_through_the_trigram_indexes() -> None:
    scope = _district()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a few hundred rows: make the planner show its hand
        for query in _queries():
            sql, params = selectors.household_list(scope=scope, query=query).query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            for index in ("registry_household_code_trgm", "registry_household_address_trgm",
                          "registry_resident_name_trgm"):
                assert f"Bitmap Index Scan on {index}" in plan, plan
            assert _searched(scope, query) == _truth(query)


def _integrity() -> None:
    """FTS5's own check of each index against its table's rows (raises when they differ)."""
    if connection.vendor != "sqlite" or not textsearch.indexed():
        return
    with connection.cursor() as cursor:
        for index in (HOUSEHOLD_TEXT, RESIDENT_TEXT):
            cursor.execute(f"INSERT INTO {index.fts}({index.fts}, rank) VALUES ('integrity-check', 1)")


def test_the_index_follows_writes_and_rollbacks() -> None:
    _integrity()  # the session's community went in through the registry import
    scope = _district()
    household = Household.objects.order_by("id")[3]
    resident = household.residents.order_by("id")[0]
    with transaction.atomic():
        household.address = "望江路甲乙丙号"
        household.save()
        resident.name = "欧阳丁戊己"
        resident.save()
        assert household.id in _searched(scope, "甲乙丙") and household.id in _searched(scope, "丁戊己")
        _integrity()
        transaction.set_rollback(True)
    assert _searched(scope, "甲乙丙") == set() and _searched(scope, "丁戊己") == set()
    _integrity()
    household.refresh_from_db()
    assert household.id in _searched(scope, household.address)
    household.residents.all().delete()
    household.delete()
    assert household.id not in _searched(scope, household.address)
    _integrity()


@pytest.mark.skipif(connection.vendor != "sqlite" or not textsearch.indexed(), reason="SQLite's triggers")
def test_triggers_a_table_rebuild_dropped_are_put_back() -> None:
    with connection.cursor() as cursor:
        for suffix in ("insert", "delete", "update"):
            cursor.execute(f"DROP TRIGGER {RESIDENT_TEXT.fts}_{suffix}")
    household = Household.objects.order_by("id")[9]
    Resident.objects.create(code="R-REBUILT", household=household, name="诸葛亮明", sex="M",
                            birth_date=date(1990, 1, 1), relation="other")
    assert not textsearch.ensure(connection, HOUSEHOLD_TEXT)  # intact: left alone
    assert textsearch.ensure(connection, RESIDENT_TEXT)
    assert household.id in _searched(_district(), "葛亮明")
    textsearch.uninstall(connection, HOUSEHOLD_TEXT)  # a database migrated without the trigram tokenizer
    assert textsearch.ensure(connection, HOUSEHOLD_TEXT)
    assert household.id in _searched(_district(), household.address[1:6])
    _integrity()


def test_the_page_says_when_a_short_query_was_narrowed(monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client()
    assert client.login(username="district", password="civicgrid-demo")
    assert 'id="search-narrowed"' not in client.get("/households/", {"q": "王"}).content.decode()
    monkeypatch.setattr(selectors, "SHORT_QUERY_SCAN_LIMIT", 100)
    assert 'id="search-narrowed"' in client.get("/households/", {"q": "王"}).content.decode()
    assert 'id="search-narrowed"' not in client.get("/households/", {"q": "王小明"}).content.decode()
