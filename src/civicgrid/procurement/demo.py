"""Demo data: a year of government purchase of services, sized by the engine's social-growth profiles
(:func:`civicgrid.engine.social_growth.growth_profiles` over the sorted community codes: the hub community
buys ``purchased_services`` = 6 services in the year, the fused one none).

Runs after the social app's demo (INSTALLED_APPS order), which registers the organisations: only verified
organisations serving a community apply there, and without any nothing is created (and the loader says so).
Each purchase: an appropriation of a state actor serving the community, a call published in the past year with
a two-week deadline, up to three applications, an award to the first, a contract of two or three milestones
tied to a deliverable an installed app counts; milestones already due are accepted (on the organisation's
report, an override stated as such, since the demo's records do not reach back a year) and paid.
Deterministic: the same registry and seed give the same purchases.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import numpy as np
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from civicgrid.core import audit
from civicgrid.core.places import ancestors
from civicgrid.core.plugins import deliverables
from civicgrid.engine.social_growth import growth_profiles
from civicgrid.procurement.events import ProcurementEvent
from civicgrid.procurement.models import (
    Application,
    Appropriation,
    Call,
    Contract,
    Milestone,
    Payment,
)
from civicgrid.registry.models import Actor, Place
from civicgrid.social.models import Organisation

# (service kind, Chinese title) of the purchases, in turn; the deliverable preferred for each kind
SERVICES = [("care_visit", "高龄独居老人上门探访服务"), ("delivery", "困难家庭物资代购配送服务"),
            ("psychosocial", "社区心理支持服务"), ("care_visit", "残疾人居家照护服务"),
            ("medical_escort", "慢病患者就医陪护服务"), ("psychosocial", "青少年课后关爱服务")]
PREFERRED = {"care_visit": "care_visits", "delivery": "deliveries_done"}
OVERRIDE_REASON = "按机构季度服务报告验收（演示数据早于平台记录）"


def demo_load(*, households: int, seed: int) -> list[str]:
    if Contract.objects.exists():
        return ["procurement: purchases already loaded; keeping them"]
    kinds = sorted(deliverables())
    if not kinds:
        return ["procurement: no app counts deliverables; no purchases created"]
    if not Organisation.objects.filter(verification=Organisation.Verification.VERIFIED).exists():
        return ["procurement: no verified social organisation yet; no purchases created"]
    with transaction.atomic():
        return _load(seed=seed, kinds=kinds)


def _serving(community: Place) -> Q:
    return Q(service_area__path__startswith=community.path) | Q(service_area__path__in=ancestors(community.path))


def _load(*, seed: int, kinds: list[str]) -> list[str]:
    communities = list(Place.objects.filter(level="community").order_by("code"))
    profiles = growth_profiles([c.code for c in communities])
    now = timezone.now()
    lines, contracts = [], []
    for index, community in enumerate(communities):
        wanted = profiles[community.code].purchased_services
        if not wanted:
            continue
        funder = Actor.objects.filter(_serving(community), sector="state").order_by("code").first()
        organisations = list(Organisation.objects.filter(verification=Organisation.Verification.VERIFIED,
                                                         actor__in=Actor.objects.filter(_serving(community)))
                             .select_related("actor").order_by("actor__code"))
        if funder is None or not organisations:
            lines.append(f"procurement: {community.code} has no state funder or no verified organisation; skipped")
            continue
        rng = np.random.default_rng([seed, index])
        amounts = [int(rng.integers(40, 160)) * 1_000_00 for _ in range(wanted)]  # 40,000 to 159,000 yuan
        appropriation = Appropriation.objects.create(
            name=f"{community.name}政府购买服务专项资金", place=community, funder=funder, year=now.year,
            amount_fen=sum(amounts) * 6 // 5)
        for i, amount in enumerate(amounts):
            contracts.append(_purchase(appropriation, community, organisations, i, amount, kinds, rng, now))
        lines.append(f"procurement: {community.code}: {wanted} purchased services")
    if contracts:
        audit.record_bulk(user=None, event=ProcurementEvent.DEMO_LOADED, model=Contract, ids=[c.pk for c in contracts],
                          counts={"contracts": len(contracts), "payments": Payment.objects.count()},
                          summary="")
    return lines


def _purchase(appropriation: Appropriation, community: Place, organisations: list[Organisation], i: int,
              amount: int, kinds: list[str], rng: np.random.Generator, now: datetime) -> Contract:
    kind, title = SERVICES[i % len(SERVICES)]
    published = now - timedelta(days=int(330 - i * 50))
    call = Call.objects.create(appropriation=appropriation, title=title, service_kind=kind, place=community,
                               budget_fen=amount + 10_000_00, deadline=published + timedelta(days=14))
    Call.objects.filter(pk=call.pk).update(published_at=published, status=Call.Status.AWARDED)
    start = int(rng.integers(0, len(organisations)))
    applicants = [organisations[(start + k) % len(organisations)] for k in range(min(3, len(organisations)))]
    applications = []
    for k, organisation in enumerate(applicants):
        applications.append(Application.objects.create(
            call=call, organisation=organisation, amount_fen=amount if k == 0 else amount + 5_000_00 * k,
            proposal="服务方案：按月上门，建立服务台账。",
            status=Application.Status.AWARDED if k == 0 else Application.Status.NOT_AWARDED))
    signed = call.deadline + timedelta(days=7)
    ends_on = (signed + timedelta(days=300)).date()
    contract = Contract.objects.create(call=call, application=applications[0], organisation=applicants[0],
                                       amount_fen=amount, arbiter_id=_arbiter(), signed_at=signed,
                                       ends_on=ends_on)
    preferred = PREFERRED.get(kind, "")
    deliverable = preferred if preferred in kinds else kinds[0]
    shares = [30, 40, 30] if i % 2 == 0 else [50, 50]
    paid = 0
    for n, share in enumerate(shares, start=1):
        fen = amount * share // 100 if n < len(shares) else amount - amount * sum(shares[:-1]) // 100
        due = (signed + timedelta(days=300 * n // len(shares))).date()
        done = timezone.make_aware(datetime.combine(due, time(17))) < now
        decided = timezone.make_aware(datetime.combine(due, time(10)))
        milestone = Milestone.objects.create(
            contract=contract, number=n, title=f"第{n}阶段服务", share_percent=share, amount_fen=fen, due_on=due,
            deliverable=deliverable, target=int(rng.integers(20, 80)),
            status=Milestone.Status.PAID if done else Milestone.Status.PENDING,
            decided_at=decided if done else None,
            decided_by_id=contract.arbiter_id if done else None,
            reason=OVERRIDE_REASON if done else "", overridden=done)
        if done:
            Payment.objects.create(milestone=milestone, appropriation=appropriation, amount_fen=fen,
                                   paid_at=decided + timedelta(days=5))
            paid += fen
    Appropriation.objects.filter(pk=appropriation.pk).update(committed_fen=F("committed_fen") + amount,
                                                             spent_fen=F("spent_fen") + paid)
    if paid == amount:
        Contract.objects.filter(pk=contract.pk).update(status=Contract.Status.COMPLETED)
    return contract


def _arbiter() -> int:
    """The demo's arbiter: the demo district official ``district``. The loaders run before the demo logins are
    made, so the account is taken (or started) here by name; ``demo_users_create`` then gives it its password and
    role, as for any existing account."""
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="district")
    return int(user.pk)
