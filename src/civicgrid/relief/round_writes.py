"""Writing a confirmed round in one burst: allocations, delivery tasks and stops, needs and stock.

The engine's outcome (:func:`outcome_frame`) is made before the write transaction, and so is everything the rows
are computed from; the rest of the rows (:func:`plan`: one task per building, one stop per household, the lots each
point's units come from, first expiry first) is pure Python, made while PostgreSQL takes the needs or, on SQLite,
before the transaction (:mod:`civicgrid.relief.roundconfirm` says why and in which order). The statements are a
handful whatever the number of requests, each table in one bulk statement (:mod:`civicgrid.core.bulk`: COPY on
PostgreSQL, one ``executemany`` on SQLite), the needs in one ``UPDATE ... FROM`` the allocation rows.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import F, Field, Model, Q

from civicgrid.core import audit
from civicgrid.core.bulk import IdBlock, columns_of, insert_rows, int_array, update_rows
from civicgrid.core.crypto import encrypt_many
from civicgrid.registry.models import Household
from civicgrid.relief import rounds
from civicgrid.relief.events import ReliefEvent
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


class StockChanged(Exception):
    """Less stock is left in a pool than the engine handed out (the lots changed since they were read)."""


class NeedsChanged(Exception):
    """A need the plan gives units to is no longer open with at least the units it asked for when it was read
    (cancelled, delivered or allocated by another round since), or its household has moved since (its stop would
    go to the old building, and the task's place would show it to the old grid's volunteers). Households are not
    locked: a move after this check, during the commit, is not seen (the README says so).

    ``made``: what the confirmation had made for the refused try (its plan and figures), for a retry whose
    reading again finds the same rows (:mod:`civicgrid.relief.roundconfirm`)."""

    made: Any = None


@dataclass(frozen=True)
class Plan:
    """The delivery and stock rows of a confirmation, in the order they are written."""

    tasks: list[tuple[int, str, str]]  # (building id, place path, point code), one per building
    stops: list[tuple[int, int, str]]  # (task index, household id, one-time code encrypted), one per household
    issues: list[tuple[int, str, str, int, int]]  # (lot id, item, point, units taken, units left)
    snapshot: dict[str, Any]  # the round's frozen inputs (rounds.snapshot)
    served: int  # needs given units
    served_sha256: str  # their digest (civicgrid.core.audit.ids_digest)


def outcome_frame(inputs: rounds.RoundInputs, result: pd.DataFrame) -> pd.DataFrame:
    """The requests with the engine's ``allocated``, ``explanation`` and ``stock_coverage`` (``result`` is in the
    requests' order), sorted by need: the allocation rows as :func:`write_allocations` writes them."""
    # the sentences stay Python strings (object dtype): pandas would copy a million of them into its string
    # type only for the writer to turn them back into Python strings (1.4 s at 1M requests)
    frame = inputs.requests.assign(allocated=result["allocated"].to_numpy(), explanation=pd.Series(
        result["explanation"].to_numpy(dtype=object), index=inputs.requests.index, dtype=object),
        stock_coverage=result["stock_coverage"].to_numpy())
    # in the needs' order: the (round, need) and need indexes then take each entry after the last, not at a random
    # leaf (1.2 s less of server CPU at a million requests), and the needs' UPDATE walks them in order
    return frame.sort_values("request_id", kind="stable")


def served_needs(frame: pd.DataFrame) -> list[int]:
    """The needs an :func:`outcome_frame` gives units to, ascending."""
    allocated = frame["allocated"].to_numpy(dtype=np.int64)
    return frame["request_id"].to_numpy(dtype=np.int64)[allocated > 0].tolist()


def plan(inputs: rounds.RoundInputs, frame: pd.DataFrame, *, policy: str, seed: int) -> Plan:
    """The delivery and stock rows of a round whose :func:`outcome_frame` is ``frame``. Pure Python: the
    confirmation makes it while PostgreSQL takes the needs (:mod:`civicgrid.core.alongside`)."""
    served = frame[frame["allocated"].to_numpy() > 0]
    homes = inputs.homes if inputs.homes is not None else pd.DataFrame(
        {"household_id": [], "building_id": [], "place_path": []})
    home = homes.set_index("household_id")
    households = np.unique(served["household_id"].to_numpy())  # ascending: tasks and stops in household order
    buildings = home["building_id"].reindex(households).to_numpy()
    paths = home["place_path"].reindex(households).to_numpy()
    point_of = dict(zip(served["household_id"].tolist(), served["point"].tolist(), strict=True))
    tasks: list[tuple[int, str, str]] = []
    task_of: dict[int, int] = {}
    members: list[list[int]] = []
    for hid, building, path in zip(households.tolist(), buildings.tolist(), paths.tolist(), strict=True):
        index = task_of.get(building)
        if index is None:
            index = task_of[building] = len(tasks)
            tasks.append((int(building), str(path), str(point_of[hid])))
            members.append([])
        members[index].append(hid)
    codes = encrypt_many(f"{secrets.randbelow(10**6):06d}" for _ in range(len(households)))
    stops = [(index, hid) for index, hids in enumerate(members) for hid in hids]
    return Plan(tasks=tasks, stops=[(i, h, c) for (i, h), c in zip(stops, codes, strict=True)],
                issues=_issues(inputs, served),
                snapshot=rounds.snapshot(inputs, policy=policy, seed=seed,
                                         vulnerability_rules=list(inputs.vulnerability_rules)),
                served=len(served), served_sha256=audit.ids_digest(served["request_id"].tolist()))


def same_frame(a: pd.DataFrame | None, b: pd.DataFrame | None) -> bool:
    """Whether two of the inputs' tables (lots, homes) hold the same rows in the same order."""
    if a is None or b is None:
        return a is None and b is None
    return a.reset_index(drop=True).equals(b.reset_index(drop=True))


def same_rows(first: rounds.RoundInputs, second: rounds.RoundInputs) -> bool:
    """Whether a plan made from ``first`` holds for ``second``: the same requests and stock (the fingerprint),
    the same lots and the same buildings of the households."""
    return (first.fingerprint == second.fingerprint and same_frame(first.lots, second.lots)
            and same_frame(first.homes, second.homes))


def _issues(inputs: rounds.RoundInputs, served: pd.DataFrame) -> list[tuple[int, str, str, int, int]]:
    """Each pool's units taken from its lots first expiry first (lots without expiry last), then oldest first,
    as :func:`civicgrid.relief.selectors.available_lots` orders them."""
    if served.empty:
        return []
    lots = inputs.lots
    if lots is None or lots.empty:
        raise StockChanged("no lots")
    order = lots.assign(no_expiry=lots["expiry"].isna()).sort_values(
        ["no_expiry", "expiry", "received_at", "lot_id"], kind="stable")
    pools = {key: list(zip(group["lot_id"].tolist(), group["quantity"].tolist(), strict=True))
             for key, group in order.groupby(["item", "point"], sort=False)}
    out = []
    for (item, point), units in served.groupby(["item", "point"])["allocated"].sum().items():
        left = int(units)
        for lot_id, quantity in pools.get((item, point), []):
            if left == 0:
                break
            take = min(left, int(quantity))
            out.append((int(lot_id), str(item), str(point), take, int(quantity) - take))
            left -= take
        if left:
            raise StockChanged(f"{left} units of {item} at {point} more than the lots hold")
    return out


def _db(model: type[Model], name: str, value: Any) -> Any:
    """``value`` as the database stores the field (aware datetimes, encrypted text, ...)."""
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return field.get_db_prep_save(value, connection)


def _defaults(model: type[Model], given: tuple[str, ...]) -> tuple[list[str], list[Any]]:
    """The other concrete columns of ``model`` and their default values (what a new row holds)."""
    names: list[str] = []
    values: list[Any] = []
    for f in model._meta.concrete_fields:
        if f.primary_key or f.attname in given:
            continue
        names.append(str(f.column))
        values.append(f.get_db_prep_save(f.get_default(), connection))
    return names, values


def write_allocations(*, round_id: int, frame: pd.DataFrame, items: list[Item]) -> None:
    """The round's outcome for each request of ``frame`` (an :func:`outcome_frame`), in one binary COPY. The
    round's own row may come later in the transaction: its key, like every key here, is checked at the commit."""
    item_ids = {i.code: i.pk for i in items}
    given = ("round_id", "need_id", "household_id", "item_id", "quantity", "need_quantity", "floor",
             "tier", "weight", "stock_coverage", "explanation")
    n = len(frame)
    insert_rows(RoundAllocation, given, zip(
        [round_id] * n, frame["request_id"].tolist(), frame["household_id"].tolist(),
        [item_ids[c] for c in frame["item"].tolist()], frame["allocated"].to_numpy(dtype=np.int64).tolist(),
        frame["need"].tolist(), frame["floor"].tolist(), frame["tier"].tolist(), frame["weight"].astype(float).tolist(),
        frame["stock_coverage"].astype(float).tolist(), [str(e) for e in frame["explanation"].tolist()],
        strict=True), binary=True)


def take_needs(*, round_id: int, now: datetime, served: list[int]) -> None:
    """Every need the round's allocations (already written) give units to takes them (:func:`_take_needs`);
    :class:`NeedsChanged` if one is no longer open with the units it asked for."""
    if _take_needs(round_id, now, served=served) != len(served):
        raise NeedsChanged(f"round #{round_id}: a served need changed since it was read")


def write_deliveries(*, user: Any, round: AllocationRound, plan: Plan, items: list[Item], now: datetime,
                     reason: str) -> None:
    """The delivery tasks and stops of ``round`` (already saved) and the stock its ``plan`` takes, audited with one
    summarising row per kind. :class:`NeedsChanged` if a served household moved since the read."""
    item_ids = {i.code: i.pk for i in items}
    codes = {point for _b, _p, point in plan.tasks} | {point for _l, _i, point, _t, _left in plan.issues}
    point_ids = dict(DistributionPoint.objects.filter(code__in=codes).values_list("code", "id"))

    given: tuple[str, ...] = ("round_id", "building_id", "place_path", "point_id", "due_at")
    rest, fill = _defaults(DeliveryTask, given)
    due = _db(DeliveryTask, "due_at", round.due_at)
    insert_rows(DeliveryTask, [*given, *rest], [
        (round.pk, building, path, point_ids[point], due, *fill) for building, path, point in plan.tasks])
    task_ids = dict(columns_of_pairs(DeliveryTask.objects.filter(round=round).values_list("building_id", "id")))

    # the stops' keys taken in one statement (IdBlock): the column's default would call nextval once a row (1.2 s
    # of server CPU at 570,000 stops); binary COPY (numbers and text only here): the server parses no text
    given = ("id", "task_id", "round_id", "household_id", "code")
    rest, fill = _defaults(DeliveryStop, given)
    task_of = [task_ids[building] for building, _path, _point in plan.tasks]  # task index -> id
    stop_ids = IdBlock(DeliveryStop).take(len(plan.stops))
    insert_rows(DeliveryStop, [*given, *rest], [(sid, task_of[index], round.pk, hid, code, *fill)
                                                for sid, (index, hid, code) in zip(stop_ids, plan.stops, strict=True)],
                binary=True)

    if _served_homes_moved(round, plan):
        raise NeedsChanged(f"round #{round.pk}: a served household moved since it was read")

    update_rows(Lot, key="id", columns=["quantity"], rows=[(left, lot) for lot, _i, _p, _take, left in plan.issues])
    given = ("at", "kind", "item_id", "point_id", "lot_id", "quantity", "balance_after", "reason", "user_id", "round_id")
    rest, fill = _defaults(LedgerEntry, given)
    at, user_id = _db(LedgerEntry, "at", now), getattr(audit.acting_user(user), "pk", None)
    insert_rows(LedgerEntry, [*given, *rest], [
        (at, LedgerEntry.Kind.ALLOCATION.value, item_ids[item], point_ids[point], lot, -take, left, reason[:200],
         user_id, round.pk, *fill) for lot, item, point, take, left in plan.issues])

    place_path = round.place.path if round.place else ""
    audit.record_bulk(user=user, event=ReliefEvent.DELIVERY_TASKS_CREATED, model=DeliveryTask,
                      ids=list(task_ids.values()), counts={"tasks": len(task_ids), "stops": len(plan.stops),
                                                           "round": round.pk},
                      place_path=place_path)
    audit.record_bulk(user=user, event=ReliefEvent.STOCK_ISSUED, model=Lot, ids=[i[0] for i in plan.issues],
                      counts={"round": round.pk, "lots": len(plan.issues), "ledger_entries": len(plan.issues),
                              "units": sum(i[3] for i in plan.issues)},
                      place_path=place_path, summary=reason[:200])


def _served_homes_moved(round: AllocationRound, plan: Plan) -> bool:
    """Whether a household the plan serves lives elsewhere now than its stop's task (moved since the read).

    PostgreSQL compares the plan's own lists, sent as arrays, with the households: a join of the stops and tasks
    just written would be planned from their statistics, which predate the round (an empty stops table made it a
    nested loop of 21 s at a million requests)."""
    if connection.vendor != "postgresql":
        # through the task's round: no index of the stops leads with the round (a household's stops lead)
        return DeliveryStop.objects.filter(task__round=round).filter(
            ~Q(household__building_id=F("task__building_id")) | ~Q(household__place_path=F("task__place_path"))
        ).exists()
    household = connection.ops.quote_name(Household._meta.db_table)
    # a count, not EXISTS: "the first one will do" makes a nested loop of stops x tasks look cheap, and it is
    # when a household did move, but a round where none did (the usual one) then pays 270 M comparisons (19 s);
    # the count is two hash joins (0.4 s)
    sql = (f"SELECT count(*) FROM unnest(%s::bigint[], %s::int[]) AS s(household_id, task) "
           f"JOIN unnest(%s::bigint[], %s::text[]) WITH ORDINALITY AS t(building_id, place_path, task) "
           f"ON t.task = s.task + 1 JOIN {household} h ON h.id = s.household_id "
           f"WHERE h.building_id <> t.building_id OR h.place_path <> t.place_path")
    with connection.cursor() as cursor:
        cursor.execute(sql, [int_array(hid for _index, hid, _code in plan.stops),
                             int_array(index for index, _hid, _code in plan.stops),
                             [building for building, _path, _point in plan.tasks],
                             [path for _building, path, _point in plan.tasks]])
        return bool(cursor.fetchone()[0])


def columns_of_pairs(queryset: Any) -> list[tuple[Any, Any]]:
    """The two columns of a ``values_list`` queryset as pairs, read in one query without converters."""
    both = columns_of(queryset, ("a", "b"))
    return list(zip(both["a"], both["b"], strict=True))


def _indexed_columns(model: type[Model]) -> list[str]:
    """The columns of ``model`` that any of its indexes or unique constraints holds (key, predicate aside)."""
    meta = model._meta
    fields = {f.name: f for f in meta.concrete_fields}
    names = {name for name, f in fields.items() if f.primary_key or getattr(f, "db_index", False) or f.unique}
    for index in [*meta.indexes, *meta.constraints]:
        names.update(getattr(index, "fields", ()))
    return sorted({str(fields[name].column) for name in names})


def _take_needs(round_id: int, now: datetime, *, served: list[int]) -> int:
    """Every need the round gave units to (``served``, their ids ascending): its allocated quantity grows by them,
    and a need now fully allocated is ``allocated``; one statement from the round's own allocation rows. Returns
    how many needs it took units for: only those still open with at least the units they asked for when read
    (``need_quantity``), so a need cancelled, delivered or allocated by another round since is left alone, and
    the caller sees the shortfall. A need that grew since (a filing merged into it) still takes its units: the
    round then reads as made just before the filing.

    The statement also sets every indexed column to itself. A status change is never a HOT update, and PostgreSQL
    marks an index "logically unchanged" when the statement does not name its columns. Its B-tree then tries a
    bottom-up deletion pass on each full leaf page. In a round that pass never frees anything: the old versions
    are this transaction's, still visible to everyone else. It only reads heap pages and sorts. Naming the
    columns, which keeps their values, turns the hint off. Measured at 300,000 needs: 3.8 -> 3.2 s of server CPU
    (-17 %). Keys unchanged fire no foreign-key check, and a status kept still allows HOT. Only on PostgreSQL:
    SQLite rewrites the entries of every index whose columns a statement names, whatever their values."""
    qn = connection.ops.quote_name
    need, allocation = qn(Need._meta.db_table), qn(RoundAllocation._meta.db_table)
    same = "".join(f", {qn(c)} = {need}.{qn(c)}" for c in _indexed_columns(Need)
                   if c not in ("allocated_quantity", "updated_at", "status")) if connection.vendor == "postgresql" else ""
    sql = (f"UPDATE {need} SET allocated_quantity = {need}.allocated_quantity + a.quantity, updated_at = %s, "
           f"status = CASE WHEN {need}.allocated_quantity + a.quantity >= {need}.quantity THEN %s "
           f"ELSE {need}.status END{same} FROM {allocation} a WHERE a.round_id = %s AND a.quantity > 0 "
           f"AND a.need_id = {need}.id AND {need}.status = %s "
           f"AND {need}.quantity - {need}.allocated_quantity >= a.need_quantity")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Lock the needs first, in id order, as a filing does (relief.intake): an UPDATE locks its rows in
            # the order of its join, so a filing holding one served need and waiting for another could
            # deadlock with it. SQLite has its one write lock. The ids are the plan's own, sent as one array
            # (``served``, ascending): joining the allocations just written read them back and sorted them on
            # disk (1.4 s of server CPU at a million requests).
            cursor.execute(f"SELECT count(*) FROM (SELECT id FROM {need} WHERE id = ANY(%s::bigint[]) ORDER BY id "
                           f"FOR NO KEY UPDATE) served", [int_array(served)])
        cursor.execute(sql, [_db(Need, "updated_at", now), Need.Status.ALLOCATED.value, round_id,
                             Need.Status.OPEN.value])
        return int(cursor.rowcount)
