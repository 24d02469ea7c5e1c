"""Demo data: a year of each community's public service fund and its participatory round.

For each community (sorted by code; the first is the Sichuan-like hub, the second the Baibuting-like fused
one, see :func:`civicgrid.engine.social_growth.growth_profiles`): a fund for the current year, a round
whose phases ran over the past months, eight proposals (one found not feasible, with its reason), the
ballots, the published results and spending on the winners. Deterministic for a seed.

Assumptions, labelled as such (the seeds give no figures):

* ``FUND_YUAN``: 200,000 yuan a year per community, in the range of the public service funds Chengdu's
  communities receive (seed 000, 4.2, speaks of a yearly fund, without an amount);
* the capital sector's share of the money is the profile's ``capital_funding_share``; of the rest, 85 %
  comes from the sub-district office (state) and 15 % from the sub-district's community foundation (society);
* 80 % of the fund goes to the round; approval voting, one ballot per household, at most three projects;
* each household votes with the probability of the profile's ``ballot_turnout``; a voter approves one to
  three projects, drawn with the popularity weights below;
* winners have spent 60 % of their funding so far.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from civicgrid.core import audit
from civicgrid.core.crypto import digest
from civicgrid.core.scoping import PLATFORM
from civicgrid.engine.social_growth import growth_profiles
from civicgrid.fund import services
from civicgrid.fund.events import FundEvent
from civicgrid.fund.models import Ballot, BallotChoice, Fund, Proposal, Voter
from civicgrid.fund.services.voting import new_code
from civicgrid.registry.models import Actor, Household, Place, Resident

FUND_YUAN = 200_000
ROUND_SHARE, SPENT_SHARE = 0.8, 0.6
STATE_SHARE_OF_REST = 0.85
# title, cost in yuan, popularity weight (assumed)
PROJECTS = [
    ("老旧楼道照明改造", 38_000, 5.0), ("小区无障碍坡道", 26_000, 4.0), ("儿童游乐角翻新", 45_000, 3.0),
    ("长者助餐点桌椅", 12_000, 3.5), ("雨水井清淤与防汛沙袋", 18_000, 2.5), ("楼栋应急物资柜", 30_000, 2.0),
    ("社区书屋", 22_000, 1.5), ("停车棚加装充电桩", 60_000, 1.0),
]
REJECTED = (7, "充电桩改造涉及电力增容，需供电部门审批，超出社区基金职责范围。")


def demo_load(*, households: int, seed: int) -> list[str]:
    if Fund.objects.exists():
        return []  # idempotent: the demo data is there already
    communities = sorted(Place.objects.filter(level="community").values_list("code", flat=True))
    profiles = growth_profiles(communities)
    lines = []
    for i, code in enumerate(communities):
        with transaction.atomic():
            lines.append(_community(Place.objects.get(code=code), profiles[code], seed + 13 * i))
    return lines


def _actor(community: Place, *, kinds: tuple[str, ...], sector: str) -> Actor | None:
    from civicgrid.analytics.governance_data import community_actors

    return (community_actors(community).filter(kind__in=kinds, sector=sector).order_by("service_area__path", "code")
            .first())


def _community(community: Place, profile, seed: int) -> str:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    now = timezone.now().replace(microsecond=0)
    fund = services.fund_open(user=None, scope=PLATFORM, community_id=community.pk, year=now.year)
    capital = round(FUND_YUAN * profile.capital_funding_share)
    state = round((FUND_YUAN - capital) * STATE_SHARE_OF_REST)
    funders = [(_actor(community, kinds=("subdistrict_office", "government_department", "party_committee"),
                       sector="state"), state),
               (_actor(community, kinds=("enterprise", "property_management"), sector="capital"), capital),
               (_actor(community, kinds=("foundation", "social_organisation"), sector="society"),
                FUND_YUAN - capital - state)]
    for funder, amount in funders:
        if funder is not None and amount > 0:
            services.fund_receive(user=None, scope=PLATFORM, fund_id=fund.pk, funder_id=funder.pk,
                                  amount_fen=amount * 100, note="年度社区公共服务资金")
    fund.refresh_from_db()
    body = (_actor(community, kinds=("resident_self_organisation",), sector="society")
            or _actor(community, kinds=("residents_committee",), sector="society"))
    pb_round = services.round_create(
        user=None, scope=PLATFORM, fund_id=fund.pk, title=f"{now.year}年{community.name}微更新项目",
        budget_fen=int(fund.received_fen * ROUND_SHARE), method="approval", max_choices=3,
        residents_body_id=body.pk if body else None, proposals_open=now - timedelta(days=200),
        review_open=now - timedelta(days=170), voting_open=now - timedelta(days=150),
        voting_close=now - timedelta(days=136))
    grids = list(Place.objects.filter(level="grid", parent=community).order_by("code"))
    homes = list(Household.objects.filter(grid__in=grids).order_by("code").values_list("pk", flat=True))
    proposers = list(Resident.objects.filter(household__grid__in=grids, relation="head").order_by("code")[:50])
    proposals = []
    for seq, (title, cost, _weight) in enumerate(PROJECTS, start=1):
        rejected = seq == REJECTED[0]
        proposals.append(Proposal(
            round=pb_round, seq=seq, title=title, cost_fen=cost * 100, grid=grids[seq % len(grids)] if grids else None,
            proposer=proposers[int(rng.integers(len(proposers)))] if proposers else None,
            description="居民提议（演示数据）", status=Proposal.Status.REJECTED if rejected else Proposal.Status.FEASIBLE,
            review_reason=REJECTED[1] if rejected else "经居委会评估可行。", reviewed_at=now - timedelta(days=160)))
    Proposal.objects.bulk_create(proposals)
    feasible = [p for p in proposals if p.status == Proposal.Status.FEASIBLE]
    weights = np.array([PROJECTS[p.seq - 1][2] for p in feasible])
    voting = rng.random(len(homes)) < profile.ballot_turnout
    voters, ballots, choices = [], [], []
    for household_id, votes in zip(homes, voting, strict=True):
        code = new_code()  # printed once in real life; in the demo, never shown
        voters.append(Voter(round=pb_round, household_id=household_id, code_digest=digest(f"FUNDCODE{pb_round.pk}:{code}"),
                            voted=bool(votes), channel="code" if votes else ""))
        if votes:
            ballot = Ballot(round=pb_round, slot=digest(f"FUNDSLOT{pb_round.pk}:{code}"))
            ballots.append(ballot)
            n = int(rng.integers(1, 4))
            picked = rng.choice(len(feasible), size=min(n, len(feasible)), replace=False, p=weights / weights.sum())
            choices += [BallotChoice(ballot=ballot, proposal=feasible[int(j)]) for j in picked]
    Voter.objects.bulk_create(voters, batch_size=1000)
    Ballot.objects.bulk_create(ballots, batch_size=1000)
    BallotChoice.objects.bulk_create(choices, batch_size=1000)
    audit.record_bulk(user=None, event=FundEvent.BALLOT_CAST, model=Ballot, ids=[b.pk for b in ballots], counts={},
                      place_path=community.path, summary=pb_round.title)
    services.results_publish(user=None, scope=PLATFORM, round_id=pb_round.pk)
    spent = 0
    for p in Proposal.objects.filter(round=pb_round, funded_fen__gt=0).order_by("rank"):
        amount = int(p.funded_fen * SPENT_SHARE)
        services.spending_record(user=None, scope=PLATFORM, proposal_id=p.pk, amount_fen=amount, note="首期款（演示）")
        spent += amount
    turnout = len(ballots) / len(homes) if homes else 0.0
    return (f"fund: {community.code} {profile.style}: {fund.received_fen // 100} yuan, {len(ballots)} ballots "
            f"({turnout:.0%} turnout), {spent // 100} yuan spent")
