"""A year of mediations for each demo community, shaped by its growth profile (growth_profiles over the
sorted community codes): ASSUMPTION, a hub community (many residents' own bodies) settles more disputes by
agreement than a fused one. Deterministic for a seed and a day; the parties are invented names. Every number
below is an ASSUMPTION for a readable demo. Idempotent: nothing if any mediation exists."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from civicgrid.core import audit
from civicgrid.engine.social_growth import growth_profiles
from civicgrid.mediation.events import MediationEvent
from civicgrid.mediation.models import Agreement, MediationCase, Party, Session
from civicgrid.registry.models import Place

PER_1000_HOUSEHOLDS_MONTH = 2.0  # ASSUMPTION: disputes brought to mediation
AGREED_SHARE = {"hub": 0.8, "middle": 0.65, "fused": 0.45}  # ASSUMPTION
SURNAMES = "王李张刘陈杨赵黄周吴"
GIVEN = ("建国", "秀英", "桂兰", "志强", "丽华", "国平", "淑珍", "海涛")
SUMMARIES = {"neighbour": "楼上楼下噪声纠纷。", "family": "赡养老人费用分担纠纷。", "property": "物业费与维修责任纠纷。",
             "tenancy": "租房押金退还纠纷。", "other": "公共空间占用纠纷。"}


def demo_load(*, households: int, seed: int) -> list[str]:
    if MediationCase.objects.exists():
        return ["mediation: cases already present"]
    codes = sorted(Place.objects.filter(level="community").values_list("code", flat=True))
    profiles = growth_profiles(codes)
    now = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    ids, lines = [], []
    with transaction.atomic():
        for i, code in enumerate(codes):
            community = Place.objects.get(code=code)
            rng = np.random.default_rng([seed, i, 17])
            grids = list(Place.objects.filter(level="grid", path__startswith=community.path).order_by("code"))
            homes = sum(g.grid_households.count() for g in grids)
            if not grids:
                continue
            n = int(rng.poisson(max(1.0, PER_1000_HOUSEHOLDS_MONTH * homes / 1000) * 12))
            made = [_one(community, grids[int(rng.integers(len(grids)))], k, AGREED_SHARE[profiles[code].style], rng, now)
                    for k in range(n)]
            ids += made
            lines.append(f"mediation: {len(made)} cases in {community.name} ({profiles[code].style})")
        audit.record_bulk(user=None, event=MediationEvent.DEMO_LOADED, model=MediationCase, ids=ids,
                          counts={"cases": len(ids)}, summary="")
    return lines or ["mediation: no community"]


def _one(community: Place, grid: Place, k: int, agreed_share: float, rng: np.random.Generator, now: datetime) -> int:
    category = list(SUMMARIES)[int(rng.integers(len(SUMMARIES)))]
    opened = now - timedelta(days=float(rng.uniform(3, 365)))
    case = MediationCase.objects.create(code=f"MD-{community.code[-12:]}-{k:05d}", category=category, place=grid,
                                        place_path=grid.path, grid=grid, summary=SUMMARIES[category], opened_at=opened)
    for side in ("applicant", "respondent"):
        name = SURNAMES[int(rng.integers(len(SURNAMES)))] + GIVEN[int(rng.integers(len(GIVEN)))]
        Party.objects.create(case=case, side=side, name=name, phone=f"139{int(rng.integers(10**7, 10**8)):08d}")
    Session.objects.create(case=case, held_at=opened + timedelta(days=2), note="双方陈述，调解员释法说理（演示）。")
    if rng.random() < agreed_share:
        agreed = opened + timedelta(days=float(rng.uniform(3, 20)))
        if agreed < now:
            Agreement.objects.create(case=case, text="双方达成和解（演示）。", made_at=agreed)
            case.parties.update(signed_at=agreed)
            case.state, case.agreed_at = "agreed", agreed
            case.follow_up_state, case.follow_up_due_at = "scheduled", agreed + timedelta(days=case.follow_up_days)
            if case.follow_up_due_at < now:
                case.follow_up_state, case.followed_up_at = "done", case.follow_up_due_at
                case.follow_up_note, case.state, case.closed_at = "协议履行良好（演示）。", "closed", case.follow_up_due_at
    elif opened + timedelta(days=30) < now:
        case.state, case.closed_at = "failed", opened + timedelta(days=30)
    case.save()
    return case.pk
