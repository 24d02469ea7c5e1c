"""Relief under real concurrency: threads with their own database connections and commits.

These tests need committed data, so they run in transactional tests that empty the database afterwards;
the module runs last (transactional/, ordered by tests/conftest.py) and builds everything it uses itself (a district of its own, one building
per task, its own volunteers).
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Sum
from django.utils import timezone

from civicgrid.accounts.models import Role
from civicgrid.accounts.roles import scope_for
from civicgrid.core.scoping import PLATFORM, Scope
from civicgrid.registry import services as registry
from civicgrid.registry.models import Actor, Person, Place, Post
from civicgrid.relief import services
from civicgrid.relief.models import (
    DeliveryStop,
    DeliveryTask,
    DistributionPoint,
    Item,
    LedgerEntry,
    Lot,
    Need,
    NeedFiling,
)
from tests.platform.transactional.racing import race

pytestmark = pytest.mark.django_db(transaction=True)
ADMIN = Scope(role="district_official", unrestricted=True)


def _place(code: str, level: str, parent: Place | None) -> Place:
    return Place.objects.create(code=code, name=code, level=level, parent=parent,
                                path=(parent.path if parent else "") + code + "/")


def _world(*, buildings: int, volunteers: int) -> tuple[list[DeliveryTask], list[Any], Item, DistributionPoint]:
    """A community of its own with one household per building, a food need each, stock for all of them, a
    confirmed round (one task per building) and a volunteer team of ``volunteers`` people with logins."""
    tag = uuid.uuid4().hex[:6].upper()
    district = _place(f"ZD{tag}", "district", None)
    community = _place(f"{district.code}-C", "community", _place(f"{district.code}-S", "subdistrict", district))
    grid = _place(f"{community.code}-G", "grid", community)
    households = [registry.household_create(user=None, scope=PLATFORM, code=f"{grid.code}-H{i}", address=f"building {i}",
                                            building=_place(f"{grid.code}-B{i}", "building", grid),
                                            housing_type="commodity") for i in range(buildings)]
    item = Item.objects.create(code=f"food-{tag.lower()}", name="Food ration", category="food", unit="rations")
    point = DistributionPoint.objects.create(code=f"dp-{tag.lower()}", name="point", place=community)
    for household in households:
        services.need_file(user=None, scope=ADMIN, household_id=household.pk, item=item, quantity=2,
                           key=uuid.uuid4().hex)
    services.stock_receive(user=None, scope=PLATFORM, item=item, point=point, quantity=2 * buildings)
    round = services.round_confirm(user=None, scope=ADMIN, place_ids=[community.pk], item_codes=[item.code],
                                   days=1, policy="equity", seed=1)
    team = Actor.objects.create(code=f"{tag}-TEAM", name="team", sector="society", kind="volunteer_team",
                                service_area=community)
    people = Person.objects.bulk_create([Person(code=f"{tag}-P{i}", name=f"v{i}") for i in range(volunteers)])
    Post.objects.bulk_create([Post(person=p, actor=team, role="volunteer") for p in people])
    users = get_user_model().objects.bulk_create([get_user_model()(username=f"{tag}-v{i}")
                                                  for i in range(volunteers)])
    Role.objects.bulk_create([Role(user=u, role="volunteer", person=p) for u, p in zip(users, people, strict=True)])
    return list(DeliveryTask.objects.filter(round=round).order_by("id")), users, item, point


def needs_world(*, households: int, stock: int) -> tuple[Place, Place, Item]:
    """A district of its own with one community, one household per building in its grid, a food need of 2 each,
    and ``stock`` rations at the community's point: (district, community, item)."""
    tag = uuid.uuid4().hex[:6].upper()
    district = _place(f"ZR{tag}", "district", None)
    community = _place(f"{district.code}-C", "community", _place(f"{district.code}-S", "subdistrict", district))
    grid = _place(f"{community.code}-G", "grid", community)
    item = Item.objects.create(code=f"food-{tag.lower()}", name="Food ration", category="food", unit="rations")
    point = DistributionPoint.objects.create(code=f"dp-{tag.lower()}", name="point", place=community)
    for i in range(households):
        household = registry.household_create(user=None, scope=PLATFORM, code=f"{grid.code}-H{i}",
                                              address=f"building {i}", housing_type="commodity",
                                              building=_place(f"{grid.code}-B{i}", "building", grid))
        services.need_file(user=None, scope=ADMIN, household_id=household.pk, item=item, quantity=2,
                           key=uuid.uuid4().hex)
    services.stock_receive(user=None, scope=PLATFORM, item=item, point=point, quantity=stock)
    return district, community, item


def _deadlocks() -> int | None:
    """PostgreSQL's count of deadlocks detected in this database (None on SQLite). A deadlock's victim may be a
    group-commit batch, which files each of its filings again on its own and succeeds: only this count shows it.
    Backends report their counts when they end (the race's threads close their connections)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def _kinds(results: list[Any]) -> Counter[str]:
    return Counter("ok" if not isinstance(r, Exception) else type(r).__name__ for r in results)


def test_exactly_one_of_fifty_simultaneous_claimers_wins() -> None:
    tasks, users, _, _ = _world(buildings=1, volunteers=50)
    scopes = [scope_for(u) for u in users]
    task = tasks[0]
    results = race([partial(services.delivery_task_claim, user=u, scope=s, task_id=task.pk)
                     for u, s in zip(users, scopes, strict=True)])
    assert _kinds(results) == Counter({"ok": 1, "Conflict": 49}), _kinds(results)
    winner = next(u for u, r in zip(users, results, strict=True) if not isinstance(r, Exception))
    task.refresh_from_db()
    assert (task.status, task.claimed_by_id) == ("claimed", winner.pk)


def test_the_claim_cap_holds_when_one_volunteer_claims_many_tasks_at_once(settings) -> None:
    settings.CIVICGRID_RELIEF = {"max_open_claims": 3}
    tasks, users, _, _ = _world(buildings=8, volunteers=1)
    user, scope = users[0], scope_for(users[0])
    results = race([partial(services.delivery_task_claim, user=user, scope=scope, task_id=t.pk) for t in tasks])
    assert _kinds(results) == Counter({"ok": 3, "Conflict": 5}), _kinds(results)
    assert DeliveryTask.objects.filter(claimed_by=user, status="claimed").count() == 3


def test_concurrent_stock_issues_never_take_more_than_the_stock() -> None:
    _, _, item, point = _world(buildings=1, volunteers=0)
    today = timezone.localdate()
    services.stock_receive(user=None, scope=PLATFORM, item=item, point=point, quantity=60, expiry=today + timedelta(days=2))
    services.stock_receive(user=None, scope=PLATFORM, item=item, point=point, quantity=40, expiry=today + timedelta(days=9))
    results = race([partial(services.stock_issue, user=None, scope=ADMIN, item=item, point_id=point.pk, quantity=7,
                             reason="kitchen") for _ in range(20)])
    assert _kinds(results) == Counter({"ok": 14, "InsufficientStock": 6}), _kinds(results)  # 14 x 7 = 98 <= 100
    lots = Lot.objects.filter(item=item, quantity__gte=0)
    assert lots.count() == Lot.objects.filter(item=item).count()
    assert lots.aggregate(n=Sum("quantity"))["n"] == 2
    for lot in lots:
        assert lot.ledger.aggregate(n=Sum("quantity"))["n"] == lot.quantity
    assert LedgerEntry.objects.filter(item=item, kind="issue").aggregate(n=Sum("quantity"))["n"] == -98


def test_simultaneous_filings_make_one_need() -> None:
    tasks, _, item, _ = _world(buildings=1, volunteers=0)
    household = tasks[0].stops.get().household
    other = Item.objects.create(code=f"water-{uuid.uuid4().hex[:6]}", name="Water", category="water", unit="bottles")
    same_key = uuid.uuid4().hex
    results = race([partial(services.need_file, user=None, scope=ADMIN, household_id=household.pk, item=other,
                             quantity=3, key=same_key) for _ in range(10)])
    assert _kinds(results) == Counter({"ok": 10})
    assert {r.need.pk for r in results} == {Need.objects.get(household=household, item=other).pk}
    assert NeedFiling.objects.filter(key=same_key).count() == 1 and sum(not r.replayed for r in results) == 1
    # different keys for the same open need: merged one after the other, never a second need
    results = race([partial(services.need_file, user=None, scope=ADMIN, household_id=household.pk, item=other,
                             quantity=q, key=uuid.uuid4().hex) for q in range(1, 11)])
    assert _kinds(results) == Counter({"ok": 10})
    need = Need.objects.get(household=household, item=other)
    assert need.quantity == 10 and need.filings.count() == 11


def test_a_round_confirmed_while_stock_is_issued_and_needs_are_filed_stays_consistent() -> None:
    """A district round plans outside its transaction and writes inside it: stock issued and needs filed at the
    same moment either come before its locked read (and are then in the round) or after its commit. Whatever
    the order, no lot goes below zero, every lot's ledger sums to its quantity, each need holds the units of its
    allocation rows, and the round recomputes to its rows."""
    from civicgrid.relief import selectors
    from civicgrid.relief.models import AllocationRound, RoundAllocation

    tasks, _, item, point = _world(buildings=12, volunteers=0)
    households = [t.stops.get().household for t in tasks]
    for household in households:  # the first round met the first needs in full: new ones now
        services.need_file(user=None, scope=ADMIN, household_id=household.pk, item=item, quantity=5,
                           key=uuid.uuid4().hex)
    services.stock_receive(user=None, scope=PLATFORM, item=item, point=point, quantity=40)
    community = point.place
    calls: list[Callable[[], Any]] = [partial(services.round_confirm, user=None, scope=ADMIN, place_ids=[community.pk],
                                              item_codes=[item.code], days=1, policy="equity", seed=2)]
    calls += [partial(services.stock_issue, user=None, scope=ADMIN, item=item, point_id=point.pk, quantity=3,
                      reason="kitchen") for _ in range(4)]
    calls += [partial(services.need_file, user=None, scope=ADMIN, household_id=h.pk, item=item, quantity=9,
                      key=uuid.uuid4().hex) for h in households[:4]]
    filings_before = Counter(NeedFiling.objects.values_list("need__household_id", flat=True))
    deadlocks = _deadlocks()
    results = race(calls)
    assert not isinstance(results[0], Exception), results[0]
    # the others landed too: an issue only refused for want of stock, every filing recorded once, no deadlock
    assert all(not isinstance(r, Exception) or isinstance(r, services.InsufficientStock) for r in results[1:5]), \
        results[1:5]
    assert not [r for r in results[5:] if isinstance(r, Exception)], results[5:]
    filings_after = Counter(NeedFiling.objects.values_list("need__household_id", flat=True))
    assert {h.pk: filings_after[h.pk] - filings_before[h.pk] for h in households} == {
        h.pk: 1 if i < 4 else 0 for i, h in enumerate(households)}
    assert _deadlocks() == deadlocks
    round = AllocationRound.objects.exclude(pk=tasks[0].round_id).get()
    assert not Lot.objects.filter(quantity__lt=0).exists()
    for lot in Lot.objects.filter(item=item):
        assert lot.ledger.aggregate(n=Sum("quantity"))["n"] == lot.quantity
    assert -LedgerEntry.objects.filter(round=round).aggregate(n=Sum("quantity"))["n"] == round.units_allocated
    for need in Need.objects.filter(item=item):
        rows = RoundAllocation.objects.filter(need=need).aggregate(n=Sum("quantity"))["n"] or 0
        assert need.allocated_quantity == rows <= need.quantity
    issued = sum(1 for r in results[1:5] if not isinstance(r, Exception))
    received = Lot.objects.filter(item=item).aggregate(n=Sum("initial_quantity"))["n"]
    allocated = RoundAllocation.objects.filter(item=item).aggregate(n=Sum("quantity"))["n"]
    assert Lot.objects.filter(item=item).aggregate(n=Sum("quantity"))["n"] == received - allocated - 3 * issued
    assert selectors.round_check(scope=ADMIN, round=round).identical


def test_deliveries_and_filings_merging_into_the_same_needs_never_deadlock(monkeypatch: pytest.MonkeyPatch) -> None:
    """A round that meets needs in part leaves them open: a delivery of such a need and a new filing merging
    into it lock the same need row and the needs tally's lock. Both take the need rows first, so none of them
    fails (PostgreSQL would end a cycle with "deadlock detected"), and the tally still equals a plain count.
    Both locks are held a while (the sleeps below: after taking the tally's lock early, and before a recount),
    so that a writer taking the tally before the need rows meets a filing that holds the need and waits for
    the tally (without the fix in ``delivery_stop_deliver`` this test ends in "deadlock detected")."""
    import time

    from civicgrid.core import tallies
    from civicgrid.relief import needcounts
    from civicgrid.relief.models import RoundAllocation

    hold, recount = needcounts.hold, needcounts.recount

    def slow_hold() -> None:
        hold()
        time.sleep(0.4)

    def slow_recount(grid_ids: Any) -> None:
        time.sleep(0.4)
        recount(grid_ids)

    monkeypatch.setattr(needcounts, "hold", slow_hold)
    monkeypatch.setattr(needcounts, "recount", slow_recount)
    tasks, users, item, point = _world(buildings=6, volunteers=6)
    households = [t.stops.get().household for t in tasks]
    for household in households:  # a second round meets these in part: 1 unit of 5 each
        services.need_file(user=None, scope=ADMIN, household_id=household.pk, item=item, quantity=5,
                           key=uuid.uuid4().hex)
    services.stock_receive(user=None, scope=PLATFORM, item=item, point=point, quantity=len(households))
    second = services.round_confirm(user=None, scope=ADMIN, place_ids=[point.place_id], item_codes=[item.code],
                                    days=1, policy="equity", seed=3)
    partly = Need.objects.filter(household__in=households, status="open", allocated_quantity__gt=0)
    assert partly.count() == len(households)
    tallies.rebuild(needcounts.NEEDS)  # counted: from here every write takes its lock
    stops = []
    for task, volunteer in zip(DeliveryTask.objects.filter(round=second).order_by("pk"), users, strict=False):
        services.delivery_task_claim(user=volunteer, scope=scope_for(volunteer), task_id=task.pk)
        stops.append((volunteer, task.stops.get()))
    calls: list[Callable[[], Any]] = []
    for volunteer, stop in stops:
        calls.append(partial(services.delivery_stop_deliver, user=volunteer, scope=scope_for(volunteer),
                             stop_id=stop.pk, code=stop.code))
        calls.append(partial(services.need_file, user=None, scope=ADMIN, household_id=stop.household_id,
                             item=item, quantity=7, key=uuid.uuid4().hex))
    results = race(calls)
    assert _kinds(results) == Counter({"ok": len(calls)}), [r for r in results if isinstance(r, Exception)]
    for need in Need.objects.filter(household__in=households, allocations__round=second):
        # its allocations whose stop (its household's in their round) was delivered
        delivered_rounds = DeliveryStop.objects.filter(household_id=need.household_id, status="delivered").values(
            "task__round_id")
        delivered = RoundAllocation.objects.filter(need=need, round_id__in=delivered_rounds).aggregate(
            n=Sum("quantity"))["n"] or 0
        assert need.delivered_quantity == delivered == 1 and need.quantity == 1 + 7  # merged: 1 given, 7 more
    plain = Counter(Need.objects.values_list("household__grid_id", "status"))
    assert {(c["grid"], c["group"]): int(c["needs"]) for c in tallies.read(needcounts.NEEDS) if c["needs"]} == plain


def test_filings_adding_to_the_needs_tally_race_recounts_and_it_stays_a_plain_count(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Filings add to the needs tally's cells (one upsert each, the tally's lock in share mode); cancellations
    recount their grid and the daily job the whole tally (the lock exclusively). Racing in one grid, with every
    lock held a while (the sleeps: an adder holds its cell before its audit rows, a recounter the tally's lock
    before its audit rows), none of them fails (an adder holding a cell and waiting for the audit chain while a
    recounter holding the chain waits for the cell would be a deadlock) and the tally equals a plain count of
    needs and critical needs per grid and status."""
    import time

    from civicgrid.core import tallies
    from civicgrid.relief import needcounts

    filed, hold = needcounts.filed, needcounts.hold

    def slow_filed(added: Any) -> None:
        filed(added)
        time.sleep(0.3)

    def slow_hold() -> None:
        hold()
        time.sleep(0.3)

    tasks, _users, _item, point = _world(buildings=8, volunteers=1)
    households = [t.stops.get().household for t in tasks]
    water = Item.objects.create(code=f"water-{uuid.uuid4().hex[:6]}", name="Water", category="water", unit="l")
    blanket = Item.objects.create(code=f"blanket-{uuid.uuid4().hex[:6]}", name="Blanket", category="other",
                                  unit="pieces")
    for household in households[:4]:
        services.need_file(user=None, scope=ADMIN, household_id=household.pk, item=blanket, quantity=1,
                           key=uuid.uuid4().hex)
    tallies.rebuild(needcounts.NEEDS)  # counted: from here filings add and other writes recount
    monkeypatch.setattr(needcounts, "filed", slow_filed)
    monkeypatch.setattr(needcounts, "hold", slow_hold)
    calls: list[Callable[[], Any]] = [
        partial(services.need_file, user=None, scope=ADMIN, household_id=h.pk, item=water, quantity=3,
                key=uuid.uuid4().hex, urgency="critical" if i % 2 else "normal") for i, h in enumerate(households)]
    calls += [partial(services.need_cancel, user=None, scope=ADMIN, need_id=n.pk)
              for n in Need.objects.filter(item=blanket).order_by("pk")]
    calls.append(partial(tallies.rebuild, needcounts.NEEDS))
    deadlocks = _deadlocks()
    results = race(calls)
    assert _deadlocks() == deadlocks
    assert _kinds(results) == Counter({"ok": len(calls)}), [r for r in results if isinstance(r, Exception)]
    plain: Counter[tuple[int, str]] = Counter()
    critical: Counter[tuple[int, str]] = Counter()
    for grid, status, urgency in Need.objects.values_list("household__grid_id", "status", "urgency"):
        plain[(grid, status)] += 1
        critical[(grid, status)] += urgency == "critical"
    cells = {(c["grid"], c["group"]): (int(c["needs"]), int(c["critical"])) for c in tallies.read(needcounts.NEEDS)
             if c["needs"]}
    assert cells == {cell: (n, critical[cell]) for cell, n in plain.items()}
    assert critical[(households[0].grid_id, "open")] == 4 and plain[(households[0].grid_id, "cancelled")] == 4


def test_a_household_moving_while_its_needs_are_filed_never_deadlocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """A household's move recounts the grids it left and entered (the needs tally's lock held exclusively, a
    while: the sleep), while filings for it lock the household's row and then add to the tally (its lock in
    share mode). Both take the household's row first, so neither fails (PostgreSQL would end a cycle with
    "deadlock detected"), and the tally equals a plain count afterwards."""
    import time

    from civicgrid.core import tallies
    from civicgrid.relief import needcounts

    hold_grid_tallies = tallies.hold_grid_tallies

    def slow_hold_grid_tallies() -> None:
        hold_grid_tallies()
        time.sleep(0.4)

    tasks, _users, _item, _point = _world(buildings=4, volunteers=1)
    households = [t.stops.get().household for t in tasks]
    community = households[0].grid.parent
    elsewhere = _place(f"{community.code}-G2", "grid", community)
    buildings = [_place(f"{elsewhere.code}-B{i}", "building", elsewhere) for i in range(len(households))]
    water = Item.objects.create(code=f"water-{uuid.uuid4().hex[:6]}", name="Water", category="water", unit="l")
    tallies.rebuild(needcounts.NEEDS)
    monkeypatch.setattr(tallies, "hold_grid_tallies", slow_hold_grid_tallies)
    calls: list[Callable[[], Any]] = []
    for household, building in zip(households, buildings, strict=True):
        calls.append(partial(registry.household_update, user=None, scope=PLATFORM, household=household,
                             building=building))
        calls.append(partial(services.need_file, user=None, scope=ADMIN, household_id=household.pk, item=water,
                             quantity=2, key=uuid.uuid4().hex, urgency="critical"))
    deadlocks = _deadlocks()
    results = race(calls)
    assert _kinds(results) == Counter({"ok": len(calls)}), [r for r in results if isinstance(r, Exception)]
    assert _deadlocks() == deadlocks  # not even one that a batch's retry hid
    plain = Counter(Need.objects.values_list("household__grid_id", "status"))
    assert {(c["grid"], c["group"]): int(c["needs"]) for c in tallies.read(needcounts.NEEDS) if c["needs"]} == plain
    assert plain[(elsewhere.pk, "open")] == len(households)  # every water need, counted where it now lives


def test_a_filing_racing_the_tallys_first_count_is_counted_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tally never counted gets its first whole count (the job) while needs are filed. A filing either waits
    for the count and then adds to it, or is counted by it: never neither (a need missing from the tally until
    the next day's recount) and never both. The count holds its lock a while before reading (the sleep), and
    each filing stays uncommitted a while after adding, so without the count's lock taken before its state is
    read a filing would see no tally, skip it, and commit after the count had read the needs."""
    import time

    from civicgrid.core import tallies
    from civicgrid.core.models import TallyRow, TallyState
    from civicgrid.relief import needcounts

    cells, filed = tallies._cells, needcounts.filed

    def slow_cells(name: str, *args: Any) -> Any:
        time.sleep(0.3)
        return cells(name, *args)

    def slow_filed(added: Any) -> None:
        filed(added)
        time.sleep(0.6)

    tasks, _users, _item, _point = _world(buildings=4, volunteers=1)
    households = [t.stops.get().household for t in tasks]
    water = Item.objects.create(code=f"water-{uuid.uuid4().hex[:6]}", name="Water", category="water", unit="l")
    TallyState.objects.filter(name=needcounts.NEEDS).delete()
    TallyRow.objects.filter(name=needcounts.NEEDS).delete()
    monkeypatch.setattr(tallies, "_cells", slow_cells)
    monkeypatch.setattr(needcounts, "filed", slow_filed)
    calls: list[Callable[[], Any]] = [partial(tallies.rebuild, needcounts.NEEDS)]
    calls += [partial(services.need_file, user=None, scope=ADMIN, household_id=h.pk, item=water, quantity=2,
                      key=uuid.uuid4().hex) for h in households]
    results = race(calls)
    assert _kinds(results) == Counter({"ok": len(calls)}), [r for r in results if isinstance(r, Exception)]
    assert TallyState.objects.filter(name=needcounts.NEEDS).exists()
    plain = Counter(Need.objects.values_list("household__grid_id", "status"))
    assert {(c["grid"], c["group"]): int(c["needs"]) for c in tallies.read(needcounts.NEEDS) if c["needs"]} == plain


@pytest.mark.skipif(connections["default"].vendor != "postgresql",
                    reason="row locks: SQLite serialises writers with its one write lock")
def test_a_round_locks_the_needs_it_serves_in_id_order_as_a_filing_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """A round's confirm locks the needs it serves in id order, as a filing batch locks its needs: with one
    served need held by another transaction, the confirm waits there holding every served need below it and
    none above, so a filing batch (which waits, in id order, at the first need the round holds) cannot hold a
    need the round still wants. The needs' rows are first moved out of id order on their pages, and the join is
    made a hash join that reads the needs in that order (as PostgreSQL plans it for a district's million
    needs): an UPDATE locking in the order it reads them does not pass."""
    from django.db import connection, transaction
    from django.db.utils import OperationalError

    district, community, item = needs_world(households=12, stock=24)
    needs = list(Need.objects.filter(item=item).order_by("id").values_list("id", flat=True))
    other = _place(f"{district.code}-D", "grid", _place(f"{district.code}-O", "community", community.parent))
    other = _place(f"{other.code}-B", "building", other)
    for i in range(150):  # needs outside the round, so the needs' table is the larger side of the join
        household = registry.household_create(user=None, scope=PLATFORM, code=f"{other.code}-H{i}",
                                              address=f"elsewhere {i}", housing_type="commodity", building=other)
        services.need_file(user=None, scope=ADMIN, household_id=household.pk, item=item, quantity=1,
                           key=uuid.uuid4().hex)
    Need.objects.filter(id__in=needs[:6]).update(note="moved")  # new row versions, after the others on the page
    middle = needs[6]
    from civicgrid.relief import round_writes

    real_take = round_writes._take_needs

    def take_as_at_scale(*args: Any, **kwargs: Any) -> int:
        with connection.cursor() as cursor:  # a district's plan: hash the round's rows, scan the needs
            cursor.execute("ANALYZE relief_need, relief_roundallocation; SET LOCAL enable_nestloop = off; "
                           "SET LOCAL enable_mergejoin = off; SET LOCAL enable_indexscan = off; "
                           "SET LOCAL enable_bitmapscan = off")
        return real_take(*args, **kwargs)

    monkeypatch.setattr(round_writes, "_take_needs", take_as_at_scale)

    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                Need.objects.select_for_update().get(pk=middle)
                held.set()
                release.wait(timeout=60)
        finally:
            connections.close_all()

    outcome: list[Any] = []

    def confirm() -> None:
        try:
            outcome.append(services.round_confirm(user=None, scope=ADMIN, place_ids=[community.pk],
                                                  item_codes=[item.code], days=1, policy="equity", seed=1))
        except Exception as exc:  # asserted on below
            outcome.append(exc)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(timeout=30)
    confirmer = threading.Thread(target=confirm)
    confirmer.start()
    try:
        import time

        for _ in range(600):  # until the confirm waits for the held need
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'")
                if cursor.fetchone()[0]:
                    break
            time.sleep(0.05)
        else:
            raise AssertionError("the confirm never waited for the held need")
        locked_now = []
        for need in needs:
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute("SELECT id FROM relief_need WHERE id = %s FOR UPDATE NOWAIT", [need])
            except OperationalError:
                locked_now.append(need)
        assert locked_now == needs[:7]  # every need below the held one (the round's) and the held one
    finally:
        release.set()
        holder.join(timeout=60)
        confirmer.join(timeout=120)
    assert not isinstance(outcome[0], Exception), outcome
    assert Need.objects.filter(id__in=needs, allocated_quantity=2).count() == 12


def _at_the_rounds_commit(monkeypatch: pytest.MonkeyPatch, community: Place, item: Item,
                          other: Callable[[], Any], waits_on: str) -> tuple[bool, Any, Any]:
    """Confirm a round of ``community`` and hold it after its last statement (the recount of its needs' tally):
    what remains is the commit, whose key checks lock, ``FOR KEY SHARE``, every need and household its rows refer
    to. Meanwhile ``other`` runs in another thread until it waits for a lock of kind ``waits_on`` (pg_locks), then
    the round commits. Returns (whether ``other`` waited, the round's outcome, ``other``'s outcome)."""
    import time

    from django.db import connection

    at_end, go = threading.Event(), threading.Event()
    real = services.needcounts.recount

    def recount(grids: Any) -> None:
        real(grids)
        if threading.current_thread().name == "round":
            at_end.set()
            go.wait(timeout=60)

    monkeypatch.setattr(services.needcounts, "recount", recount)
    out: dict[str, Any] = {}

    def run(name: str, call: Callable[[], Any]) -> None:
        try:
            out[name] = call()
        except Exception as exc:  # asserted on by the test
            out[name] = exc
        finally:
            connections.close_all()

    def waiting() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = %s", [waits_on])
            return bool(cursor.fetchone()[0])

    round_thread = threading.Thread(target=run, name="round", args=("round", lambda: services.round_confirm(
        user=None, scope=ADMIN, place_ids=[community.pk], item_codes=[item.code], days=1, policy="fcfs", seed=1)))
    round_thread.start()
    assert at_end.wait(timeout=60)
    other_thread = threading.Thread(target=run, name="other", args=("other", other))
    other_thread.start()
    for _ in range(200):
        if waiting():
            break
        time.sleep(0.05)
    waited = waiting()
    go.set()
    round_thread.join(timeout=60)
    other_thread.join(timeout=60)
    assert not round_thread.is_alive() and not other_thread.is_alive()
    return waited, out.get("round"), out.get("other")


@pytest.mark.skipif(connections["default"].vendor != "postgresql",
                    reason="row locks: SQLite serialises writers with its one write lock")
def test_a_need_cancelled_at_a_rounds_commit_waits_for_it_without_a_deadlock(monkeypatch: pytest.MonkeyPatch
                                                                              ) -> None:
    """The cancellation locks a need the round did not serve (the round's commit checks its key), then waits for
    the needs' tally the round holds: it must wait, and both must succeed."""
    _district, community, item = needs_world(households=3, stock=2)  # first come: the first need gets all
    before = _deadlocks()
    last = Need.objects.filter(item=item).order_by("id").last()
    assert last is not None
    waited, round, cancelled = _at_the_rounds_commit(
        monkeypatch, community, item, lambda: services.need_cancel(user=None, scope=ADMIN, need_id=last.pk),
        "advisory")
    assert waited
    assert not isinstance(round, Exception), round
    assert not isinstance(cancelled, Exception), cancelled
    assert _deadlocks() == before
    assert round.allocations.get(need_id=last.pk).quantity == 0
    assert Need.objects.get(pk=last.pk).status == Need.Status.CANCELLED


@pytest.mark.skipif(connections["default"].vendor != "postgresql",
                    reason="row locks: SQLite serialises writers with its one write lock")
def test_a_filing_into_a_need_a_round_serves_waits_for_its_commit_without_a_deadlock(monkeypatch: pytest.MonkeyPatch
                                                                                      ) -> None:
    """The filing locks the household (the round's commit checks its key), then waits for the need the round
    holds: it must wait, and both must succeed; the filing then makes a new need, the old one being allocated."""
    _district, community, item = needs_world(households=3, stock=2)
    before = _deadlocks()
    first = Need.objects.filter(item=item).order_by("id").first()
    assert first is not None
    waited, round, filed = _at_the_rounds_commit(monkeypatch, community, item, lambda: services.need_file(
        user=None, scope=ADMIN, household_id=first.household_id, item=item, quantity=1, key=uuid.uuid4().hex),
        "transactionid")
    assert waited
    assert not isinstance(round, Exception), round
    assert not isinstance(filed, Exception), filed
    assert _deadlocks() == before
    assert Need.objects.get(pk=first.pk).status == Need.Status.ALLOCATED
    assert Need.objects.filter(household_id=first.household_id, item=item, status=Need.Status.OPEN).count() == 1
