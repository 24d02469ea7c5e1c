"""A year of complaints for each demo community, sized and shaped by its growth profile
(:func:`civicgrid.engine.social_growth.growth_profiles` over the sorted community codes: the share decided
on time is the profile's ``grievance_on_time``). Deterministic for a seed and a day. Every other number
below is an ASSUMPTION chosen to make a readable demo, not a measurement. Idempotent: nothing if any
complaint exists. One summarising audit event."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from civicgrid.core import audit
from civicgrid.engine.social_growth import growth_profiles
from civicgrid.grievances import chain, clock, conf
from civicgrid.grievances.events import GrievanceEvent
from civicgrid.grievances.models import Appeal, Grievance, Pause, Step
from civicgrid.registry.models import Household, Place

# ASSUMPTIONS (labelled): complaints per 1,000 households a month; what they are about; how often the clock
# is paused and for how long; how often a decision is appealed and upheld; how residents rate.
PER_1000_HOUSEHOLDS_MONTH = 6.0
KIND_SHARES = {"relief_round": 0.25, "case": 0.3, "organisation": 0.1, "volunteer": 0.05, "grid_member": 0.08,
               "decision": 0.17, "other": 0.05}
PAUSE_SHARE = 0.15
PAUSE_DAYS = (1, 6)
APPEAL_SHARE = {True: 0.06, False: 0.25}  # decided on time / late
UPHELD_SHARE = 0.35
RATED_SHARE = 0.7
TEXTS = {"relief_round": "物资分配名单遗漏了我家，申请复核。", "case": "报修事件办结但问题未解决。",
         "organisation": "服务机构约定的上门服务没有来。", "volunteer": "志愿者配送时态度不好。",
         "grid_member": "网格员入户登记时索要好处。", "decision": "对居委会停车位分配决定有异议。",
         "other": "小区公告栏信息长期不更新。"}
REASONS = [r for r, _label in Pause.Reason.choices]


def demo_load(*, households: int, seed: int) -> list[str]:
    if Grievance.objects.exists():
        return ["grievances: complaints already present"]
    codes = sorted(Place.objects.filter(level="community").values_list("code", flat=True))
    profiles = growth_profiles(codes)
    now = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    lines = []
    with transaction.atomic():
        ids: list[int] = []
        for i, code in enumerate(codes):
            community = Place.objects.get(code=code)
            made = _community(community, profiles[code].grievance_on_time, np.random.default_rng([seed, i, 13]), now)
            ids += made
            lines.append(f"grievances: {len(made)} complaints in {community.name} ({profiles[code].style}, "
                         f"{profiles[code].grievance_on_time:.0%} on time assumed)")
        audit.record_bulk(user=None, event=GrievanceEvent.DEMO_LOADED, model=Grievance, ids=ids,
                          counts={"grievances": len(ids)}, summary="")
    return lines or ["grievances: no community"]


def _community(community: Place, on_time_share: float, rng: np.random.Generator, now: datetime) -> list[int]:
    # only the columns a complaint copies (not every household's contact decrypted)
    homes = list(Household.objects.filter(place_path__startswith=community.path).order_by("code")
                 .only("id", "grid_id", "place_path"))
    if not homes:
        return []
    lam = max(1.0, PER_1000_HOUSEHOLDS_MONTH * len(homes) / 1000)
    n = int(rng.poisson(lam * 12))
    kinds, shares = list(KIND_SHARES), np.array(list(KIND_SHARES.values()))
    made: list[Grievance] = []
    rows: dict[Any, list[Any]] = {Pause: [], Step: [], Appeal: []}
    for k in range(n):
        home = homes[int(rng.integers(len(homes)))]
        filed = now - timedelta(days=float(rng.uniform(1, 365)))
        kind = kinds[int(rng.choice(len(kinds), p=shares / shares.sum()))]
        made.append(_one(community, home, kind, filed, k, on_time_share, rng, now, rows))
    # a community's complaints and what hangs off them in one statement each (the rows refer to their
    # complaint objects, which have their keys once inserted)
    Grievance.objects.bulk_create(made, batch_size=2000)
    for model, objects in rows.items():
        model.objects.bulk_create(objects, batch_size=2000)
    return [g.pk for g in made]


def _one(community: Place, home: Household, kind: str, filed: datetime, k: int, on_time_share: float,
         rng: np.random.Generator, now: datetime, rows: dict[Any, list[Any]]) -> Grievance:
    sensitive = kind == "grid_member"
    level = chain.start_level(sensitive=sensitive)
    pauses: list[clock.Pause] = []
    if rng.random() < PAUSE_SHARE:
        start = filed + timedelta(days=float(rng.uniform(0.5, 3)))
        pauses.append((start, start + timedelta(days=float(rng.uniform(*PAUSE_DAYS)))))
    due = clock.deadline(start=filed, limit=conf.hours("resolve_hours"), pauses=pauses)
    assert due is not None
    g = Grievance(
        code=f"GD-{community.code[-12:]}-{k:05d}", kind=kind, subject_ref="", subject_label="", description=TEXTS[kind],
        sensitive=sensitive, household=home, grid_id=home.grid_id, place_path=home.place_path,
        visible_path=chain.visible_path(home.place_path, sensitive=sensitive), level=level, filed_at=filed,
        level_started_at=filed, due_at=due,
        response_due_at=clock.deadline(start=filed, limit=conf.hours("response_hours"), pauses=pauses),
        level_due_at=clock.deadline(start=filed, limit=conf.hours("level_hours"), pauses=pauses),
        responded_at=filed + timedelta(hours=float(rng.uniform(2, 60))))
    for start, end in pauses:
        rows[Pause].append(Pause(grievance=g, reason=REASONS[int(rng.integers(len(REASONS)))],
                                 note="演示：等待补充材料", started_at=start, ended_at=end))
    steps: list[dict[str, Any]] = [{"action": "file", "at": filed}, {"action": "respond", "at": g.responded_at}]
    on_time = bool(rng.random() < on_time_share)
    closed = due + timedelta(days=float(rng.uniform(1, 12))) if not on_time else \
        filed + (due - filed) * float(rng.uniform(0.2, 0.95))
    if closed < now:
        g.state, g.closed_at, g.closed_on_time, g.reply = "closed", closed, closed <= due, "已核实并答复（演示数据）。"
        steps.append({"action": "close", "at": closed})
        if rng.random() < RATED_SHARE:
            g.rating = int(rng.choice([3, 4, 5], p=[0.2, 0.4, 0.4]) if on_time else rng.choice([1, 2, 3]))
        appeal = _appeal(g, on_time, rng, now, steps)
        if appeal is not None:
            rows[Appeal].append(appeal)
    elif g.responded_at and g.responded_at > now:
        g.responded_at = None
    rows[Step].extend(Step(grievance=g, level=level, note="演示", **s) for s in steps if s["at"] <= now)
    return g


def _appeal(g: Grievance, on_time: bool, rng: np.random.Generator, now: datetime,
            steps: list[dict[str, Any]]) -> Appeal | None:
    if g.closed_at is None or rng.random() >= APPEAL_SHARE[on_time]:
        return None
    filed = g.closed_at + timedelta(days=float(rng.uniform(1, 20)))
    if filed >= now:
        return None
    appeal = Appeal(grievance=g, reason="对答复不满意，申请复查（演示）。", filed_at=filed,
                    due_at=filed + conf.hours("appeal_hours"))
    steps.append({"action": "appeal", "at": filed})
    decided = filed + timedelta(days=float(rng.uniform(2, 14)))
    if decided < now:
        upheld = bool(rng.random() < UPHELD_SHARE)
        appeal.outcome = "upheld" if upheld else "dismissed"
        appeal.decided_at, appeal.decision = decided, "复查意见（演示数据）。"
        steps.append({"action": f"appeal_{appeal.outcome}", "at": decided})
        if upheld:  # decided again after the review, late by then
            g.closed_at, g.closed_on_time = min(decided + timedelta(days=3), now), False
            steps.append({"action": "close", "at": g.closed_at})
    else:
        g.state = "appealed"
    return appeal

