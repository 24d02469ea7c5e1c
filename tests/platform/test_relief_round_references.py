"""The references of a round's bulk rows on PostgreSQL (migration relief 0004): checked a statement at a time by
triggers instead of one deferred foreign-key check per row. An orphan cannot be written through any path: not by
an INSERT, a COPY or an UPDATE of a referencing row, not by a DELETE of a referred row; and the migration's list
covers every reference of the two tables that has no foreign key of its own."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from civicgrid.core.bulk import copy_rows
from civicgrid.relief import services
from civicgrid.relief.models import (
    AllocationRound,
    DeliveryStop,
    Item,
    Need,
    RoundAllocation,
)
from tests.platform.relief_support import (
    catalogue,
    community,
    grid_households,
    key,
    login,
    point_for,
    receive,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's triggers (SQLite keeps its keys)"),
]

migration = importlib.import_module("civicgrid.relief.migrations.0004_set_based_reference_checks")


def _round() -> tuple[RoundAllocation, DeliveryStop]:
    """A small confirmed round: one served allocation and its stop."""
    user, scope = login("district")
    items = catalogue()
    place = community("C01")
    for household in grid_households("C01-G01", limit=6):
        services.need_file(user=user, scope=scope, household_id=household.pk, item=items["water"], quantity=4,
                           key=key())
    receive(items["water"], point_for(place), 10)
    round = services.round_confirm(user=user, scope=scope, place_ids=[place.pk], item_codes=["t-water"], days=3,
                                   policy="equity", seed=1)
    allocation = RoundAllocation.objects.filter(round=round, stop__isnull=False).first()
    assert allocation is not None and allocation.stop is not None
    return allocation, allocation.stop


def _refused(sql: str, params: list[Any]) -> str:
    with pytest.raises(IntegrityError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(caught.value)


def _missing(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1000 FROM {table}")  # noqa: S608
        return int(cursor.fetchone()[0])


ALLOCATION_COLUMNS = ("round_id", "need_id", "household_id", "item_id", "point_id", "quantity", "need_quantity",
                      "floor", "tier", "weight", "stock_coverage", "explanation", "stop_id")


def _copy_of(allocation: RoundAllocation, **changes: Any) -> list[Any]:
    """The allocation's values for another round (a twin of its own: one allocation per need and round)."""
    twin = AllocationRound.objects.get(pk=allocation.round_id)
    twin.pk = None
    twin.save()
    values = {c: getattr(allocation, c) for c in ALLOCATION_COLUMNS}
    values["round_id"] = twin.pk
    values.update(changes)
    return [values[c] for c in ALLOCATION_COLUMNS]


def test_every_reference_of_the_bulk_tables_is_a_foreign_key_or_a_checked_trigger() -> None:
    listed = {(table, column): referred for table, column, referred in migration.REFERENCES}
    with connection.cursor() as cursor:
        for model in (RoundAllocation, DeliveryStop):
            table = model._meta.db_table
            for field in model._meta.concrete_fields:
                if not field.is_relation:
                    continue
                cursor.execute(
                    "SELECT count(*) FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid "
                    "AND a.attnum = ANY(c.conkey) WHERE c.contype = 'f' AND c.conrelid = %s::regclass "
                    "AND a.attname = %s", [table, field.column])
                keys = cursor.fetchone()[0]
                referred = field.related_model._meta.db_table  # type: ignore[union-attr]
                if (table, field.column) in listed:
                    assert listed[(table, field.column)] == referred
                    assert keys == 0, f"{table}.{field.column} is checked twice"
                    names = migration.trigger_names(table, field.column, referred)
                    cursor.execute("SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE tgname = ANY(%s)",
                                   [list(names.values())])
                    assert sorted(cursor.fetchall()) == sorted([(table, names["insert"]), (table, names["update"]),
                                                                (referred, names["delete"])])
                    # the statement's check names the column (or checks it with the need)
                    cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = %s", [names["insert"]])
                    source = cursor.fetchone()[0]
                    assert f"'{field.column}' AS col" in source or (
                        field.column in migration.SAME_AS_NEED.get(table, ()) and f"k.{field.column}" in source)
                else:
                    assert keys == 1, f"{table}.{field.column} has neither a foreign key nor a trigger"


def test_an_orphan_allocation_or_stop_is_refused_on_insert_copy_and_update() -> None:
    allocation, stop = _round()
    insert = (f"INSERT INTO relief_roundallocation ({', '.join(ALLOCATION_COLUMNS)}) "
              f"VALUES ({', '.join('%s' for _ in ALLOCATION_COLUMNS)})")
    for column, table in (("need_id", "relief_need"), ("point_id", "relief_distributionpoint"),
                          ("round_id", "relief_allocationround"), ("stop_id", "relief_deliverystop")):
        message = _refused(insert, _copy_of(allocation, **{column: _missing(table)}))
        assert f"1 value(s) of {column}" in message, message
    # an allocation's household and item are its need's: a missing one, or another existing one, is refused
    other_household = Need.objects.exclude(household_id=allocation.household_id).values_list(
        "household_id", flat=True).first()
    other_item = Item.objects.exclude(pk=allocation.item_id).values_list("id", flat=True).first()
    assert other_household is not None and other_item is not None
    for column, value in (("household_id", _missing("registry_household")), ("household_id", other_household),
                          ("item_id", _missing("relief_item")), ("item_id", other_item)):
        message = _refused(insert, _copy_of(allocation, **{column: value}))
        assert "1 value(s) of need_id" in message and "not the need's" in message, message
    # the same row with every reference present is written (the checks refuse only orphans)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(insert, _copy_of(allocation))
        transaction.set_rollback(True)
    # the bulk path (COPY) is checked the same way
    with pytest.raises(IntegrityError), transaction.atomic():
        copy_rows(RoundAllocation, list(ALLOCATION_COLUMNS), [tuple(_copy_of(allocation, stop_id=_missing(
            "relief_deliverystop")))])
    with pytest.raises(IntegrityError), transaction.atomic():
        copy_rows(DeliveryStop, ["task_id", "household_id", "code", "status", "wrong_codes", "failure_reason"],
                  [(stop.task_id, _missing("registry_household"), "x", "pending", 0, "")])
    _refused("UPDATE relief_roundallocation SET need_id = %s WHERE id = %s", [_missing("relief_need"), allocation.pk])
    _refused("UPDATE relief_deliverystop SET task_id = %s WHERE id = %s", [_missing("relief_deliverytask"), stop.pk])
    # an update that leaves the references alone is not checked (and passes)
    DeliveryStop.objects.filter(pk=stop.pk).update(wrong_codes=1)
    stop.refresh_from_db()
    stop.wrong_codes = 2
    stop.save()  # every column written, references unchanged


def test_a_referred_row_cannot_be_deleted_nor_its_id_changed() -> None:
    allocation, stop = _round()
    for sql, params in (("DELETE FROM relief_need WHERE id = %s", [allocation.need_id]),
                        ("DELETE FROM relief_deliverystop WHERE id = %s", [stop.pk]),
                        ("DELETE FROM relief_deliverytask WHERE id = %s", [stop.task_id]),
                        ("DELETE FROM relief_allocationround WHERE id = %s", [allocation.round_id]),
                        ("DELETE FROM registry_household WHERE id = %s", [allocation.household_id]),
                        ("DELETE FROM relief_item WHERE id = %s", [allocation.item_id]),  # no index: one scan
                        ("DELETE FROM relief_distributionpoint WHERE id = %s", [allocation.point_id]),
                        ("UPDATE relief_need SET id = %s WHERE id = %s", [_missing("relief_need"),
                                                                         allocation.need_id])):
        assert "refer" in _refused(sql, params)
    assert RoundAllocation.objects.filter(pk=allocation.pk, need_id=allocation.need_id).exists()
    # once nobody refers to it, a row is deleted as before
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM relief_roundallocation WHERE stop_id = %s", [stop.pk])
        cursor.execute("DELETE FROM relief_deliverystop WHERE id = %s", [stop.pk])
        assert cursor.rowcount == 1
        transaction.set_rollback(True)
