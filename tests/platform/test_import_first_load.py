"""Issue 15: a first load into an empty registry builds its indexes after the rows are in
(civicgrid.core.loadindexes). PostgreSQL only: elsewhere the path is never taken.

The truth each test checks against is the other path, run on the same files in the same state: what it
stores and what it reports, and the schema as PostgreSQL's catalogue describes it before the import."""

from __future__ import annotations

from typing import Any
from unittest import mock

import psycopg
import pytest
from django.db import connection, transaction

from civicgrid.core import loadindexes
from civicgrid.core.importing import ImportRejected
from civicgrid.core.locking import tables_locked_if_free
from civicgrid.core.scoping import PLATFORM
from civicgrid.registry import bulkrun
from civicgrid.registry.models import Household, Resident
from civicgrid.registry.services import registry_import
from tests.platform.test_import import _new_community_tables

pytestmark = pytest.mark.django_db

_TABLES = "('registry_household'::regclass, 'registry_resident'::regclass)"


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the indexes are built after the load only on PostgreSQL")


def _schema() -> tuple[set[Any], set[Any]]:
    """Every index of the two tables with its definition, and every constraint on or referring to them."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid), indisvalid FROM pg_index "  # noqa: S608
                       f"WHERE indrelid IN {_TABLES}")
        indexes = set(cursor.fetchall())
        cursor.execute(f"SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), condeferrable, "  # noqa: S608
                       f"condeferred, convalidated FROM pg_constraint WHERE conrelid IN {_TABLES} "
                       f"OR confrelid IN {_TABLES}")
        return indexes, set(cursor.fetchall())


def _empty_registry() -> None:
    """No household or resident (rolled back with the test's transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE registry_household, registry_resident CASCADE")


def _stored() -> tuple[list[Any], list[Any]]:
    """Every household and resident as the ORM reads them back, without ids and ciphertexts (fresh IVs)."""
    households = sorted(
        (h.code, h.building.code, h.grid.code, h.place_path, h.address, h.housing_type, h.income_status,
         h.contact_phone, h.contact_phone_digest, h.size, h.vulnerability_score, h.vulnerability_weight,
         h.vulnerability_rule, h.vulnerability_summary)
        for h in Household.objects.select_related("building", "grid"))
    residents = sorted(
        (r.code, r.household.code, r.name, r.name_initials, r.sex, r.birth_date, r.relation, r.id_number,
         r.id_number_digest, r.phone, r.phone_digest, r.disability_kind, r.disability_grade, r.lives_alone,
         r.chronic_illness, r.pregnant, r.limited_mobility, r.language_barrier, r.mental_health_needs)
        for r in Resident.objects.select_related("household"))
    return households, residents


def _other_path() -> Any:
    """The import as it runs when the tables cannot be taken (rows and indexes written together)."""
    return mock.patch.object(loadindexes, "tables_locked_if_free", return_value=False)


def test_a_first_load_stores_what_the_other_path_stores_and_leaves_the_schema_as_it_was() -> None:
    tables = _new_community_tables(households=700)
    _empty_registry()
    schema = _schema()
    with transaction.atomic():
        with _other_path():
            expected_counts = registry_import(user=None, scope=PLATFORM, tables=tables)
        expected = _stored()
        transaction.set_rollback(True)
    assert Household.objects.count() == 0
    with mock.patch.object(loadindexes, "_restore", wraps=loadindexes._restore) as restore:  # noqa: SLF001
        counts = registry_import(user=None, scope=PLATFORM, tables=tables)
    assert restore.called  # the path was taken
    assert counts == expected_counts
    assert (len(expected[0]), len(expected[1])) == (700, len(tables["residents"]))
    assert _stored() == expected
    assert _schema() == schema  # the trigram indexes among them
    assert any("gin_trgm_ops" in definition for _name, definition, _valid in schema[0])


@pytest.mark.usefixtures("english")  # the reasons asserted in English
def test_a_rejected_first_load_reports_what_the_other_path_reports_and_keeps_every_index(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulkrun, "BATCH", 97)  # many batches: a repeat is found in the rows already written
    tables = _new_community_tables(households=500)
    residents = tables["residents"]
    assert len(residents) > 1100
    # the first bad row (households come first: none is bad) repeats a number written batches before
    residents[700]["id_number"] = residents[5]["id_number"]
    residents[700]["birth_date"] = residents[5]["birth_date"]
    residents[900]["birth_date"] = "1990-02-30"
    residents[1000]["id_number"] = residents[800]["id_number"]  # a repeat of a number never written
    residents[1000]["birth_date"] = residents[800]["birth_date"]
    residents[-1]["household_code"] = "NOWHERE"
    _empty_registry()
    schema = _schema()
    with _other_path(), pytest.raises(ImportRejected) as other:
        registry_import(user=None, scope=PLATFORM, tables=tables)
    drop_wrapped = mock.patch.object(loadindexes, "_drop", wraps=loadindexes._drop)  # noqa: SLF001
    with drop_wrapped as drop, pytest.raises(ImportRejected) as caught:
        registry_import(user=None, scope=PLATFORM, tables=tables)
    assert drop.called
    report = [(e.table, e.row, e.column, e.value, e.reason) for e in caught.value.errors]
    assert report == [(e.table, e.row, e.column, e.value, e.reason) for e in other.value.errors]
    assert caught.value.total == other.value.total == 5
    assert {(row, reason) for _t, row, column, _v, reason in report if column == "id_number"} == {
        (702, "this ID number is already in the registry"), (702, "duplicate ID number: also on row 7"),
        (1002, "duplicate ID number: also on row 802")}
    assert Household.objects.count() == Resident.objects.count() == 0
    assert _schema() == schema


def test_a_registry_with_rows_is_loaded_with_its_indexes_in_place() -> None:
    assert Household.objects.exists()  # the session's community
    tables = _new_community_tables(households=200)
    with mock.patch.object(loadindexes, "_drop") as drop:
        registry_import(user=None, scope=PLATFORM, tables=tables)
    assert not drop.called


def test_a_table_someone_reads_is_not_taken_and_nobody_waits() -> None:
    other = psycopg.connect(**connection.get_connection_params())
    try:
        other.execute("LOCK TABLE registry_resident IN ACCESS SHARE MODE")  # a reader, mid-transaction
        with transaction.atomic():
            assert tables_locked_if_free([Household, Resident]) is False
            assert Household.objects.exists()  # the transaction is still usable
        other.rollback()
        with transaction.atomic():
            assert tables_locked_if_free([Household, Resident]) is True
    finally:
        other.close()
