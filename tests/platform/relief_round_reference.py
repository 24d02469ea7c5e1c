"""The relief round's confirmation as it was before the bulk path (issue 15), kept only as the tests' reference:
row by row through the ORM (needs read as one object per row, allocations and stops by ``bulk_create``, needs
updated per amount, stock issued lot by lot with an audit row each). No tests here."""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core import audit
from civicgrid.core.bulk import chunks
from civicgrid.core.locking import locked, serialised_block
from civicgrid.core.scoping import Scope, require, scoped
from civicgrid.registry.models import Household, Place
from civicgrid.relief import rounds, selectors
from civicgrid.relief.conf import relief_setting
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
from civicgrid.relief.roundconfirm import _common_place
from civicgrid.relief.services import _issue


def build_inputs(*, needs: list[rounds.NeedRow], items: dict[str, rounds.ItemRule],
                 stock: list[tuple[str, str, int]], days: int, place_paths: list[str],
                 item_codes: list[str]) -> rounds.RoundInputs:
    rows = [n for n in needs if n.remaining > 0]
    served = [n for n in rows if n.point is not None]
    requests = pd.DataFrame({
        "request_id": np.array([n.need_id for n in served], dtype=np.int64),
        "household_id": np.array([n.household_id for n in served], dtype=np.int64),
        "item": pd.Series([n.item for n in served], dtype=object),
        "need": np.array([n.remaining for n in served], dtype=np.int64),
        "weight": np.array([max(1.0, n.weight) for n in served], dtype=np.float64),
        "tier": np.array([rounds.tier_of(urgency=n.urgency, life_critical=items[n.item].life_critical)
                          for n in served], dtype=np.int64),
        "floor": np.zeros(len(served), dtype=np.int64),
        "requested_at": pd.Series([n.filed_at.isoformat() for n in served], dtype=object),
        "point": pd.Series([n.point for n in served], dtype=object),
        "weight_reason": pd.Series([n.weight_reason for n in served], dtype=object),
        "vulnerable": np.array([n.vulnerability_score >= rounds.vulnerable_score() for n in served], dtype=bool),
    })
    if len(served):
        codes = np.array([n.item for n in served], dtype=object)
        sizes = np.array([n.household_size for n in served], dtype=np.int64)
        requests["floor"] = rounds._floors(codes, sizes, items, days=days, need=requests["need"].to_numpy())
        requests = requests.sort_values("request_id", kind="stable").reset_index(drop=True)
    totals: dict[tuple[str, str], int] = {}
    for item, point, quantity in stock:
        totals[(item, point)] = totals.get((item, point), 0) + int(quantity)
    wanted = set(zip(requests["item"], requests["point"], strict=True))
    stock_rows = sorted((i, p, q) for (i, p), q in totals.items() if (i, p) in wanted and q > 0)
    stock_frame = pd.DataFrame({
        "item": pd.Series([r[0] for r in stock_rows], dtype=object),
        "point": pd.Series([r[1] for r in stock_rows], dtype=object),
        "quantity": np.array([r[2] for r in stock_rows], dtype=np.int64),
        "unit": pd.Series([items[r[0]].unit for r in stock_rows], dtype=object),
    })
    return rounds.RoundInputs(requests=requests, stock=stock_frame, days=days, place_paths=tuple(sorted(place_paths)),
                              item_codes=tuple(sorted(item_codes)), skipped_no_point=len(rows) - len(served))


def round_inputs(*, scope: Scope, places: list[Place], items: list[Item], days: int, lock: bool = False,
                 today: date | None = None) -> rounds.RoundInputs:
    require(scope, "relief_manage")
    today = today or timezone.localdate()
    paths = [p.path for p in places]
    area = Q(pk__in=[])
    for path in paths:
        area |= Q(household__place_path__startswith=path)
    needs = scoped(Need.objects.all(), scope).filter(area, status=Need.Status.OPEN, item__in=items)
    if lock:
        list(locked(Need.objects.filter(pk__in=needs.values("pk"))).values_list("pk"))
    points = selectors.points_by_path()
    rows = []
    for n in needs.values("id", "household_id", "household__size", "household__vulnerability_weight",
                          "household__vulnerability_score", "household__vulnerability_summary",
                          "household__place_path", "item__code", "urgency", "quantity", "allocated_quantity",
                          "filed_at").order_by("id"):
        point = selectors.point_for_path(n["household__place_path"], points)
        rows.append(rounds.NeedRow(
            need_id=n["id"], household_id=n["household_id"], household_size=n["household__size"],
            weight=n["household__vulnerability_weight"], vulnerability_score=n["household__vulnerability_score"],
            weight_reason=n["household__vulnerability_summary"], item=n["item__code"], urgency=n["urgency"],
            remaining=n["quantity"] - n["allocated_quantity"], filed_at=n["filed_at"],
            point=point.code if point else None))
    point_codes = {r.point for r in rows if r.point}
    lots = Lot.objects.filter(item__in=items, point__code__in=point_codes, quantity__gt=0).filter(
        Q(expiry__isnull=True) | Q(expiry__gte=today))
    if lock:
        lots = locked(lots)
    stock = [(code, point, q) for code, point, q in lots.values_list("item__code", "point__code", "quantity")]
    rules = {i.code: rounds.ItemRule(unit=i.unit, sphere_kind=i.sphere_kind, unit_size=i.unit_size,
                                     floor_units=i.floor_units, life_critical=i.life_critical) for i in items}
    return build_inputs(needs=rows, items=rules, stock=stock, days=days, place_paths=paths,
                        item_codes=[i.code for i in items])


def round_confirm(*, user: Any, scope: Scope, place_ids: list[Any], item_codes: list[str], days: Any, policy: str,
                  seed: int, now: datetime | None = None) -> AllocationRound:
    places, items, days = selectors.round_selection(scope=scope, place_ids=place_ids, item_codes=item_codes, days=days)
    now = now or timezone.now()
    with serialised_block():
        inputs = round_inputs(scope=scope, places=places, items=items, days=days, lock=True,
                              today=timezone.localdate(now))
        outcomes = {o.policy: o for o in rounds.compare_policies(inputs, seed=seed, explain=policy)}
        result = outcomes[policy].result
        rules = sorted({rule for batch in chunks(inputs.requests["household_id"].tolist())
                        for rule in Household.objects.filter(pk__in=batch).values_list("vulnerability_rule", flat=True)
                        .distinct()})
        snapshot = rounds.snapshot(inputs, policy=policy, seed=seed, vulnerability_rules=list(rules))
        round = AllocationRound.objects.create(
            place=_common_place(places), place_paths=list(inputs.place_paths), item_codes=list(inputs.item_codes),
            policy=policy, seed=seed, days=days, rule_version=rounds.RULE_VERSION, snapshot=snapshot,
            result={"request_id": [int(v) for v in result["request_id"]],
                    "allocated": [int(v) for v in result["allocated"]]},
            metrics={p: o.metrics for p, o in outcomes.items()}, fingerprint=inputs.fingerprint,
            n_requests=len(result), units_allocated=int(result["allocated"].sum()), confirmed_by=audit.acting_user(user),
            confirmed_at=now, due_at=now + timedelta(hours=relief_setting("delivery_hours")))
        _write_outcome(user=user, round=round, inputs=inputs, result=result, items=items, now=now)
        audit.record(user=user, event=ReliefEvent.ROUND_CONFIRMED, instance=round, new={
            "policy": policy, "seed": seed, "days": days, "places": round.place_paths, "items": round.item_codes,
            "requests": round.n_requests, "units_allocated": round.units_allocated, "fingerprint": round.fingerprint})
        return round


def _write_outcome(*, user: Any, round: AllocationRound, inputs: rounds.RoundInputs, result: Any,
                   items: list[Item], now: datetime) -> None:
    frame = inputs.requests.assign(allocated=result["allocated"].to_numpy(), explanation=result["explanation"]
                                   .astype(str).to_numpy(), stock_coverage=result["stock_coverage"].to_numpy())
    served = frame[frame["allocated"] > 0]
    households = Household.objects.in_bulk(served["household_id"].unique().tolist())
    points = {p.code: p for p in DistributionPoint.objects.filter(code__in=set(frame["point"]))}
    by_code = {i.code: i for i in items}
    buildings: dict[int, list[int]] = defaultdict(list)
    for hid in sorted(households):
        buildings[households[hid].building_id].append(hid)
    point_of = dict(zip(served["household_id"], served["point"], strict=False))
    tasks = DeliveryTask.objects.bulk_create([
        DeliveryTask(round=round, building_id=b, place_path=households[hids[0]].place_path,
                     point=points[point_of[hids[0]]], due_at=round.due_at) for b, hids in buildings.items()])
    stops = DeliveryStop.objects.bulk_create([
        DeliveryStop(task=task, round=round, household_id=hid, code=f"{secrets.randbelow(10**6):06d}")
        for task, hids in zip(tasks, buildings.values(), strict=True) for hid in hids])
    RoundAllocation.objects.bulk_create([
        RoundAllocation(round=round, need_id=r.request_id, household_id=r.household_id, item=by_code[r.item],
                        quantity=r.allocated, need_quantity=r.need, floor=r.floor, tier=r.tier,
                        weight=r.weight, stock_coverage=float(r.stock_coverage), explanation=r.explanation)
        for r in frame.itertuples(index=False)], batch_size=2000)
    for units, group in served.groupby("allocated")["request_id"]:
        for chunk in chunks(group.tolist()):
            Need.objects.filter(pk__in=chunk).update(allocated_quantity=F("allocated_quantity") + int(units),
                                                     updated_at=now)
    for chunk in chunks(served["request_id"].tolist()):
        Need.objects.filter(pk__in=chunk, allocated_quantity__gte=F("quantity")).update(status=Need.Status.ALLOCATED)
    totals = served.groupby(["item", "point"])["allocated"].sum()
    for (item_code, point_code), units in totals.items():
        _issue(user=user, item=by_code[item_code], point=points[point_code], quantity=int(units),
               kind=LedgerEntry.Kind.ALLOCATION, reason=_("allocation round #%(id)d") % {"id": round.pk}, now=now,
               round=round)
    audit.record_bulk(user=user, event=ReliefEvent.DELIVERY_TASKS_CREATED, model=DeliveryTask,
                      ids=[t.pk for t in tasks], counts={"tasks": len(tasks), "stops": len(stops), "round": round.pk},
                      place_path=round.place.path if round.place else "")
