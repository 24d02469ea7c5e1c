"""Relief migrations that move data, run backwards and forwards on a confirmed round (transactional: SQLite
cannot alter a table inside the test's transaction)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from civicgrid.accounts.services import demo_users_create
from civicgrid.cli import community_rows
from civicgrid.core.scoping import PLATFORM
from civicgrid.registry.models import Household
from civicgrid.registry.services import registry_import
from civicgrid.relief import selectors, services
from civicgrid.relief.models import DeliveryStop, RoundAllocation
from tests.platform.test_relief_round_bulk import _confirm, _random_world
from tests.platform.test_relief_round_keys import _foreign_keys, _index_keys

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("english")]


@pytest.fixture
def community_loaded(community: object) -> None:
    """The session's community, loaded again if an earlier transactional test emptied the database."""
    if not Household.objects.exists():
        registry_import(user=None, scope=PLATFORM, tables=community_rows(community))
        demo_users_create()


def _second_stop_in_its_round(stop: DeliveryStop) -> int:
    """A second task of ``stop``'s round holding the same household, written in SQL by a schema before the stop
    named its round (relief 0011-0014: hand-made rows no service writes); returns the task's id."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO relief_deliverytask (round_id, building_id, place_path, point_id, status, "
                       "due_at, requeued, claimed_at, claim_expires_at, claimed_by_id, organisation_id) "
                       "SELECT round_id, building_id, place_path, point_id, status, due_at, requeued, claimed_at, "
                       "claim_expires_at, claimed_by_id, organisation_id FROM relief_deliverytask WHERE id = %s",
                       [stop.task_id])
        cursor.execute("SELECT max(id) FROM relief_deliverytask")
        task = int(cursor.fetchone()[0])
        cursor.execute("INSERT INTO relief_deliverystop (task_id, household_id, code, status, wrong_codes, "
                       "delivered_at, delivered_by_id, failure_reason) VALUES (%s, %s, 'x', 'pending', 0, NULL, "
                       "NULL, '')", [task, stop.household_id])
    return task


def _remove_task(task: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM relief_deliverystop WHERE task_id = %s", [task])
        cursor.execute("DELETE FROM relief_deliverytask WHERE id = %s", [task])


def _migrate(target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target] if target[1] else executor.loader.graph.leaf_nodes())


@pytest.mark.usefixtures("community_loaded")
def test_an_allocations_point_comes_back_from_its_rounds_snapshot() -> None:
    """Relief 0011 drops the allocation's point; backwards it is filled from the round's snapshot. Checked against
    the point each household is served from today (its community's), read independently of the snapshot."""
    places, items = _random_world(11, per_community=5)
    round = _confirm(services.round_confirm, places, items, policy="equity", seed=11, now=None)
    allocations = list(RoundAllocation.objects.filter(round=round).values_list("need_id", "household_id"))
    assert allocations
    points = selectors.points_by_path()
    paths = dict(Household.objects.values_list("pk", "place_path"))
    expected = {need: selectors.point_for_path(paths[household], points).pk for need, household in allocations}
    try:
        _migrate(("relief", "0010_round_confirmation"))
        with connection.cursor() as cursor:
            cursor.execute("SELECT need_id, point_id FROM relief_roundallocation WHERE round_id = %s", [round.pk])
            assert dict(cursor.fetchall()) == expected
            # NOT NULL again, as 0010 had it
            nullable = [c.null_ok for c in connection.introspection.get_table_description(
                cursor, "relief_roundallocation") if c.name == "point_id"]
            assert nullable == [False]
    finally:
        _migrate(("", ""))
    assert RoundAllocation.objects.filter(round=round).count() == len(allocations)
    assert "point_id" not in {c.name for c in connection.introspection.get_table_description(
        connection.cursor(), "relief_roundallocation")}


@pytest.mark.usefixtures("community_loaded")
def test_an_allocations_stop_comes_back_as_its_households_stop_in_the_round() -> None:
    """Relief 0012 drops the allocation's stop (found by round and household since); backwards each allocation with
    units names its household's stop again and the others none, as the round wrote them before."""
    places, items = _random_world(12, per_community=5)
    round = _confirm(services.round_confirm, places, items, policy="equity", seed=12, now=None)
    stop_of = dict(DeliveryStop.objects.filter(task__round=round).values_list("household_id", "pk"))
    rows = list(RoundAllocation.objects.filter(round=round).values_list("need_id", "household_id", "quantity"))
    expected = {need: stop_of[household] if quantity else None for need, household, quantity in rows}
    assert any(expected.values()) and None in expected.values()  # served and unserved needs both
    try:
        _migrate(("relief", "0011_allocation_without_point"))
        with connection.cursor() as cursor:
            cursor.execute("SELECT need_id, stop_id FROM relief_roundallocation WHERE round_id = %s", [round.pk])
            assert dict(cursor.fetchall()) == expected
    finally:
        _migrate(("", ""))
    assert "stop_id" not in {c.name for c in connection.introspection.get_table_description(
        connection.cursor(), "relief_roundallocation")}


@pytest.mark.usefixtures("community_loaded")
def test_relief_0012_stops_when_a_household_has_two_stops_in_a_round() -> None:
    """Forwards, 0012 refuses rows the (round, household) pair would read differently from the key: a second stop
    for a household in the same round (hand-made; the round writer makes one)."""
    places, items = _random_world(13, per_community=5)
    round = _confirm(services.round_confirm, places, items, policy="equity", seed=13, now=None)
    stop = DeliveryStop.objects.filter(task__round=round).order_by("pk").first()
    assert stop is not None
    _migrate(("relief", "0011_allocation_without_point"))
    try:
        task = _second_stop_in_its_round(stop)
        twice = re.escape(f"two stops in one round: [{{'task__round_id': {round.pk}, 'household_id': "
                          f"{stop.household_id}")
        with pytest.raises(RuntimeError, match=twice):
            _migrate(("relief", "0012_allocation_without_stop"))
        _remove_task(task)
    finally:
        _migrate(("", ""))
    assert "stop_id" not in {c.name for c in connection.introspection.get_table_description(
        connection.cursor(), "relief_roundallocation")}


@pytest.mark.usefixtures("community_loaded")
def test_a_rounds_snapshot_summary_is_filled_from_its_snapshot() -> None:
    """Relief 0014 adds the summary the round's page reads; a round confirmed before gets it from its snapshot:
    the snapshot without its requests, as a confirmation writes it now."""
    from civicgrid.relief.models import AllocationRound

    places, items = _random_world(14, per_community=5)
    round = _confirm(services.round_confirm, places, items, policy="equity", seed=14, now=None)
    written = AllocationRound.objects.get(pk=round.pk)
    assert written.snapshot_summary and "requests" not in written.snapshot_summary
    assert written.snapshot_summary == {k: v for k, v in written.snapshot.items() if k != "requests"}
    try:
        _migrate(("relief", "0013_allocation_household_round_index"))
        with connection.cursor() as cursor:
            columns = [c.name for c in connection.introspection.get_table_description(
                cursor, "relief_allocationround")]
            assert "snapshot_summary" not in columns
    finally:
        _migrate(("", ""))
    assert AllocationRound.objects.get(pk=round.pk).snapshot_summary == written.snapshot_summary


@pytest.mark.usefixtures("community_loaded")
def test_a_stop_gets_its_tasks_round_and_a_second_stop_in_a_round_stops_relief_0015() -> None:
    """Relief 0015 has each stop name its round (its task's), with one stop per household in a round. Backwards the
    column goes; forwards it is filled from the tasks, and a household with two stops in one round (hand-made:
    the (task, household) rule before allowed one in each of two tasks) stops the migration, naming the pair."""
    places, items = _random_world(15, per_community=5)
    round = _confirm(services.round_confirm, places, items, policy="equity", seed=15, now=None)
    written = dict(DeliveryStop.objects.filter(round=round).values_list("pk", "task__round_id"))
    assert written and set(written.values()) == {round.pk}
    stop = DeliveryStop.objects.filter(round=round).order_by("pk").first()
    assert stop is not None
    try:
        _migrate(("relief", "0014_round_snapshot_summary"))
        with connection.cursor() as cursor:
            columns = [c.name for c in connection.introspection.get_table_description(cursor, "relief_deliverystop")]
            assert "round_id" not in columns
        # backwards: Django's single key to the task, the (task, household) rule and the household's index again
        assert _foreign_keys("relief_deliverystop")[("task_id",)][:2] == ("relief_deliverytask", ("id",))
        assert ["task_id", "household_id"] in _index_keys("relief_deliverystop")
        assert ["household_id"] in _index_keys("relief_deliverystop")
        assert ["round_id"] in _index_keys("relief_deliverytask")
        task = _second_stop_in_its_round(stop)  # allowed by (task, household)
        twice = re.escape(f"have more (at most five shown): [{{'round_id': {round.pk}, 'household_id': "
                          f"{stop.household_id}, 'n': 2}}]")
        with pytest.raises(RuntimeError, match=twice):
            _migrate(("relief", "0015_stop_names_its_round"))
        _remove_task(task)
    finally:
        _migrate(("", ""))
    assert dict(DeliveryStop.objects.filter(pk__in=written).values_list("pk", "round_id")) == written
    keys = _foreign_keys("relief_deliverystop")  # forwards again: the keys of a fresh database
    if connection.vendor == "postgresql":
        assert keys[("round_id", "task_id")][:2] == ("relief_deliverytask", ("round_id", "id")), keys
        assert ("task_id",) not in keys and ("round_id",) not in keys, keys
    assert ["household_id", "round_id"] in _index_keys("relief_deliverystop")


@pytest.mark.usefixtures("community_loaded")
def test_the_composite_keys_go_back_to_djangos_and_come_again() -> None:
    """Relief 0008 and 0015 swap Django's single keys for composite ones on PostgreSQL
    (civicgrid.core.composite_keys); backwards past both, Django's keys are back, and forwards again the composite
    ones, as a fresh database has them."""
    postgres = connection.vendor == "postgresql"
    try:
        _migrate(("relief", "0007_need_tier"))
        allocation = _foreign_keys("relief_roundallocation")
        for column, target in (("need_id", "relief_need"), ("household_id", "registry_household"),
                               ("item_id", "relief_item")):
            assert allocation[(column,)][:2] == (target, ("id",)), allocation
        assert ("need_id", "household_id", "item_id") not in allocation
        assert _foreign_keys("relief_deliverystop")[("task_id",)][:2] == ("relief_deliverytask", ("id",))
    finally:
        _migrate(("", ""))
    allocation, stop = _foreign_keys("relief_roundallocation"), _foreign_keys("relief_deliverystop")
    if postgres:
        assert allocation[("need_id", "household_id", "item_id")][:2] == (
            "relief_need", ("id", "household_id", "item_id")), allocation
        assert stop[("round_id", "task_id")][:2] == ("relief_deliverytask", ("round_id", "id")), stop
        assert not {("need_id",), ("household_id",), ("item_id",)} & allocation.keys()
        assert not {("task_id",), ("round_id",)} & stop.keys()
    else:
        assert allocation[("need_id",)][:2] == ("relief_need", ("id",))
        assert stop[("task_id",)][:2] == ("relief_deliverytask", ("id",))
