"""Helpers of the fund tests: a funded community C01 with a round at a chosen phase."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from civicgrid.core.scoping import PLATFORM
from civicgrid.fund import services
from civicgrid.fund.models import Fund, Round
from civicgrid.registry.models import Actor, Place, Resident


def community(code: str = "C01") -> Place:
    return Place.objects.get(level="community", code__endswith=code)


def funded(place: Place, *, yuan: int = 100_000) -> Fund:
    fund = Fund.objects.filter(community=place).first() or services.fund_open(
        user=None, scope=PLATFORM, community_id=place.pk, year=2026)
    funder = Actor.objects.filter(service_area=place, sector="capital").order_by("code").first()
    services.fund_receive(user=None, scope=PLATFORM, fund_id=fund.pk, funder_id=funder.pk, amount_fen=yuan * 100)
    fund.refresh_from_db()
    return fund


def round_in(fund: Fund, *, budget_yuan: int = 50_000, **options: Any) -> Round:
    """A round whose proposals are open now (phases a day apart after it)."""
    now = timezone.now()
    body = Actor.objects.filter(service_area=fund.community, kind="residents_committee").first()
    return services.round_create(user=None, scope=PLATFORM, fund_id=fund.pk, title="t", budget_fen=budget_yuan * 100,
                                 residents_body_id=body.pk if body else None,
                                 proposals_open=now - timedelta(hours=1), review_open=now + timedelta(days=1),
                                 voting_open=now + timedelta(days=2), voting_close=now + timedelta(days=3), **options)


def voting_round(fund: Fund, costs: list[int], **options: Any) -> tuple[Round, list[Any]]:
    """A round in its voting phase with feasible proposals of these costs (yuan)."""
    r = round_in(fund, **options)
    heads = list(Resident.objects.filter(household__place_path__startswith=fund.community.path, relation="head")
                 .order_by("id")[:len(costs)])
    proposals = [services.proposal_submit(user=None, scope=PLATFORM, round_id=r.pk, title=f"p{i}", description="",
                                          cost_fen=c * 100, proposer_id=heads[i].pk)
                 for i, c in enumerate(costs)]
    for p in proposals:
        services.proposal_review(user=None, scope=PLATFORM, proposal_id=p.pk, feasible=True)
    services.round_advance(user=None, scope=PLATFORM, round_id=r.pk)  # -> review
    services.round_advance(user=None, scope=PLATFORM, round_id=r.pk)  # -> voting
    r.refresh_from_db()
    return r, proposals
