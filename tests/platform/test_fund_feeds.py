"""What the fund feeds: the CREI's ballot turnout against a plain count, the governance balance's resources
and decisions, and the demo year (deterministic)."""

from __future__ import annotations

import pytest

from civicgrid.core.scoping import PLATFORM
from civicgrid.fund import services
from civicgrid.fund.crei import ballot_turnout
from civicgrid.fund.governance import contributions
from civicgrid.fund.models import Fund, LedgerEntry, Voter
from civicgrid.registry.models import Household, Place
from tests.platform.fund_support import community, funded, voting_round

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_ballot_turnout_is_voted_households_over_households() -> None:
    fund = funded(community())
    grids = list(Place.objects.filter(level="grid", parent=fund.community).order_by("code"))
    assert ballot_turnout({"u": [g.pk for g in grids]}) is None  # nothing closed yet: missing, not zero
    r, (a,) = voting_round(fund, [100])
    codes = services.codes_issue(user=None, scope=PLATFORM, round_id=r.pk, grid_id=grids[0].pk)
    for c in codes[:5]:
        services.ballot_cast(user=None, scope=PLATFORM, round_id=r.pk, code=c.code, proposal_ids=[a.pk], revision=0)
    services.round_advance(user=None, scope=PLATFORM, round_id=r.pk)
    units = {"g0": [grids[0].pk], "all": [g.pk for g in grids]}
    values = ballot_turnout(units)
    voted = Voter.objects.filter(round=r, voted=True).count()
    assert values["g0"] == pytest.approx(voted / Household.objects.filter(grid=grids[0]).count())
    assert values["all"] == pytest.approx(voted / Household.objects.filter(grid__in=grids).count())


def test_governance_counts_receipts_by_funder_and_a_published_round_as_the_residents_decision() -> None:
    fund = funded(community(), yuan=51234)
    r, (a,) = voting_round(fund, [100])
    services.round_advance(user=None, scope=PLATFORM, round_id=r.pk)
    before = [c for c in contributions(community=fund.community) if c.kind == "decisions"]
    assert before == []
    services.results_publish(user=None, scope=PLATFORM, round_id=r.pk)
    found = contributions(community=fund.community)
    money = {c.actor_id: c.amount for c in found if c.kind == "resources"}
    receipts = LedgerEntry.objects.filter(fund=fund, kind=LedgerEntry.Kind.SOURCE)
    assert sum(money.values()) == receipts.count() > 0  # one unit per receipt, like every other gift
    decisions = [c for c in found if c.kind == "decisions"]
    assert [(c.actor_id, c.amount) for c in decisions] == [(r.residents_body.code, 1.0)]
    assert r.residents_body.sector == "society"


def test_the_demo_year_is_deterministic_and_within_the_fund() -> None:
    from civicgrid.fund.demo import demo_load
    from civicgrid.fund.models import Proposal

    lines = demo_load(households=0, seed=5)
    assert len(lines) == Place.objects.filter(level="community").count()
    assert demo_load(households=0, seed=5) == []  # idempotent
    for fund in Fund.objects.all():
        assert 0 < fund.spent_fen <= fund.committed_fen <= fund.received_fen
        winners = Proposal.objects.filter(round__fund=fund, funded_fen__gt=0)
        assert winners.exists()
    shares = {f.community.code: Voter.objects.filter(round__fund=f, voted=True).count()
              / Voter.objects.filter(round__fund=f).count() for f in Fund.objects.all()}
    first, second = sorted(shares)[:2]
    assert shares[first] > shares[second]  # the hub community turns out more than the fused one
