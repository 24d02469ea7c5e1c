"""What a district round's write leans on, checked against the database's own catalogue (issue 15).

- An allocation row refers to its need, household and item through one composite key on PostgreSQL. It costs one
  check per row at the commit instead of three. The key is still declared, and it refuses a copy that differs
  from the need's own. SQLite keeps Django's three keys.
- A round has one stop per household, a rule of the schema: (household, round) is unique, and on PostgreSQL the
  stop's composite key to its task refuses a round other than the task's (relief migration 0015).
- The needs' table keeps half of each page free on PostgreSQL, so a round's updates stay on the page.
- The needs' UPDATE names every indexed column, so B-tree skips its bottom-up deletion passes. A new index on a
  column it does not name fails here.
- Reading a COPY's rows straight from libpq gives what psycopg's reader gives, and an error mid-way is raised.
- Keys taken from a table's sequence are new, distinct and increasing.
"""

from __future__ import annotations

import pytest
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models.expressions import RawSQL

from civicgrid.core.bulk import IdBlock, read_frame
from civicgrid.registry.models import Household, Place
from civicgrid.relief import round_writes, services
from civicgrid.relief.models import (
    AllocationRound,
    DeliveryStop,
    DeliveryTask,
    Need,
    RoundAllocation,
)
from tests.platform.test_relief_round_bulk import _confirm, _random_world

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'")


def _foreign_keys(table: str) -> dict[tuple[str, ...], tuple[str, tuple[str, ...], bool]]:
    """{local columns: (referenced table, referenced columns, deferred)} of every foreign key of ``table``."""
    out = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.confrelid::regclass::text, c.condeferred, "
                "ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a "
                "ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i), "
                "ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a "
                "ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i) "
                "FROM pg_constraint c WHERE c.conrelid = %s::regclass AND c.contype = 'f'", [table])
            for target, deferred, local, remote in cursor.fetchall():
                out[tuple(local)] = (target, tuple(remote), deferred)
            return out
        cursor.execute(f"PRAGMA foreign_key_list({table})")
        for row in cursor.fetchall():
            out[(row[3],)] = (row[2], (row[4],), True)
    return out


def _index_keys(table: str) -> list[list[str]]:
    """The key columns of every index of ``table``, each in its order, from the catalogue."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a "
                "ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o) FROM pg_index i "
                "WHERE i.indrelid = %s::regclass", [table])
            return [list(row[0]) for row in cursor.fetchall()]
        cursor.execute(f"PRAGMA index_list({table})")
        out = []
        for name in [row[1] for row in cursor.fetchall()]:
            cursor.execute(f"PRAGMA index_info({name})")
            out.append([row[2] for row in sorted(cursor.fetchall())])
        return out


def _indexed_columns(table: str) -> set[str]:
    """Every column that some index of ``table`` holds as a key, from the catalogue."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT DISTINCT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                           "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass", [table])
            return {row[0] for row in cursor.fetchall()}
        cursor.execute(f"PRAGMA index_list({table})")
        names = [row[1] for row in cursor.fetchall()]
        columns = {"id"}  # the rowid's
        for name in names:
            cursor.execute(f"PRAGMA index_info({name})")
            columns.update(row[2] for row in cursor.fetchall())
        return columns


def test_an_allocation_refers_to_its_need_household_and_item_as_the_schema_declares() -> None:
    keys = _foreign_keys(RoundAllocation._meta.db_table)
    assert keys[("round_id",)][:2] == ("relief_allocationround", ("id",)), keys
    assert ("stop_id",) not in keys  # its stop is its household's in its round (relief migration 0012)
    if connection.vendor == "postgresql":
        assert keys[("need_id", "household_id", "item_id")] == (
            "relief_need", ("id", "household_id", "item_id"), True), keys
        assert not {("need_id",), ("household_id",), ("item_id",)} & keys.keys(), keys
    else:
        assert keys[("need_id",)][:2] == ("relief_need", ("id",))
        assert keys[("household_id",)][:2] == ("registry_household", ("id",))
        assert keys[("item_id",)][:2] == ("relief_item", ("id",))
    # every key is checked at the commit, as Django declares its own
    assert all(deferred for _target, _remote, deferred in keys.values())


@postgres_only
def test_an_allocation_whose_household_or_item_is_not_its_needs_is_refused() -> None:
    places, items = _random_world(31, per_community=6)
    round = _confirm(services.round_confirm, places, items, policy="equity", seed=31, now=None)
    allocation = RoundAllocation.objects.filter(round=round).order_by("pk").first()
    assert allocation is not None
    other = Household.objects.exclude(pk=allocation.household_id).order_by("pk").first()
    assert other is not None
    another_item = next(i for i in items.values() if i.pk != allocation.item_id)
    for change in ({"household_id": other.pk}, {"item_id": another_item.pk}):
        with pytest.raises(IntegrityError), transaction.atomic():
            RoundAllocation.objects.filter(pk=allocation.pk).update(**change)
            connection.check_constraints()  # the deferred keys, checked now as at the commit
    # and a need that allocations refer to keeps its household and item
    with pytest.raises(IntegrityError), transaction.atomic():
        Need.objects.filter(pk=allocation.need_id).update(household_id=other.pk)
        connection.check_constraints()
    # the rows as written satisfy every key
    connection.check_constraints()


def test_a_stop_refers_to_its_task_and_round_as_the_schema_declares() -> None:
    keys = _foreign_keys(DeliveryStop._meta.db_table)
    assert keys[("household_id",)][:2] == ("registry_household", ("id",)), keys
    if connection.vendor == "postgresql":  # one check for both: the round is the task's (relief migration 0015)
        assert keys[("round_id", "task_id")] == ("relief_deliverytask", ("round_id", "id"), True), keys
        assert not {("task_id",), ("round_id",)} & keys.keys(), keys
    else:
        assert keys[("task_id",)][:2] == ("relief_deliverytask", ("id",))
        assert keys[("round_id",)][:2] == ("relief_allocationround", ("id",))
    assert all(deferred for _target, _remote, deferred in keys.values())
    # a household's stops are found through the (household, round) index, the household first
    indexes = _index_keys(DeliveryStop._meta.db_table)
    assert ["household_id", "round_id"] in indexes, indexes
    assert ["household_id"] not in indexes and ["task_id", "household_id"] not in indexes, indexes


@postgres_only
def test_a_stops_key_check_finds_its_task_by_a_point_lookup() -> None:
    """The key check of a stop is ``round_id = $1 AND id = $2`` on tasks written in the same transaction, which
    the planner takes for an empty table: it may pick any index on those columns. An index that leads with the
    round and stops there reads every task of the round for each stop (measured: a commit of 17 s instead of 10
    at a million requests), so every index here holding the round holds the id right after it."""
    indexes = _index_keys(DeliveryTask._meta.db_table)
    assert ["round_id", "id"] in indexes, indexes
    assert all(index[:2] == ["round_id", "id"] for index in indexes if "round_id" in index), indexes


def test_a_household_has_one_stop_in_a_round_whatever_the_task() -> None:
    places, items = _random_world(33, per_community=6)
    round = _confirm(services.round_confirm, places, items, policy="equity", seed=33, now=None)
    stop = DeliveryStop.objects.filter(round=round).select_related("task").order_by("pk").first()
    assert stop is not None
    other_task = DeliveryTask.objects.filter(round=round).exclude(pk=stop.task_id).order_by("pk").first()
    assert other_task is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        DeliveryStop.objects.create(task=other_task, round=round, household_id=stop.household_id, code="123456")
    # another household in the same task is a stop like any other
    with transaction.atomic():
        newcomer = Household.objects.exclude(relief_stops__round=round).order_by("pk").first()
        assert newcomer is not None
        DeliveryStop.objects.create(task=stop.task, round=round, household=newcomer, code="123456")
        connection.check_constraints()
        transaction.set_rollback(True)


@postgres_only
def test_a_stop_whose_round_is_not_its_tasks_is_refused() -> None:
    places, items = _random_world(34, per_community=6)
    first = _confirm(services.round_confirm, places, items, policy="equity", seed=34, now=None)
    second = AllocationRound.objects.create(
        place=first.place, policy=first.policy, seed=1, days=first.days, rule_version=first.rule_version,
        snapshot={}, result={}, fingerprint="x", confirmed_at=first.confirmed_at, due_at=first.due_at)
    stop = DeliveryStop.objects.filter(round=first).order_by("pk").first()
    assert stop is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        DeliveryStop.objects.filter(pk=stop.pk).update(round=second)
        connection.check_constraints()  # the deferred keys, checked now as at the commit
    with pytest.raises(IntegrityError), transaction.atomic():  # nor can the task move to another round
        DeliveryTask.objects.filter(pk=stop.task_id).update(round=second)
        connection.check_constraints()
    connection.check_constraints()


@postgres_only
def test_the_needs_table_keeps_half_of_each_page_free() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [Need._meta.db_table])
        assert "fillfactor=50" in (cursor.fetchone()[0] or [])


def test_the_needs_update_names_every_indexed_column() -> None:
    catalogue = _indexed_columns(Need._meta.db_table)
    named = set(round_writes._indexed_columns(Need))
    assert catalogue <= named, catalogue - named
    assert {"id", "household_id", "item_id", "status", "filed_at", "tier"} <= catalogue


@postgres_only
def test_rows_read_straight_from_libpq_are_the_rows_and_an_error_midway_is_raised() -> None:
    places, _items = _random_world(32, per_community=4)
    queryset = Place.objects.order_by("pk").values_list("pk", "path", "name")
    frame = read_frame(queryset, {"id": "int", "path": "text", "name": "text"})
    assert [tuple(r) for r in frame.itertuples(index=False)] == list(queryset)
    assert len(frame) > 20
    last = Place.objects.order_by("-pk").values_list("pk", flat=True).first()
    failing = Place.objects.order_by("pk").annotate(x=RawSQL("1 / (id - %s)", [last])).values_list("pk", "x")
    with pytest.raises(DataError, match="division by zero"), transaction.atomic():
        read_frame(failing, {"id": "int", "x": "int"})
    assert Place.objects.count() == len(frame)  # the connection still works


def test_keys_from_a_tables_sequence_are_new_distinct_and_increasing() -> None:
    block = IdBlock(DeliveryStop)
    # on PostgreSQL from the sequence, so a second block goes on from it; on SQLite one block per transaction
    second = IdBlock(DeliveryStop) if connection.vendor == "postgresql" else block
    keys = block.take(5) + second.take(3)
    assert keys == sorted(set(keys)) and len(keys) == 8
    assert IdBlock(DeliveryStop).take(0) == []
