"""Participatory budgeting on a phone (390x844) in Chinese, in headless Chromium: a resident proposes a project,
the director finds it feasible and opens the vote, the grid member prints the grid's ballot codes, a household
votes with its code without logging in, and the director closes the vote, publishes the results and records
spending on the winning project.

The round is committed (the app server reads it) and removed afterwards; the module lives in transactional/ so
that it runs after the shared-database tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone

from civicgrid.core.scoping import PLATFORM
from civicgrid.fund import models as m
from civicgrid.fund import services
from civicgrid.registry.models import Actor
from tests.conftest import BROWSER_MARKS, login
from tests.platform.factories import user

pytestmark = BROWSER_MARKS
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def fund_round(django_db_setup: Any, django_db_blocker: Any) -> Any:
    with django_db_blocker.unblock():
        community = user("director").role.place
        fund = services.fund_open(user=None, scope=PLATFORM, community_id=community.pk, year=2031)
        funder = Actor.objects.filter(service_area=community, sector="state").order_by("code").first()
        services.fund_receive(user=None, scope=PLATFORM, fund_id=fund.pk, funder_id=funder.pk, amount_fen=80_000_00)
        now = timezone.now()
        r = services.round_create(user=None, scope=PLATFORM, fund_id=fund.pk, title="楼道微更新", budget_fen=50_000_00,
                                  max_choices=2, proposals_open=now - timedelta(hours=1),
                                  review_open=now + timedelta(days=1), voting_open=now + timedelta(days=2),
                                  voting_close=now + timedelta(days=3))
        connections.close_all()
        yield r
        gone = {m.BallotChoice: {"ballot__round__fund": fund}, m.Ballot: {"round__fund": fund},
                m.PaperSheet: {"round__fund": fund}, m.Voter: {"round__fund": fund},
                m.Cosign: {"proposal__round__fund": fund}, m.LedgerEntry: {"fund": fund},
                m.Proposal: {"round__fund": fund}, m.Round: {"fund": fund}, m.Fund: {"pk": fund.pk}}
        for model, lookup in gone.items():  # the ledger's own manager refuses deletes: the base manager
            model._base_manager.filter(**lookup).delete()
        connections.close_all()


def _phone(browser: Any, base: str, username: str | None) -> Any:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN"})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    if username:
        login(page, base, username)
    return page


def _fits(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1


def _click(page: Any, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def test_a_resident_proposes_a_household_votes_and_the_committee_publishes_and_spends(
        browser: Any, app_server: Any, fund_round: Any) -> None:
    url, r = app_server.url, fund_round
    round_url = f"{url}/fund/rounds/{r.pk}/"

    resident = _phone(browser, url, "resident")
    resident.goto(f"{url}/fund/")
    assert "社区基金" in resident.locator("h1").inner_text()
    _click(resident, f"a[href='/fund/rounds/{r.pk}/']")
    _click(resident, "#propose-link")
    resident.fill("#id_title", "楼道声控灯")
    resident.fill("#id_cost", "12000")
    _click(resident, "main button[type=submit]")
    assert "提议已提交" in resident.locator(".messages").inner_text()
    assert "待审核" in resident.locator("#proposal-1 .review-status").inner_text()
    _fits(resident)

    director = _phone(browser, url, "director")
    director.goto(round_url)
    director.select_option("#proposal-1 select[name=decision]", "feasible")
    _click(director, "#proposal-1 .review-form button")
    assert "可行" in director.locator("#proposal-1 .review-status").inner_text()
    _click(director, "#advance")  # proposals -> review
    _click(director, "#advance")  # review -> voting
    assert director.locator("#phase").inner_text() == "投票"

    grid = _phone(browser, url, "grid")
    grid.goto(f"{round_url}codes/")
    _click(grid, ".issue-codes")
    code = grid.locator(".ballot-code").first.inner_text().strip()
    assert len(code) == 14 and "打印" in grid.locator("main").inner_text()

    household = _phone(browser, url, None)  # no account: the code is the credential
    household.goto(f"{round_url}vote/")
    household.fill("#id_code", code)
    _click(household, "main button[type=submit]")
    household.check("input[name=choice]")
    _click(household, "#cast")
    assert "选票已记录" in household.locator("#vote-done").inner_text()
    assert household.locator("input[name=choice]").first.is_checked()  # shown again, changeable until the close
    _fits(household)

    director.goto(round_url)
    _click(director, "#advance")  # close the vote
    _click(director, "#publish")
    assert "全额资助" in director.locator("#proposal-1 .outcome").inner_text()
    assert director.locator("#proposal-1 .votes").inner_text() == "1"
    assert "1 / " in director.locator("#turnout-total").inner_text()
    director.fill("#proposal-1 input[name=amount]", "5000")
    _click(director, "#proposal-1 .spend-form button")
    assert "5,000.00" in director.locator("#proposal-1 .spent").inner_text()
    _fits(director)

    resident.goto(round_url)  # residents see the published results and spending
    assert "5,000.00" in resident.locator("#proposal-1 .spent").inner_text()
    groups = resident.locator("#turnout-groups tbody tr")
    assert groups.count() == 2 and "其他住户" in groups.nth(1).inner_text()
