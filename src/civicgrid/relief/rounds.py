"""From open needs and stock to the engine's tables, and back: the bridge between the relief records
and :func:`civicgrid.engine.allocation.allocate`.

A round's inputs are frozen as a JSON snapshot (columns of plain values), so a confirmed round can be
recomputed from the snapshot alone and give the same numbers whatever the registry says later.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from civicgrid.engine.allocation import POLICIES, allocate, allocate_each, sphere_floor
from civicgrid.engine.equity import equity_summary, group_report
from civicgrid.registry.models import vulnerable_score as registry_vulnerable_score

# How needs become requests. Change it whenever the tiers or floors below change: the version is kept
# in every round's snapshot.
RULE_VERSION = "relief-2026.1: tier 0 life-critical, 1 urgent, 2 normal; Sphere floors; others floor_units"
LIFE_CRITICAL_MAX_TIER = 0
SNAPSHOT_FORMAT = 1
REQUEST_FIELDS = ("request_id", "household_id", "item", "need", "weight", "tier", "floor", "requested_at",
                  "point", "weight_reason", "vulnerable")
STOCK_FIELDS = ("item", "point", "quantity", "unit")


def tier_of(*, urgency: str, life_critical: bool) -> int:
    """Lower is served first: life-critical needs (by urgency or by the item, e.g. insulin), then urgent
    ones, then the rest."""
    if urgency == "critical" or life_critical:
        return 0
    return 1 if urgency == "urgent" else 2


def vulnerable_score() -> float:
    return registry_vulnerable_score()


@dataclass(frozen=True)
class NeedRow:
    """What the round needs to know of one open need (read by the selectors)."""

    need_id: int
    household_id: int
    household_size: int
    weight: float
    vulnerability_score: float
    weight_reason: str
    item: str
    urgency: str
    remaining: int
    filed_at: datetime
    point: str | None


@dataclass(frozen=True)
class ItemRule:
    unit: str
    sphere_kind: str
    unit_size: float
    floor_units: int
    life_critical: bool


NEED_COLUMNS = ("need_id", "household_id", "household_size", "weight", "vulnerability_score", "weight_reason",
                "item", "urgency", "remaining", "filed_at", "point")


@dataclass(frozen=True)
class RoundInputs:
    """The engine's requests and stock for one round, plus what was left out and why.

    ``homes`` (household_id, building_id, place_path: where each requesting household lives) and ``lots``
    (lot_id, item, point, quantity, expiry, received_at: the stock lot by lot) are what a confirmation writes
    from; neither enters the engine, the fingerprint or the snapshot."""

    requests: pd.DataFrame
    stock: pd.DataFrame
    days: int
    place_paths: tuple[str, ...]
    item_codes: tuple[str, ...]
    skipped_no_point: int = 0
    vulnerable_from: float = field(default_factory=vulnerable_score)
    homes: pd.DataFrame | None = None
    lots: pd.DataFrame | None = None
    vulnerability_rules: tuple[str, ...] = ()
    # the newest need read (the highest id, whether it became a request or not; None when none was): a
    # confirmation that reads up to it leaves out the needs filed since, which wait for the next round
    last_need_id: int | None = None

    @cached_property
    def fingerprint(self) -> str:
        """A digest of everything the allocation depends on except the policy and seed, so a confirm
        can tell whether needs or stock changed since the preview: each column's values (numbers as their
        bytes, text joined), the days, places and items."""
        digest = hashlib.sha256()
        head = {"days": self.days, "places": list(self.place_paths), "items": list(self.item_codes),
                "rows": len(self.requests), "stock_rows": len(self.stock)}
        digest.update(json.dumps(head, sort_keys=True).encode())
        for table, names in ((self.requests, REQUEST_FIELDS), (self.stock, STOCK_FIELDS)):
            for name in names:
                digest.update(f"\x1e{name}\x1e".encode())
                digest.update(_column_bytes(table[name]))
        return digest.hexdigest()


def _column_bytes(column: pd.Series) -> bytes:
    values = column.to_numpy()
    if values.dtype.kind in "biuf":
        return np.ascontiguousarray(values.astype(values.dtype.newbyteorder("<"))).tobytes()
    plain = values.tolist()
    try:  # text only (the usual case): joined as is, the same bytes as below, without a call per value
        return "\x1f".join(plain).encode()
    except TypeError:
        return "\x1f".join("\x00" if v is None else str(v) for v in plain).encode()


def build_inputs(*, needs: Iterable[NeedRow], items: Mapping[str, ItemRule], stock: Iterable[tuple[str, str, int]],
                 days: int, place_paths: Iterable[str], item_codes: Iterable[str]) -> RoundInputs:
    """Requests (one per open need with a distribution point) and stock ((item, point, units) rows)."""
    rows = list(needs)
    frame = pd.DataFrame({
        "need_id": pd.Series([n.need_id for n in rows], dtype=np.int64),
        "household_id": pd.Series([n.household_id for n in rows], dtype=np.int64),
        "household_size": pd.Series([n.household_size for n in rows], dtype=np.int64),
        "weight": pd.Series([n.weight for n in rows], dtype=np.float64),
        "vulnerability_score": pd.Series([n.vulnerability_score for n in rows], dtype=np.float64),
        "weight_reason": pd.Series([n.weight_reason for n in rows], dtype=object),
        "item": pd.Series([n.item for n in rows], dtype=object),
        "urgency": pd.Series([n.urgency for n in rows], dtype=object),
        "remaining": pd.Series([n.remaining for n in rows], dtype=np.int64),
        "filed_at": pd.Series([n.filed_at.isoformat() for n in rows], dtype=object),
        "point": pd.Series([n.point for n in rows], dtype=object),
    })
    return inputs_from_frame(needs=frame, items=items, stock=stock, days=days, place_paths=place_paths,
                             item_codes=item_codes)


def inputs_from_frame(*, needs: pd.DataFrame, items: Mapping[str, ItemRule], stock: Iterable[tuple[str, str, int]],
                      days: int, place_paths: Iterable[str], item_codes: Iterable[str], homes: pd.DataFrame | None = None,
                      lots: pd.DataFrame | None = None, vulnerability_rules: Iterable[str] = ()) -> RoundInputs:
    """As :func:`build_inputs`, from the open needs as one frame (:data:`NEED_COLUMNS`; ``filed_at`` as ISO text,
    ``point`` None where no distribution point serves the household), column by column."""
    waiting = needs[needs["remaining"].to_numpy() > 0]
    served = waiting[waiting["point"].notna().to_numpy()]
    served = served.iloc[np.argsort(served["need_id"].to_numpy(), kind="stable")]
    codes = served["item"].to_numpy(dtype=object)
    urgency = served["urgency"].to_numpy(dtype=object)
    life_critical = np.zeros(len(served), dtype=bool)
    for code in pd.unique(codes):
        life_critical[codes == code] = items[code].life_critical
    tier = np.where((urgency == "critical") | life_critical, 0, np.where(urgency == "urgent", 1, 2))
    need = served["remaining"].to_numpy(dtype=np.int64)
    requests = pd.DataFrame({
        "request_id": served["need_id"].to_numpy(dtype=np.int64),
        "household_id": served["household_id"].to_numpy(dtype=np.int64),
        "item": pd.Series(codes, dtype=object),
        "need": need,
        "weight": np.maximum(1.0, served["weight"].to_numpy(dtype=np.float64)),
        "tier": tier.astype(np.int64),
        "floor": _floors(codes, served["household_size"].to_numpy(dtype=np.int64), items, days=days, need=need),
        "requested_at": pd.Series(served["filed_at"].to_numpy(dtype=object), dtype=object),
        "point": pd.Series(served["point"].to_numpy(dtype=object), dtype=object),
        "weight_reason": pd.Series(served["weight_reason"].to_numpy(dtype=object), dtype=object),
        "vulnerable": served["vulnerability_score"].to_numpy(dtype=np.float64) >= vulnerable_score(),
    })
    totals: dict[tuple[str, str], int] = {}
    for item, point, quantity in stock:
        totals[(item, point)] = totals.get((item, point), 0) + int(quantity)
    wanted = set(zip(requests["item"].tolist(), requests["point"].tolist(), strict=True))
    stock_rows = sorted((i, p, q) for (i, p), q in totals.items() if (i, p) in wanted and q > 0)
    stock_frame = pd.DataFrame({
        "item": pd.Series([r[0] for r in stock_rows], dtype=object),
        "point": pd.Series([r[1] for r in stock_rows], dtype=object),
        "quantity": np.array([r[2] for r in stock_rows], dtype=np.int64),
        "unit": pd.Series([items[r[0]].unit for r in stock_rows], dtype=object),
    })
    return RoundInputs(requests=requests, stock=stock_frame, days=days, place_paths=tuple(sorted(place_paths)),
                       item_codes=tuple(sorted(item_codes)), skipped_no_point=len(waiting) - len(served),
                       homes=homes, lots=lots, vulnerability_rules=tuple(sorted(set(vulnerability_rules))),
                       last_need_id=int(needs["need_id"].max()) if len(needs) else None)


def _floors(codes: np.ndarray, sizes: np.ndarray, items: Mapping[str, ItemRule], *, days: int,
            need: np.ndarray) -> np.ndarray:
    """Sphere minimum for the household's size where the item has a Sphere standard, else the item's
    minimum units; never above the need."""
    floor = np.zeros(len(codes), dtype=np.int64)
    for code in pd.unique(codes):
        rule = items[code]
        mask = codes == code
        if rule.sphere_kind == "water":
            floor[mask] = sphere_floor(sizes[mask], kind="water", unit_size=rule.unit_size, days=days,
                                       need=need[mask])
        elif rule.sphere_kind == "food":
            floor[mask] = sphere_floor(sizes[mask], kind="food", unit_size=rule.unit_size, days=days,
                                       need=need[mask])
        else:
            floor[mask] = np.minimum(need[mask], rule.floor_units)
    return floor


# --------------------------------------------------------------------------- policies side by side
@dataclass(frozen=True)
class PolicyOutcome:
    policy: str
    result: pd.DataFrame
    metrics: dict[str, Any]


def run(requests: pd.DataFrame, stock: pd.DataFrame, *, policy: str, seed: int, explain: bool = True) -> pd.DataFrame:
    if requests.empty:
        return pd.DataFrame(columns=["request_id", "allocated", "need", "floor", "weight", "explanation"])
    return allocate(requests.drop(columns=["vulnerable"]), stock, policy=policy, seed=seed,
                    life_critical_max_tier=LIFE_CRITICAL_MAX_TIER, explain=explain)


def compare_policies(inputs: RoundInputs, *, seed: int, explain: str = "",
                     policies: tuple[str, ...] = POLICIES) -> list[PolicyOutcome]:
    """Every policy of ``policies`` (by default all, ``equity`` first) on the same inputs; the sentences of each
    request are written only for the policy named by ``explain`` (the one a confirmation writes; a preview shows
    only the figures). Each policy's outcome is the same whichever others run with it."""
    if inputs.requests.empty:
        empty = {p: run(inputs.requests, inputs.stock, policy=p, seed=seed) for p in policies}
        return [PolicyOutcome(p, r, metrics(r, inputs.requests)) for p, r in empty.items()]
    # checked and encoded once for the policies (allocate_each gives what allocate gives for each)
    results = allocate_each(inputs.requests.drop(columns=["vulnerable"]), inputs.stock, policies=policies, seed=seed,
                            life_critical_max_tier=LIFE_CRITICAL_MAX_TIER, explain=(explain,) if explain else ())
    return [PolicyOutcome(p, r, metrics(r, inputs.requests)) for p, r in results.items()]


def metrics(result: pd.DataFrame, requests: pd.DataFrame) -> dict[str, Any]:
    """Equity figures of one allocation: the engine's summary, plus coverage, unmet share and mean
    satisfaction of vulnerable and other households (JSON-safe: NaN becomes None)."""
    if result.empty:
        return {"requests": 0}
    summary = {k: _json_number(v) for k, v in asdict(equity_summary(result)).items()}
    vulnerable = requests["vulnerable"].to_numpy(dtype=bool)
    # grouped by the flag itself (text labels would cost pandas a string conversion of every row), named after
    report = group_report(result, by=vulnerable)
    groups = {
        "vulnerable" if label else "other": {"requests": int(row["requests"]), "need": int(row["need"]), "allocated": int(row["allocated"]),
                     "coverage": _json_number(row["coverage"]), "unmet_share": _json_number(row["unmet_share"]),
                     "mean_satisfaction": _json_number(row["mean_satisfaction"])}
        for label, row in report.iterrows()
    }
    return {**summary, "groups": groups}


def _json_number(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else round(float(value), 6)
    return value


# --------------------------------------------------------------------------- snapshots
def snapshot(inputs: RoundInputs, *, policy: str, seed: int, vulnerability_rules: list[str]) -> dict[str, Any]:
    return {
        "format": SNAPSHOT_FORMAT,
        "rule_version": RULE_VERSION,
        "vulnerability_rules": sorted(set(vulnerability_rules)),
        "vulnerable_score_from": inputs.vulnerable_from,
        "policy": policy,
        "seed": seed,
        "days": inputs.days,
        "life_critical_max_tier": LIFE_CRITICAL_MAX_TIER,
        "place_paths": list(inputs.place_paths),
        "item_codes": list(inputs.item_codes),
        "skipped_no_point": inputs.skipped_no_point,
        "requests": _columns(inputs.requests, REQUEST_FIELDS),
        "stock": _columns(inputs.stock, STOCK_FIELDS),
    }


def snapshot_summary(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """A round's :func:`snapshot` without its requests: a few hundred bytes whatever the round's size."""
    return {key: value for key, value in snapshot.items() if key != "requests"}


def _columns(frame: pd.DataFrame, names: tuple[str, ...]) -> dict[str, list[Any]]:
    """Plain JSON values column by column (numpy's ``tolist`` gives Python numbers; text is already text)."""
    out = {}
    for name in names:
        values = frame[name].to_numpy()
        plain = values.tolist()
        # text (and None) is already plain: only other values (numpy scalars, dates) are converted
        out[name] = plain if values.dtype.kind in "biuf" or all(v is None or type(v) is str for v in plain) \
            else [_plain(v) for v in plain]
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def inputs_from_snapshot(data: Mapping[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    if data.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(f"unknown snapshot format {data.get('format')!r}")
    requests = pd.DataFrame({name: data["requests"][name] for name in REQUEST_FIELDS})
    requests = requests.astype({"request_id": np.int64, "household_id": np.int64, "need": np.int64,
                                "weight": np.float64, "tier": np.int64, "floor": np.int64, "vulnerable": bool,
                                "item": object, "point": object, "requested_at": object, "weight_reason": object})
    stock = pd.DataFrame({name: data["stock"][name] for name in STOCK_FIELDS})
    stock = stock.astype({"item": object, "point": object, "quantity": np.int64, "unit": object})
    return requests, stock


def recompute(data: Mapping[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The allocation and metrics of a snapshot, from the snapshot alone."""
    requests, stock = inputs_from_snapshot(data)
    result = run(requests, stock, policy=str(data["policy"]), seed=int(data["seed"]))
    return result, metrics(result, requests)


def item_totals(inputs: RoundInputs, outcomes: Iterable[PolicyOutcome]) -> list[dict[str, Any]]:
    """Per item of the selection (in ``item_codes`` order): its requests, the units they ask, the units in stock at
    their points, and the units each policy allocates (policy -> units), each a whole sum of its column."""
    requests, stock = inputs.requests, inputs.stock
    codes = list(inputs.item_codes)
    asked = requests.groupby("item")["need"].agg(["size", "sum"]) if len(requests) else None
    in_stock = stock.groupby("item")["quantity"].sum() if len(stock) else None
    given: dict[str, pd.Series] = {}
    for outcome in outcomes:
        result = outcome.result
        if len(result):  # the result's rows by request id, matched to the requests' items
            units = pd.Series(result["allocated"].to_numpy(dtype=np.int64), index=result["request_id"].to_numpy())
            by_request = units.reindex(requests["request_id"].to_numpy(), fill_value=0).to_numpy()
            given[outcome.policy] = pd.Series(by_request, index=requests.index).groupby(requests["item"]).sum()
        else:
            given[outcome.policy] = pd.Series(dtype=np.int64)
    return [{"item": code,
             "requests": int(asked.at[code, "size"]) if asked is not None and code in asked.index else 0,
             "need": int(asked.at[code, "sum"]) if asked is not None and code in asked.index else 0,
             "stock": int(in_stock.get(code, 0)) if in_stock is not None else 0,
             "allocated": {policy: int(series.get(code, 0)) for policy, series in given.items()}}
            for code in codes]
