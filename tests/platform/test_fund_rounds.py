"""The community fund and its participatory round through the services: the ledger, phases, proposals,
codes, ballots, paper double entry and results, with every refusal of the issue's "bad input" list."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Sum

from civicgrid.core.errors import Conflict, Invalid
from civicgrid.core.scoping import PLATFORM
from civicgrid.fund import selectors, services
from civicgrid.fund.models import (
    Ballot,
    BallotChoice,
    Fund,
    LedgerEntry,
    PaperSheet,
    Proposal,
    Voter,
)
from civicgrid.registry.models import Household, Place
from tests.platform.factories import user
from tests.platform.fund_support import community, funded, round_in, voting_round

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def _grid(fund: Fund) -> Place:
    return Place.objects.filter(level="grid", parent=fund.community).order_by("code").first()


def test_ledger_totals_and_the_database_refuses_overspending() -> None:
    fund = funded(community(), yuan=1000)
    assert list(LedgerEntry.objects.filter(fund=fund).values_list("balance_after_fen", flat=True)) == [100_000]
    assert selectors.sources_by_sector(fund=fund) == {"capital": 100_000}
    with pytest.raises(IntegrityError), transaction.atomic():  # a writer that skips the service
        Fund.objects.filter(pk=fund.pk).update(spent_fen=100_001)
    with pytest.raises(PermissionError):
        LedgerEntry.objects.filter(fund=fund).delete()


def test_a_proposal_over_the_round_budget_is_refused_and_nothing_written() -> None:
    fund = funded(community())
    r = round_in(fund, budget_yuan=1000)
    head = Household.objects.filter(grid__parent=fund.community).first().residents.first()
    with pytest.raises(Invalid) as error:
        services.proposal_submit(user=None, scope=PLATFORM, round_id=r.pk, title="x", description="",
                                 cost_fen=100_001, proposer_id=head.pk)
    assert "cost" in error.value.message_dict
    assert not Proposal.objects.filter(round=r).exists()
    with pytest.raises(Invalid):  # a round larger than what the fund has left
        round_in(fund, budget_yuan=10**6)


def test_a_rejection_needs_its_public_reason() -> None:
    fund = funded(community())
    r = round_in(fund)
    head = Household.objects.filter(grid__parent=fund.community).first().residents.first()
    p = services.proposal_submit(user=None, scope=PLATFORM, round_id=r.pk, title="x", description="", cost_fen=100,
                                 proposer_id=head.pk)
    with pytest.raises(Invalid):
        services.proposal_review(user=None, scope=PLATFORM, proposal_id=p.pk, feasible=False)
    services.proposal_review(user=None, scope=PLATFORM, proposal_id=p.pk, feasible=False, reason="不在基金范围")
    p.refresh_from_db()
    assert (p.status, p.review_reason) == ("rejected", "不在基金范围")


def test_a_household_votes_once_changes_its_ballot_and_the_results_follow_the_rule() -> None:
    fund = funded(community())
    r, (a, b, c) = voting_round(fund, [30_000, 25_000, 20_000])
    codes = services.codes_issue(user=None, scope=PLATFORM, round_id=r.pk, grid_id=_grid(fund).pk)
    assert len(codes) == Household.objects.filter(grid=_grid(fund)).count()
    assert services.codes_issue(user=None, scope=PLATFORM, round_id=r.pk, grid_id=_grid(fund).pk) == []  # none twice
    first, second, third = (c.code for c in codes[:3])
    rev = services.ballot_cast(user=None, scope=PLATFORM, round_id=r.pk, code=first, proposal_ids=[a.pk], revision=0)
    # the same household again: a change, counted once
    services.ballot_cast(user=None, scope=PLATFORM, round_id=r.pk, code=first, proposal_ids=[b.pk, c.pk], revision=rev)
    with pytest.raises(Conflict):  # a stale page (the same code used twice at once): nothing written
        services.ballot_cast(user=None, scope=PLATFORM, round_id=r.pk, code=first, proposal_ids=[a.pk], revision=rev)
    services.ballot_cast(user=None, scope=PLATFORM, round_id=r.pk, code=second.lower().replace("-", " "),
                         proposal_ids=[b.pk], revision=0)
    services.ballot_cast(user=None, scope=PLATFORM, round_id=r.pk, code=third, proposal_ids=[a.pk], revision=0)
    with pytest.raises(Invalid):
        services.ballot_cast(user=None, scope=PLATFORM, round_id=r.pk, code="AAAA-AAAA-AAAA", proposal_ids=[a.pk],
                             revision=0)
    assert Ballot.objects.filter(round=r).count() == 3
    assert Voter.objects.filter(round=r, voted=True).count() == 3
    services.round_advance(user=None, scope=PLATFORM, round_id=r.pk)  # close the vote
    with pytest.raises(Conflict):  # a vote after closing
        services.ballot_cast(user=None, scope=PLATFORM, round_id=r.pk, code=codes[3].code, proposal_ids=[a.pk],
                             revision=0)
    assert Ballot.objects.filter(round=r).count() == 3
    services.results_publish(user=None, scope=PLATFORM, round_id=r.pk)
    votes = {p.pk: p for p in Proposal.objects.filter(round=r)}
    # plain count: b has 2 (first's change and second), a 1 (third), c 1 (first)
    assert [votes[x.pk].votes for x in (a, b, c)] == [1, 2, 1]
    # budget 50,000: b (25,000) first; then c and a tie on votes, c is cheaper (20,000) and fits; a no longer fits
    assert [votes[x.pk].outcome for x in (a, b, c)] == ["skipped", "funded", "funded"]
    grids, groups, total = selectors.turnout(round=r)
    assert (total.voted, sum(g.voted for g in groups)) == (3, 3)
    assert total.eligible == Household.objects.filter(grid__parent=fund.community).count()


def test_spending_is_bounded_by_the_project_and_posts_to_the_ledger() -> None:
    fund = funded(community())
    r, (a,) = voting_round(fund, [1000])
    code = services.codes_issue(user=None, scope=PLATFORM, round_id=r.pk, grid_id=_grid(fund).pk)[0].code
    services.ballot_cast(user=None, scope=PLATFORM, round_id=r.pk, code=code, proposal_ids=[a.pk], revision=0)
    services.round_advance(user=None, scope=PLATFORM, round_id=r.pk)
    services.results_publish(user=None, scope=PLATFORM, round_id=r.pk)
    services.spending_record(user=None, scope=PLATFORM, proposal_id=a.pk, amount_fen=60_000)
    with pytest.raises(Invalid):
        services.spending_record(user=None, scope=PLATFORM, proposal_id=a.pk, amount_fen=40_001)
    fund.refresh_from_db()
    assert fund.spent_fen == LedgerEntry.objects.filter(fund=fund, kind="spending").aggregate(s=Sum("amount_fen"))["s"]


def test_paper_ballots_count_only_when_two_different_staff_agree() -> None:
    fund = funded(community())
    r, (a, b) = voting_round(fund, [100, 200])
    homes = list(Household.objects.filter(grid=_grid(fund)).order_by("code")[:2])
    director, district = user("director"), user("district")
    from civicgrid.accounts.roles import scope_for

    for h in homes:
        services.paper_issue(user=director, scope=scope_for(director), round_id=r.pk, household_id=h.pk)
    with pytest.raises(Conflict):  # a second ballot from one household
        services.paper_issue(user=director, scope=scope_for(director), round_id=r.pk, household_id=homes[0].pk)
    services.paper_enter(user=director, scope=scope_for(director), round_id=r.pk, serial="S1", proposal_ids=[a.pk])
    with pytest.raises(Conflict):  # the same staff member twice
        services.paper_enter(user=director, scope=scope_for(director), round_id=r.pk, serial="S1", proposal_ids=[a.pk])
    sheet = services.paper_enter(user=district, scope=scope_for(district), round_id=r.pk, serial="S1",
                                 proposal_ids=[a.pk])
    assert sheet.status == "counted" and Ballot.objects.filter(round=r).count() == 1
    with pytest.raises(Conflict):  # entered again after it counted
        services.paper_enter(user=district, scope=scope_for(district), round_id=r.pk, serial="S1", proposal_ids=[a.pk])
    services.paper_enter(user=director, scope=scope_for(director), round_id=r.pk, serial="S2", proposal_ids=[a.pk])
    sheet = services.paper_enter(user=district, scope=scope_for(district), round_id=r.pk, serial="S2",
                                 proposal_ids=[b.pk])
    assert sheet.status == "flagged" and Ballot.objects.filter(round=r).count() == 1
    with pytest.raises(Conflict):  # more sheets than were handed out
        services.paper_enter(user=director, scope=scope_for(director), round_id=r.pk, serial="S3", proposal_ids=[a.pk])
    assert PaperSheet.objects.filter(round=r).count() == 2
    assert BallotChoice.objects.filter(ballot__round=r).count() == 1


def test_roles_and_scope() -> None:
    from civicgrid.accounts.roles import scope_for
    from civicgrid.core.errors import Forbidden, NotFound

    fund = funded(community())
    resident, grid = user("resident"), user("grid")
    with pytest.raises(Forbidden):
        services.fund_receive(user=resident, scope=scope_for(resident), fund_id=fund.pk, funder_id=1, amount_fen=1)
    assert fund in selectors.funds(scope=scope_for(resident))
    other = funded(community("C02"))
    assert other not in selectors.funds(scope=scope_for(grid))
    with pytest.raises(NotFound):
        selectors.fund(scope=scope_for(grid), fund_id=other.pk)


def test_homes_show_reviews_to_do_and_the_round_under_way() -> None:
    from civicgrid.accounts.roles import scope_for
    from civicgrid.fund.work import glance, work_items

    fund = funded(community())
    r = round_in(fund)
    head = Household.objects.filter(grid__parent=fund.community).first().residents.first()
    services.proposal_submit(user=None, scope=PLATFORM, round_id=r.pk, title="x", description="", cost_fen=100,
                             proposer_id=head.pk)
    director, resident = user("director"), user("resident")
    review = [i for i in work_items(user=director, scope=scope_for(director)) if i.kind == "fund.review"]
    assert [(i.count, i.url) for i in review] == [(1, f"/fund/rounds/{r.pk}/")]
    assert work_items(user=resident, scope=scope_for(resident)) == []
    assert [g.url for g in glance(user=resident, scope=scope_for(resident))] == [f"/fund/rounds/{r.pk}/"]


def test_the_paper_page_hands_out_and_counts_a_sheet_entered_by_two_staff() -> None:
    from django.test import Client

    fund = funded(community())
    r, (a, _b) = voting_round(fund, [100, 200])
    home = Household.objects.filter(grid=_grid(fund)).order_by("code").first()
    director, district = Client(), Client()
    director.force_login(user("director"))
    district.force_login(user("district"))
    url = f"/fund/rounds/{r.pk}/paper/"
    assert director.post(url, {"form": "issue", "household": home.code}).status_code == 302
    assert Voter.objects.get(round=r, household=home).channel == "paper"
    for client in (director, district):
        assert client.post(url, {"form": "enter", "serial": "P-1", "choice": [str(a.pk)]}).status_code == 302
    assert PaperSheet.objects.get(round=r, serial="P-1").status == "counted"
    page = director.get(url).content.decode()
    assert "P-1" in page and "已计票" in page  # the site speaks Chinese first
