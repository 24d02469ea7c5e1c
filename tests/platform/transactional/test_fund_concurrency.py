"""The fund under real concurrency: threads with their own connections, released together. Each race leaves
one result, and the loser gets a clear refusal with nothing written.

The module builds its own community (transactional tests empty the database afterwards)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, timedelta
from functools import partial
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from civicgrid.core.scoping import PLATFORM, Scope
from civicgrid.fund import services
from civicgrid.fund.models import (
    Ballot,
    BallotChoice,
    Fund,
    LedgerEntry,
    PaperSheet,
    Proposal,
    Round,
    Voter,
)
from civicgrid.registry import services as registry
from civicgrid.registry.models import Actor, Household, Place, Resident
from tests.platform.transactional.racing import race

pytestmark = pytest.mark.django_db(transaction=True)
ADMIN = Scope(role="district_official", unrestricted=True)


def _place(code: str, level: str, parent: Place | None) -> Place:
    return Place.objects.create(code=code, name=code, level=level, parent=parent,
                                path=(parent.path if parent else "") + code + "/")


def _world(households: int = 4) -> tuple[Round, list[Proposal], Place]:
    """A community of its own with a funded round in its voting phase and two feasible projects."""
    tag = uuid.uuid4().hex[:6].upper()
    district = _place(f"ZF{tag}", "district", None)
    community = _place(f"{district.code}-C", "community", _place(f"{district.code}-S", "subdistrict", district))
    grid = _place(f"{community.code}-G", "grid", community)
    building = _place(f"{grid.code}-B", "building", grid)
    for i in range(households):
        h = registry.household_create(user=None, scope=PLATFORM, code=f"{grid.code}-H{i}", address=f"{i}",
                                      building=building, housing_type="commodity")
        Resident.objects.create(code=f"{h.code}-R", household=h, name=f"r{i}", sex="F", birth_date=date(1970, 1, 1),
                                relation="head")
    funder = Actor.objects.create(code=f"{tag}-E", name="e", sector="capital", kind="enterprise", service_area=community)
    body = Actor.objects.create(code=f"{tag}-RC", name="rc", sector="society", kind="residents_committee",
                                service_area=community)
    fund = services.fund_open(user=None, scope=PLATFORM, community_id=community.pk, year=2026)
    services.fund_receive(user=None, scope=PLATFORM, fund_id=fund.pk, funder_id=funder.pk, amount_fen=10_000_00)
    now = timezone.now()
    r = services.round_create(user=None, scope=PLATFORM, fund_id=fund.pk, title="t", budget_fen=10_000_00,
                              residents_body_id=body.pk, proposals_open=now - timedelta(hours=1),
                              review_open=now + timedelta(days=1), voting_open=now + timedelta(days=2),
                              voting_close=now + timedelta(days=3))
    head = Resident.objects.filter(household__grid=grid).first()
    proposals = [services.proposal_submit(user=None, scope=PLATFORM, round_id=r.pk, title=f"p{i}", description="",
                                          cost_fen=cost, proposer_id=head.pk) for i, cost in enumerate((600_00, 500_00))]
    for p in proposals:
        services.proposal_review(user=None, scope=PLATFORM, proposal_id=p.pk, feasible=True)
    services.round_advance(user=None, scope=PLATFORM, round_id=r.pk)
    services.round_advance(user=None, scope=PLATFORM, round_id=r.pk)
    return r, proposals, grid


def _kinds(results: list[Any]) -> Counter[str]:
    return Counter("ok" if not isinstance(r, Exception) else type(r).__name__ for r in results)


def test_one_code_used_at_once_from_eight_places_counts_once() -> None:
    r, (a, b), grid = _world()
    code = services.codes_issue(user=None, scope=PLATFORM, round_id=r.pk, grid_id=grid.pk)[0].code
    results = race([partial(services.ballot_cast, user=None, scope=PLATFORM, round_id=r.pk, code=code,
                             proposal_ids=[a.pk if i % 2 else b.pk], revision=0) for i in range(8)])
    assert _kinds(results) == Counter({"ok": 1, "Conflict": 7}), results
    assert Ballot.objects.filter(round=r).count() == 1 and BallotChoice.objects.filter(ballot__round=r).count() == 1
    assert Voter.objects.filter(round=r, voted=True).count() == 1


def test_two_staff_entering_the_same_sheet_at_once_count_it_once() -> None:
    r, (a, _b), grid = _world()
    for h in Household.objects.filter(grid=grid):
        services.paper_issue(user=None, scope=PLATFORM, round_id=r.pk, household_id=h.pk)
    staff = get_user_model().objects.bulk_create([get_user_model()(username=f"s{uuid.uuid4().hex[:8]}")
                                                  for _ in range(3)])
    results = race([partial(services.paper_enter, user=u, scope=ADMIN, round_id=r.pk, serial="A1",
                             proposal_ids=[a.pk]) for u in staff])
    # one first entry, one second entry that counts it, one refused: already counted
    assert _kinds(results) == Counter({"ok": 2, "Conflict": 1}), results
    assert PaperSheet.objects.get(round=r, serial="A1").status == "counted"
    assert Ballot.objects.filter(round=r).count() == 1


def test_one_household_handed_two_paper_ballots_at_once_gets_one() -> None:
    r, _, grid = _world()
    home = Household.objects.filter(grid=grid).first()
    results = race([partial(services.paper_issue, user=None, scope=PLATFORM, round_id=r.pk, household_id=home.pk)
                     for _ in range(4)])
    assert _kinds(results) == Counter({"ok": 1, "Conflict": 3}), results
    assert Voter.objects.filter(round=r, household=home, voted=True).count() == 1


def test_spending_racing_past_the_project_leaves_one_entry() -> None:
    r, (a, b), grid = _world()
    codes = services.codes_issue(user=None, scope=PLATFORM, round_id=r.pk, grid_id=grid.pk)
    services.ballot_cast(user=None, scope=PLATFORM, round_id=r.pk, code=codes[0].code, proposal_ids=[a.pk], revision=0)
    services.round_advance(user=None, scope=PLATFORM, round_id=r.pk)
    services.results_publish(user=None, scope=PLATFORM, round_id=r.pk)
    a.refresh_from_db()
    assert a.funded_fen == 600_00
    results = race([partial(services.spending_record, user=None, scope=PLATFORM, proposal_id=a.pk, amount_fen=400_00)
                     for _ in range(4)])
    assert _kinds(results) == Counter({"ok": 1, "Invalid": 3}), results
    fund = Fund.objects.get(pk=r.fund_id)
    assert fund.spent_fen == 400_00 == LedgerEntry.objects.filter(fund=fund, kind="spending").get().amount_fen


def test_two_grid_members_printing_the_same_grid_at_once_give_each_household_one_code() -> None:
    r, _, grid = _world()
    results = race([partial(services.codes_issue, user=None, scope=PLATFORM, round_id=r.pk, grid_id=grid.pk)
                     for _ in range(2)])
    assert _kinds(results) == Counter({"ok": 2}), results
    assert sorted(len(x) for x in results) == [0, Household.objects.filter(grid=grid).count()]
    assert Voter.objects.filter(round=r).exclude(code_digest="").count() == Household.objects.filter(grid=grid).count()
