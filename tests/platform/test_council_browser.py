"""A council meeting and a covenant in headless Chromium, in Chinese, on a phone-sized screen (390x844): the
resident checks in through the meeting's check-in link (what its QR code opens) and votes; the director
closes the poll, records the decision, publishes it and creates a case from it; the director adopts the
covenant draft with that decision; the resident reads the version in force and signs for the household."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone

from tests.conftest import BROWSER_MARKS, login

pytestmark = BROWSER_MARKS
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 90_000


def _page(browser: Any) -> Any:
    page = browser.new_page(viewport=PHONE, locale="zh-CN", extra_http_headers={"Accept-Language": "zh-hans"})
    page.set_default_timeout(TIMEOUT_MS)
    return page


@pytest.fixture(scope="module")
def council_data(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """A committed meeting of C01 inviting the resident's grid, and a covenant draft; removed afterwards."""
    from civicgrid.accounts.roles import scope_for
    from civicgrid.cases.models import Case
    from civicgrid.council import models as m
    from civicgrid.council import services
    from tests.platform.council_support import body, c01
    from tests.platform.factories import user

    with django_db_blocker.unblock():
        director = user("director")
        scope = scope_for(director)
        meeting = services.meeting_create(user=director, scope=scope, community=c01(), body=body(),
                                          title="三号楼加装电梯议事会", starts_at=timezone.now() + timedelta(minutes=30),
                                          quorum=1, agenda=["加装电梯方案"])
        services.meeting_invite(user=director, scope=scope, meeting=meeting, place=user("resident").role.household.grid)
        covenant = services.covenant_create(user=director, scope=scope, community=c01(), title="幸福社区居民公约",
                                            clauses=["爱护公共设施，不在楼道堆放物品。", "邻里互助，关心独居老人。"])
        connections.close_all()
        yield {"meeting": meeting, "covenant": covenant}
        cases = list(m.Decision.objects.exclude(case=None).values_list("case_id", flat=True))
        for model in (m.Signature, m.ClauseComment, m.Clause, m.CovenantVersion, m.Covenant, m.Vote):
            model.objects.all().delete()
        m.CovenantVersion.objects.all().delete()
        m.Decision.objects.all().delete()
        for model in (m.Poll, m.Invitation, m.AgendaItem, m.Meeting, m.Body):
            model.objects.all().delete()
        Case.objects.filter(pk__in=cases).delete()
        connections.close_all()


def _submit(page: Any, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def test_a_meeting_decides_and_creates_a_case_and_a_covenant_is_adopted_and_signed(
        browser: Any, app_server: Any, council_data: dict[str, Any]) -> None:
    url, meeting, covenant = app_server.url, council_data["meeting"], council_data["covenant"]

    director = _page(browser)
    login(director, url, "director")
    director.goto(f"{url}/council/")
    _submit(director, f"#meetings a[href='/council/meetings/{meeting.pk}/']")
    assert director.locator("h1").inner_text() == "三号楼加装电梯议事会"
    assert director.locator("#checkin-qr svg").count() == 1
    assert "尚未达到法定人数" in director.locator("#quorum-state").inner_text()
    checkin_url = director.locator("#checkin-qr .muted").nth(1).inner_text().strip()
    director.fill("#poll-question", "同意加装电梯方案")
    _submit(director, "form[action$='/polls/'] button")
    assert "表决已发起" in director.locator(".messages").inner_text()

    resident = _page(browser)
    login(resident, url, "resident")
    resident.goto(checkin_url.replace("http://testserver", url))  # the address the QR code holds
    assert resident.locator("h1").inner_text() == "会议签到"
    _submit(resident, "#checkin-button")
    assert "签到成功" in resident.locator(".messages").inner_text()
    assert resident.locator("#my-attendance").inner_text() .startswith("已到会")
    _submit(resident, ".poll button[value=yes]")
    assert "表决已记录" in resident.locator(".messages").inner_text()
    assert resident.locator(".poll").first.inner_text().count("您家已投票") == 1

    director.reload()
    assert "已达法定人数" in director.locator("#quorum-state").inner_text()
    _submit(director, ".poll form[action$='/close/'] button")
    director.select_option("#decision-poll", label="同意加装电梯方案")
    director.fill("#decision-title", "同意加装电梯")
    director.fill("#decision-text", "按楼层分摊费用，本月内完成施工方招标。")
    _submit(director, "#decision-form button")
    assert "决定已记录" in director.locator(".messages").inner_text()
    _submit(director, ".decision form[action$='/publish/'] button")
    _submit(director, ".decision .create-case button")
    assert "已依据决定立案" in director.locator(".messages").inner_text()
    case_link = director.locator(".decision a.decision-case")
    assert case_link.count() == 1
    _submit(director, ".decision a.decision-case")
    assert "按楼层分摊费用" in director.content()  # the case carries the decision's text

    director.goto(f"{url}/council/covenants/{covenant.pk}/")
    _submit(director, "#versions a")
    assert "征求意见" in director.content()
    director.select_option("#adopt-decision", label=director.locator("#adopt-decision option").first.inner_text())
    _submit(director, "#adopt-form button")
    assert "版本已通过" in director.locator(".messages").inner_text()
    assert "第 1 版" in director.locator("#in-force").inner_text()

    resident.goto(f"{url}/council/covenants/")  # a resident's one covenant opens directly
    assert "爱护公共设施" in resident.content()
    _submit(resident, "#sign-button")
    assert "签署成功" in resident.locator(".messages").inner_text()
    assert resident.locator("#my-signature").count() == 1
    resident.goto(f"{url}/council/decisions/")
    assert "同意加装电梯" in resident.content()
    for page in (director, resident):
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1  # no sideways scrolling
        page.close()
