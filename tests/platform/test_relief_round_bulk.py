"""A round confirmed through the bulk path (issue 15): its rows are what the engine gives on tables built here from
the records, the same allocations, tasks, stops, needs, stock and ledger as the row-by-row path it replaced (kept as
the reference in ``relief_round_reference``) on randomized communities, a bounded number of statements however many
requests, the engine outside the write transaction, and a summarising audit row per kind that the chain verifies."""

from __future__ import annotations

import math
import random
import re
import threading
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from civicgrid.core import audit, auditchain
from civicgrid.core.errors import Conflict
from civicgrid.core.locking import writer_holds_everyone
from civicgrid.core.models import AuditLog
from civicgrid.engine.allocation import allocate
from civicgrid.registry import services as registry
from civicgrid.registry.models import Household, Place
from civicgrid.relief import round_writes, roundconfirm, rounds, selectors, services
from civicgrid.relief.intake import need_quantity_limit
from civicgrid.relief.models import (
    AllocationRound,
    DeliveryStop,
    DeliveryTask,
    DistributionPoint,
    Item,
    LedgerEntry,
    Lot,
    Need,
    RoundAllocation,
)
from tests.platform import relief_round_reference as reference
from tests.platform.relief_support import (
    SPHERE_FOOD_KCAL,
    SPHERE_WATER_L,
    catalogue,
    community,
    key,
    login,
    point_for,
    receive,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

DAYS = 3
URGENCIES = ("normal", "normal", "normal", "urgent", "critical")


def _random_world(seed: int, *, per_community: int = 30) -> tuple[list[Place], dict[str, Item]]:
    """Needs of random households of both communities (random items, amounts, urgencies) and stock of random
    lots (expiring, not expiring, one expired) covering a random share at each community's point."""
    rng = random.Random(seed)
    items = catalogue()
    user, scope = login("district")
    places = [community("C01"), community("C02")]
    for place in places:
        point = point_for(place)
        households = list(Household.objects.filter(place_path__startswith=place.path).order_by("code"))
        demand: dict[str, int] = {}
        for household in rng.sample(households, k=min(per_community, len(households))):
            persons = max(1, household.size)
            for name in rng.sample(["food", "water", "insulin", "medicine"], k=rng.randint(1, 3)):
                most = {"food": 7 * persons, "water": 15 * persons, "insulin": 3, "medicine": 4}[name]
                quantity = rng.randint(1, most)
                services.need_file(user=user, scope=scope, household_id=household.pk, item=items[name],
                                   quantity=quantity, urgency=rng.choice(URGENCIES), key=key())
                demand[name] = demand.get(name, 0) + quantity
        today = timezone.localdate()
        for name, units in demand.items():
            stock = int(units * rng.uniform(0.3, 0.9))
            for part in _split(stock, rng):
                expiry = rng.choice([None, today + timedelta(days=rng.randint(1, 90))])
                receive(items[name], point, part, expiry=expiry)
        receive(items["food"], point, 25, expiry=today - timedelta(days=1))  # expired: never allocated
    return places, items


def _split(units: int, rng: random.Random) -> list[int]:
    parts = []
    while units > 0:
        parts.append(min(units, rng.randint(1, max(1, units // 2 + 1))))
        units -= parts[-1]
    return parts


def _confirm(confirm: Any, places: list[Place], items: dict[str, Item], *, policy: str, seed: int,
             now: Any) -> AllocationRound:
    user, scope = login("district")
    return confirm(user=user, scope=scope, place_ids=[p.pk for p in places],
                   item_codes=[i.code for i in items.values()], days=DAYS, policy=policy, seed=seed, now=now)


def _written(round: AllocationRound) -> dict[str, Any]:
    """Everything a confirmation wrote or changed, without database ids that differ between runs (the round as
    stored, read back: its snapshot and result are saved from bytes packed apart from the values returned)."""
    round = AllocationRound.objects.get(pk=round.pk)
    stops = {s.pk: s for s in DeliveryStop.objects.filter(task__round=round).select_related("task")}
    stop_of = {s.household_id: s for s in stops.values()}  # one per household in a round
    assert len(stop_of) == len(stops)
    assert {s.round_id for s in stops.values()} == ({round.pk} if stops else set())  # its task's round
    by_round = re.compile(rf"#{round.pk}\b")
    return {
        "round": (round.place_id, round.place_paths, round.item_codes, round.policy, round.seed, round.days,
                  round.snapshot, round.result, round.metrics, round.n_requests, round.units_allocated,
                  round.confirmed_at, round.due_at),
        "allocations": sorted(
            (a.need_id, a.household_id, a.item_id, a.quantity, a.need_quantity, a.floor, a.tier, a.weight,
             a.stock_coverage, a.explanation,
             (stop_of[a.household_id].task.building_id if a.quantity else None))
            for a in RoundAllocation.objects.filter(round=round)),
        "tasks": sorted((t.building_id, t.place_path, t.point_id, t.due_at, t.status, t.organisation_id, t.requeued,
                         tuple(sorted(s.household_id for s in stops.values() if s.task_id == t.pk)))
                        for t in DeliveryTask.objects.filter(round=round)),
        "stops": sorted((s.household_id, s.task.building_id, s.status, s.wrong_codes, len(s.code), s.code.isdigit())
                        for s in stops.values()),
        "needs": sorted(Need.objects.values_list("id", "allocated_quantity", "status", "updated_at")),
        "lots": sorted(Lot.objects.values_list("id", "quantity")),
        "ledger": sorted((e.lot_id, e.kind, e.quantity, e.balance_after, by_round.sub("#N", e.reason), e.user_id)
                         for e in LedgerEntry.objects.filter(round=round)),
    }


class _Rollback(Exception):
    pass


@pytest.mark.parametrize(("seed", "policy"), [(1, "equity"), (2, "fcfs"), (3, "lottery"), (4, "equity")])
def test_the_bulk_path_writes_exactly_what_the_row_by_row_path_wrote(seed: int, policy: str) -> None:
    places, items = _random_world(seed)
    now = timezone.now().replace(microsecond=0) + timedelta(minutes=5)
    try:
        with transaction.atomic():
            old = _written(_confirm(reference.round_confirm, places, items, policy=policy, seed=seed, now=now))
            raise _Rollback
    except _Rollback:
        pass
    assert not AllocationRound.objects.exists() and not LedgerEntry.objects.filter(kind="allocation").exists()
    new = _written(_confirm(services.round_confirm, places, items, policy=policy, seed=seed, now=now))
    assert old["allocations"] and old["tasks"] and old["ledger"]
    for part in old:
        assert new[part] == old[part], part


def test_the_reader_gives_the_frames_the_row_by_row_reader_gave() -> None:
    places, items = _random_world(5)
    user, scope = login("district")
    for lock in (False, True):
        with transaction.atomic():
            fast = selectors.round_inputs(scope=scope, places=places, items=list(items.values()), days=DAYS, lock=lock)
            slow = reference.round_inputs(scope=scope, places=places, items=list(items.values()), days=DAYS, lock=lock)
        pd.testing.assert_frame_equal(fast.requests, slow.requests)
        pd.testing.assert_frame_equal(fast.stock, slow.stock)
        assert (fast.skipped_no_point, fast.place_paths, fast.item_codes) == (
            slow.skipped_no_point, slow.place_paths, slow.item_codes)


def _independent_requests(places: list[Place], items: dict[str, Item]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The engine's tables from the records, by the published rules (tiers by urgency and life-critical items,
    Sphere floors for food and water, the item's minimum otherwise), without the code under test."""
    points = {p.place.path: p.code for p in DistributionPoint.objects.select_related("place")}
    rows = []
    for need in Need.objects.filter(status="open").select_related("household", "item").order_by("id"):
        household, item = need.household, need.item
        left = need.quantity - need.allocated_quantity
        if item.code == "t-food":
            floor = min(left, math.ceil(household.size * SPHERE_FOOD_KCAL * DAYS / 2100))
        elif item.code == "t-water":
            floor = min(left, math.ceil(household.size * SPHERE_WATER_L * DAYS / 5))
        else:
            floor = min(left, item.floor_units)
        tier = 0 if need.urgency == "critical" or item.life_critical else 1 if need.urgency == "urgent" else 2
        point = next(code for path, code in points.items() if household.place_path.startswith(path))
        rows.append({"request_id": need.pk, "household_id": household.pk, "item": item.code, "need": left,
                     "weight": max(1.0, household.vulnerability_weight), "tier": tier, "floor": floor,
                     "requested_at": need.filed_at, "point": point,
                     "weight_reason": household.vulnerability_summary})
    today = timezone.localdate()
    stock: dict[tuple[str, str], int] = {}
    for lot in Lot.objects.filter(quantity__gt=0).select_related("item", "point"):
        if lot.expiry is None or lot.expiry >= today:
            stock[(lot.item.code, lot.point.code)] = stock.get((lot.item.code, lot.point.code), 0) + lot.quantity
    return pd.DataFrame(rows), pd.DataFrame([{"item": i, "point": p, "quantity": q, "unit": Item.objects.get(
        code=i).unit} for (i, p), q in stock.items()])


def test_a_confirmed_rounds_rows_are_what_the_engine_gives_on_independently_built_tables() -> None:
    places, items = _random_world(6)
    requests, stock = _independent_requests(places, items)
    expected = allocate(requests, stock, policy="equity", seed=6)
    round = _confirm(services.round_confirm, places, items, policy="equity", seed=6, now=None)
    rows = {a.need_id: a for a in RoundAllocation.objects.filter(round=round)}
    assert set(rows) == set(expected["request_id"].tolist())
    for rid, allocated, explanation in zip(expected["request_id"], expected["allocated"], expected["explanation"],
                                           strict=True):
        assert (rows[rid].quantity, rows[rid].explanation) == (allocated, explanation)
    # one stop in the round for each household one of whose needs got units, and none for the others
    stops = list(DeliveryStop.objects.filter(task__round=round).values_list("household_id", flat=True))
    assert sorted(stops) == sorted({a.household_id for a in rows.values() if a.quantity})
    # the needs took their units, the lots gave them, first expiry first and never below zero
    for need in Need.objects.filter(pk__in=rows):
        assert need.allocated_quantity == rows[need.pk].quantity
    taken = {(code, point): 0 for code, point in zip(stock["item"], stock["point"], strict=True)}
    point_of = dict(zip(requests["request_id"].tolist(), requests["point"].tolist(), strict=True))
    for a in rows.values():
        taken[(a.item.code, point_of[a.need_id])] += a.quantity
    for (code, point), units in taken.items():
        ledger = LedgerEntry.objects.filter(round=round, item__code=code, point__code=point)
        assert -sum(e.quantity for e in ledger) == units
    assert not Lot.objects.filter(quantity__lt=0).exists()


def test_stock_goes_first_expiry_first_from_the_lots_in_the_ledger() -> None:
    places, items = _random_world(7)
    round = _confirm(services.round_confirm, places, items, policy="equity", seed=7, now=None)
    today = timezone.localdate()
    for entry in LedgerEntry.objects.filter(round=round).select_related("lot"):
        lot = entry.lot
        assert lot.quantity == entry.balance_after >= 0
        assert lot.expiry is None or lot.expiry >= today  # an expired lot gives nothing
        # a lot that expires earlier at the same point, for the same item, was emptied first
        earlier = Lot.objects.filter(item=lot.item, point=lot.point, quantity__gt=0, expiry__gte=today)
        if lot.expiry is not None:
            assert not earlier.filter(expiry__lt=lot.expiry).exists()
        else:
            assert not earlier.exists()


def test_a_confirmations_statements_do_not_grow_with_its_requests() -> None:
    places, items = _random_world(8, per_community=8)
    counts = []
    for place in places:
        with CaptureQueriesContext(connection) as queries:
            _confirm(services.round_confirm, [place], items, policy="equity", seed=8, now=None)
        counts.append(len(queries))
        # four times as many households file needs in the other community before its round
        if len(counts) == 1:
            user, scope = login("district")
            rng = random.Random(8)
            households = list(Household.objects.filter(place_path__startswith=places[1].path).filter(
                relief_needs__isnull=True).order_by("code")[:32])
            for household in households:
                for name in ("food", "water"):
                    services.need_file(user=user, scope=scope, household_id=household.pk, item=items[name],
                                       quantity=rng.randint(1, 5), key=key())
                    point = DistributionPoint.objects.get(place=places[1])
                    receive(items[name], point, rng.randint(1, 4))
    assert Need.objects.filter(household__place_path__startswith=places[1].path).count() >= 4 * Need.objects.filter(
        household__place_path__startswith=places[0].path).count()
    assert counts[0] == counts[1] and counts[0] <= 42, counts


class _Watch:
    """Records, for a confirmation, each read of the needs (how many requests) and, for each run of the engine,
    whether it was inside the write transaction and whether it decided the round (the chosen policy, with its
    sentences) or only gave the other policies' figures; ``between`` runs once, after the engine has decided and
    before the transaction."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, between: Any) -> None:
        self.reads: list[tuple[bool, int]] = []  # (locked, requests)
        self.engine_inside: list[bool] = []  # the runs that decide the round
        self.figures_inside: list[bool] = []  # the runs for the other policies' figures
        self.figures_threads: list[str] = []  # the thread each of those ran in
        self.plans = 0  # plans made (one-time codes, stock by lot, the snapshot)
        self.inside = False
        real_inputs, real_compare, real_block = selectors.round_inputs, rounds.compare_policies, roundconfirm.serialised_block
        real_frame = round_writes.outcome_frame
        frames: list[Any] = []

        def inputs(**kwargs: Any) -> rounds.RoundInputs:
            found = real_inputs(**kwargs)
            self.reads.append((bool(kwargs.get("lock")), len(found.requests)))
            return found

        def compare(inputs: rounds.RoundInputs, *, seed: int, explain: str = "", **kwargs: Any
                    ) -> list[rounds.PolicyOutcome]:
            (self.engine_inside if explain else self.figures_inside).append(self.inside)
            if not explain:
                self.figures_threads.append(threading.current_thread().name)
            return real_compare(inputs, seed=seed, explain=explain, **kwargs)

        real_plan = round_writes.plan

        def plan(*args: Any, **kwargs: Any) -> Any:
            self.plans += 1
            return real_plan(*args, **kwargs)

        def frame(*args: Any, **kwargs: Any) -> Any:
            made = real_frame(*args, **kwargs)
            frames.append(made)
            if len(frames) == 1:
                between(made)
            return made

        from contextlib import contextmanager

        @contextmanager
        def block() -> Any:
            with real_block():
                self.inside = True
                try:
                    yield
                finally:
                    self.inside = False

        monkeypatch.setattr(roundconfirm, "serialised_block", block)
        monkeypatch.setattr(selectors, "round_inputs", inputs)
        monkeypatch.setattr(rounds, "compare_policies", compare)
        monkeypatch.setattr(round_writes, "outcome_frame", frame)
        monkeypatch.setattr(round_writes, "plan", plan)


def _units_are_consistent(round: AllocationRound) -> None:
    """Every need's allocated units are the sum of its rounds' allocations, never more than it asked for."""
    for need in Need.objects.all():
        given = sum(RoundAllocation.objects.filter(need=need).values_list("quantity", flat=True))
        assert need.allocated_quantity == given <= need.quantity, need.pk
    check = selectors.round_check(scope=login("district")[1], round=round)
    assert check.identical and check.requests == round.n_requests


def test_the_engine_runs_before_the_write_transaction_and_the_needs_are_read_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing changes in between: one read, no lock on the needs it does not serve, the engine once, outside."""
    places, items = _random_world(9)
    watch = _Watch(monkeypatch, between=lambda frame: None)
    round = _confirm(services.round_confirm, places, items, policy="equity", seed=9, now=None)
    assert watch.engine_inside == [False] and watch.reads == [(False, round.n_requests)]
    # the other policies' figures are made once: on PostgreSQL alongside the needs' update, inside the
    # transaction; on SQLite before it (its one write lock would hold every other writer up meanwhile)
    assert watch.figures_inside == [not writer_holds_everyone()]
    if not writer_holds_everyone():  # in the second thread, not in this one
        assert [name.startswith("civicgrid-alongside") for name in watch.figures_threads] == [True]
    assert watch.plans == 1
    monkeypatch.undo()
    _units_are_consistent(round)


def test_a_need_filed_while_the_round_is_planned_waits_for_the_next_round(monkeypatch: pytest.MonkeyPatch) -> None:
    """The round reads as made just before the filing: its requests are the first read's, the late need open."""
    places, items = _random_world(11)
    user, scope = login("district")
    late: list[Need] = []

    def between(frame: pd.DataFrame) -> None:
        household = Household.objects.filter(place_path__startswith=places[0].path,
                                             relief_needs__isnull=True).order_by("code").first()
        assert household is not None
        late.append(services.need_file(user=user, scope=scope, household_id=household.pk, item=items["food"],
                                       quantity=2, key=key()).need)

    watch = _Watch(monkeypatch, between=between)
    round = _confirm(services.round_confirm, places, items, policy="equity", seed=11, now=None)
    monkeypatch.undo()
    assert watch.engine_inside == [False] and watch.reads == [(False, round.n_requests)]
    late[0].refresh_from_db()
    assert late[0].status == Need.Status.OPEN and late[0].allocated_quantity == 0
    assert not RoundAllocation.objects.filter(need=late[0]).exists()
    _units_are_consistent(round)


def test_a_need_that_grew_while_the_round_was_planned_still_takes_its_units(monkeypatch: pytest.MonkeyPatch) -> None:
    """A filing merged into a need the plan serves: the plan still holds (the need asks for more, not less)."""
    places, items = _random_world(12)
    user, scope = login("district")
    grown: list[tuple[int, int]] = []

    def between(frame: pd.DataFrame) -> None:
        for row in frame[frame["allocated"] > 0].itertuples():
            need = Need.objects.select_related("household", "item").get(pk=row.request_id)
            outstanding = need.quantity - need.allocated_quantity
            if outstanding < need_quantity_limit(need.item, need.household):  # a merge asks for one unit more
                services.need_file(user=user, scope=scope, household_id=need.household_id, item=need.item,
                                   quantity=outstanding + 1, key=key())
                grown.append((need.pk, int(row.allocated)))
                return
        raise AssertionError("no served need can grow")

    watch = _Watch(monkeypatch, between=between)
    round = _confirm(services.round_confirm, places, items, policy="equity", seed=12, now=None)
    monkeypatch.undo()
    assert watch.engine_inside == [False] and len(watch.reads) == 1
    need = Need.objects.get(pk=grown[0][0])
    assert need.allocated_quantity == grown[0][1] and need.allocated_quantity < need.quantity
    assert need.status == Need.Status.OPEN  # it grew by one after the read, so the round no longer fills it
    _units_are_consistent(round)


@pytest.mark.parametrize("change", ["cancelled", "another round"])
def test_a_served_need_taken_while_the_round_was_planned_is_planned_again_under_locks(
        monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    """A need the plan serves is cancelled, or served by another round, in between: the try is rolled back (its
    rows and audit rows with it), the needs are read again under locks and the engine runs again inside."""
    places, items = _random_world(13)
    user, scope = login("district")
    taken: list[int] = []

    def between(frame: pd.DataFrame) -> None:
        need_id = int(frame[frame["allocated"] > 0].iloc[0]["request_id"])
        taken.append(need_id)
        if change == "cancelled":
            services.need_cancel(user=user, scope=scope, need_id=need_id)
        else:  # a round of one grid's worth: here, of that need's own community and item
            need = Need.objects.get(pk=need_id)
            place = next(p for p in places if need.household.place_path.startswith(p.path))
            _confirm(services.round_confirm, [place], {need.item.code: need.item}, policy="equity", seed=1,
                     now=None)

    before_rounds = AllocationRound.objects.count()
    watch = _Watch(monkeypatch, between=between)
    audit_before = AuditLog.objects.count()
    round = _confirm(services.round_confirm, places, items, policy="equity", seed=13, now=None)
    monkeypatch.undo()
    assert watch.engine_inside[0] is False and watch.engine_inside[-1] is True
    assert watch.reads[-1][0] is True  # the last read locked the needs
    need = Need.objects.get(pk=taken[0])
    if change == "cancelled":
        assert need.status == Need.Status.CANCELLED and need.allocated_quantity == 0
        assert not RoundAllocation.objects.filter(round=round, need=need).exists()
    _units_are_consistent(round)
    extra = 1 if change == "another round" else 0
    assert AllocationRound.objects.count() == before_rounds + 1 + extra  # the rolled-back try left no round
    # one summarising row per kind for the round (and the other round's, and the cancel's). The try is refused
    # before it records any (its rows are audited after the needs take their units); that the savepoint drops
    # what a try did record is tested in test_audit_chain.py
    events = list(AuditLog.objects.order_by("seq")[audit_before:].values_list("event", flat=True))
    assert events.count("relief.round_confirmed") == 1 + extra
    assert events.count("relief.delivery_tasks_created") == 1 + extra
    assert auditchain.verify().intact


def test_a_served_household_that_moved_while_the_round_was_planned_gets_its_stop_at_its_new_building(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Its stop (and its task's place, which decides whose volunteers see it) would be at the old building: the
    try is rolled back and the round planned again under locks, from where the household lives now."""
    places, items = _random_world(14)
    user, scope = login("district")
    moved: list[tuple[int, int]] = []

    def between(frame: pd.DataFrame) -> None:
        household = Household.objects.get(pk=int(frame[frame["allocated"] > 0].iloc[0]["household_id"]))
        community = next(p for p in places if household.place_path.startswith(p.path))
        elsewhere = Place.objects.filter(level="building", path__startswith=community.path).exclude(
            pk=household.building_id).exclude(households__relief_needs__isnull=False).order_by("code").first()
        assert elsewhere is not None
        registry.household_update(user=user, scope=scope, household=household, building=elsewhere)
        moved.append((household.pk, elsewhere.pk))

    watch = _Watch(monkeypatch, between=between)
    round = _confirm(services.round_confirm, places, items, policy="equity", seed=14, now=None)
    monkeypatch.undo()
    assert watch.reads[-1][0] is True  # read again, under locks
    household_id, building_id = moved[0]
    stop = DeliveryStop.objects.select_related("task").get(task__round=round, household_id=household_id)
    home = Household.objects.get(pk=household_id)
    assert (stop.task.building_id, stop.task.place_path) == (building_id, home.place_path)
    # every stop of the round is where its household lives
    for stop in DeliveryStop.objects.filter(task__round=round).select_related("task", "household"):
        assert (stop.task.building_id, stop.task.place_path) == (stop.household.building_id,
                                                                 stop.household.place_path)
    _units_are_consistent(round)


def test_a_change_since_the_preview_is_refused_with_its_fingerprint() -> None:
    places, items = _random_world(9)
    user, scope = login("district")
    preview = selectors.round_preview(scope=scope, place_ids=[p.pk for p in places],
                                      item_codes=[i.code for i in items.values()], days=DAYS, seed=9)
    household = Household.objects.filter(relief_needs__isnull=True).order_by("code").first()
    assert household is not None
    services.need_file(user=user, scope=scope, household_id=household.pk, item=items["water"], quantity=1, key=key())
    before = (AllocationRound.objects.count(), LedgerEntry.objects.count(), AuditLog.objects.count())
    with pytest.raises(Conflict):
        services.round_confirm(user=user, scope=scope, place_ids=[p.pk for p in places],
                               item_codes=[i.code for i in items.values()], days=DAYS, policy="equity", seed=9,
                               fingerprint=preview.inputs.fingerprint)
    assert (AllocationRound.objects.count(), LedgerEntry.objects.count(), AuditLog.objects.count()) == before


def test_one_summarising_audit_row_per_kind_with_digests_and_the_chain_verifies() -> None:
    places, items = _random_world(10)
    before = AuditLog.objects.count()
    round = _confirm(services.round_confirm, places, items, policy="equity", seed=10, now=None)
    rows = list(AuditLog.objects.order_by("seq")[before:])
    assert sorted(r.event for r in rows) == ["relief.delivery_tasks_created", "relief.round_confirmed",
                                             "relief.stock_issued"]
    by_event = {r.event: r for r in rows}
    served = RoundAllocation.objects.filter(round=round, quantity__gt=0).values_list("need_id", flat=True)
    confirmed = by_event["relief.round_confirmed"].new
    assert confirmed["needs_served"] == len(served) and confirmed["needs_served_sha256"] == audit.ids_digest(served)
    tasks = by_event["relief.delivery_tasks_created"].new
    assert tasks["ids_sha256"] == audit.ids_digest(DeliveryTask.objects.filter(round=round).values_list("id",
                                                                                                        flat=True))
    assert tasks["stops"] == DeliveryStop.objects.filter(task__round=round).count()
    issued = by_event["relief.stock_issued"].new
    ledger = LedgerEntry.objects.filter(round=round)
    assert issued["ids_sha256"] == audit.ids_digest(ledger.values_list("lot_id", flat=True))
    assert issued["units"] == -sum(e.quantity for e in ledger) == round.units_allocated
    assert auditchain.verify().intact


def test_batch_encryption_gives_fernet_tokens_under_the_first_key(settings: Any) -> None:
    """The one-time codes are encrypted in one batch: each token is a Fernet token (the spec's layout, a fresh IV
    each) that cryptography's own Fernet decrypts with the first field key, whatever the value's length."""
    import base64

    from cryptography.fernet import Fernet

    from civicgrid.core import crypto

    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CIVICGRID_FIELD_KEY = f"{first},{second}"
    values = [f"{i:06d}" for i in range(300)] + ["", "a" * 15, "b" * 16, "张三丰" * 7, "x" * 100]
    tokens = crypto.encrypt_many(values)
    assert tokens[values.index("")] == ""  # an empty value stays empty, as the encrypted field stores it
    values, tokens = [v for v in values if v], [t for t in tokens if t]
    assert [Fernet(first.encode()).decrypt(t.encode()).decode() for t in tokens] == values
    assert [crypto.decrypt(t) for t in tokens] == values
    raw = [base64.urlsafe_b64decode(t) for t in tokens]
    assert all(r[0] == 0x80 for r in raw)
    assert len({r[9:25] for r in raw}) == len(raw)  # a fresh IV per token
    assert crypto.encrypt_many([]) == []


def _state() -> tuple[Any, ...]:
    """Every row a confirmation writes or changes."""
    return (AllocationRound.objects.count(), RoundAllocation.objects.count(), DeliveryTask.objects.count(),
            DeliveryStop.objects.count(), LedgerEntry.objects.count(), AuditLog.objects.count(),
            sorted(Need.objects.values_list("id", "allocated_quantity", "status")),
            sorted(Lot.objects.values_list("id", "quantity")))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_stock_found_short_while_the_plan_is_made_refuses_the_round_with_nothing_written(
        monkeypatch: pytest.MonkeyPatch, language: str) -> None:
    """The plan finds the lots short (on PostgreSQL in the second thread, after the allocations are copied and
    the needs updated): a 409 in the requester's language, every row as it was, the connection usable."""
    places, items = _random_world(21)
    before = _state()

    def short(inputs: Any, served: Any) -> Any:
        raise round_writes.StockChanged("a lot emptied")

    monkeypatch.setattr(round_writes, "_issues", short)
    with translation.override(language), pytest.raises(Conflict) as refused:
        _confirm(services.round_confirm, places, items, policy="equity", seed=21, now=None)
    with translation.override(language):
        assert str(refused.value) == str(_("Needs or stock changed since your preview: check the new preview and "
                                           "confirm again."))
    assert _state() == before
    assert not connection.needs_rollback and Need.objects.exists()


def test_a_try_refused_by_its_needs_keeps_its_plan_when_the_rows_read_again_are_the_same(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The needs' update refuses the first try (as when a served need was taken meanwhile and given back): the
    needs, lots and buildings read again under locks are those the plan was made from, so the plan made for the
    try (its one-time codes, its snapshot) is written, not made again; the round is the one a plain confirm
    writes."""
    places, items = _random_world(22)
    real_take = round_writes.take_needs
    refusals: list[int] = []

    def refuse_once(**kwargs: Any) -> None:
        if not refusals:
            refusals.append(1)
            raise round_writes.NeedsChanged("taken meanwhile")
        real_take(**kwargs)

    now = timezone.now().replace(microsecond=0) + timedelta(minutes=5)
    try:
        with transaction.atomic():
            expected = _written(_confirm(services.round_confirm, places, items, policy="lottery", seed=22, now=now))
            raise _Rollback
    except _Rollback:
        pass
    watch = _Watch(monkeypatch, between=lambda frame: None)
    monkeypatch.setattr(round_writes, "take_needs", refuse_once)
    round = _confirm(services.round_confirm, places, items, policy="lottery", seed=22, now=now)
    assert refusals == [1] and watch.reads[-1][0] is True  # refused once, read again under the locks
    assert watch.plans == 1  # the try's plan, kept
    monkeypatch.undo()
    assert _written(round) == expected
    _units_are_consistent(round)
