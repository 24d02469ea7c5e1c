"""Each role's home on a phone (390x844) in Chinese, in headless Chromium: the resident sees only their own
household, the emergency in force and what to do; the grid member the overdue case and the sweep visits;
the organisation's staff the emergency task given to their organisation (and its page, once a bare 403);
the volunteer the tasks near them with pick-up totals; the director the area at a glance. Tables are cards
whose every value carries its label; large text; the door-plate QR code; the printable sweep list.

The world is built once, committed (the app server reads it), by tests/platform/home_support.py; the
module lives in transactional/ so it runs after the shared-database tests, and ends by returning the
community to normal mode.
"""

from __future__ import annotations

import pytest

from civicgrid.accounts.roles import scope_for
from civicgrid.emergency import services as emergency
from civicgrid.emergency.models import Emergency
from civicgrid.registry.models import Household
from tests.conftest import BROWSER_MARKS, login
from tests.platform.factories import user
from tests.platform.home_support import build

pytestmark = BROWSER_MARKS

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        built = build()
        yield built
        director = user("director")
        for e in Emergency.objects.filter(pk=built.emergency.pk, status="active"):
            emergency.emergency_deactivate(user=director, scope=scope_for(director), emergency=e,
                                           summary="home pages test")


def _phone(browser, base: str, username: str):
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    login(page, base, username)
    return page


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1


def test_resident_home_shows_only_their_own_household(browser, app_server, world) -> None:
    resident = user("resident")
    household = resident.role.household
    page = _phone(browser, app_server.url, "resident")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("#home-title").inner_text() == "我的家"
    glance = page.locator("#glance").inner_text()
    assert "紧急状态" in glance and household.address in glance and "报告问题" in glance
    work = page.locator("#my-work").inner_text()
    assert "健康打卡" in work and "胰岛素笔" in work
    body = page.locator("body").inner_text()
    for other in Household.objects.filter(grid=household.grid).exclude(pk=household.pk):
        assert other.address not in body
    assert "最脆弱" not in body
    page.click("header .menu-toggle")
    menu = page.locator("header nav").inner_text()
    assert "通知" in menu and "住户" not in menu and "配送" not in menu
    _fits(page)
    # large text for elderly readers, kept across pages
    with page.expect_navigation():
        page.click("#text-size")
    assert "large-text" in (page.locator("body").get_attribute("class") or "")
    size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 20
    page.goto(f"{app_server.url}/households/{household.pk}/")
    assert "large-text" in (page.locator("body").get_attribute("class") or "")
    assert page.locator("#doorplate svg").count() == 1  # the door plate's QR code
    _fits(page)
    page.context.close()


def test_grid_member_home_shows_overdue_case_and_sweep_visits(browser, app_server, world) -> None:
    page = _phone(browser, app_server.url, "grid")
    assert page.locator("#home-title").inner_text() == "今天网格里的工作"
    work = page.locator("#my-work").inner_text()
    assert world.overdue_case.description in work and "超时" in work
    assert "入户走访" in work
    first = page.locator("#my-work .work-item").first
    assert "危及生命" in first.inner_text()  # life-critical first
    _fits(page)
    # a phone table is cards: every value carries its label
    page.goto(f"{app_server.url}/cases/")
    cell = page.locator("#case-table tbody td").first
    assert cell.get_attribute("data-label") == "事件"
    label = page.evaluate("getComputedStyle(document.querySelector('#case-table tbody td'), '::before').content")
    assert "事件" in label
    _fits(page)
    # the printable sweep list of the grid
    page.goto(f"{app_server.url}/emergency/now/")
    with page.expect_navigation():
        page.click("a.open-sweep >> nth=0")
    with page.expect_navigation():
        page.click("#print-sweep")
    assert page.locator("#print-list tbody tr").count() >= 1
    page.emulate_media(media="print")
    assert not page.locator("header").is_visible()
    page.context.close()


def test_org_staff_home_shows_the_emergency_task_given_to_their_organisation(browser, app_server, world) -> None:
    page = _phone(browser, app_server.url, "orgstaff")
    assert page.locator("#home-title").inner_text().startswith("交给")
    work = page.locator("#my-work").inner_text()
    assert world.org_task.title_zh in work
    assert world.dispatched_case.description in work
    with page.expect_navigation():
        page.click(f"#my-work a:has-text('{world.org_task.title_zh}')")
    assert page.url.endswith(f"/emergency/{world.emergency.pk}/")
    assert world.org_task.title_zh in page.locator("main").inner_text()  # once a bare 403
    page.goto(f"{app_server.url}/emergency/now/")
    assert world.org_task.title_zh in page.locator("main").inner_text()
    _fits(page)
    page.context.close()


def test_volunteer_home_shows_tasks_near_them(browser, app_server, world) -> None:
    page = _phone(browser, app_server.url, "volunteer")
    assert page.locator("#home-title").inner_text() == "您附近的任务"
    glance = page.locator("#glance").inner_text()
    assert "各发放点需领取" in glance and "您完成的配送" in glance
    assert "配送到" in page.locator("#my-work").inner_text()
    page.goto(f"{app_server.url}/relief/tasks/")
    assert "项任务" in page.locator("#claimable-count").inner_text()
    _fits(page)
    page.context.close()


def test_director_home_shows_the_area_at_a_glance(browser, app_server, world) -> None:
    page = _phone(browser, app_server.url, "director")
    assert page.locator("#home-title").inner_text() == "辖区一览"
    glance = page.locator("#glance").inner_text()
    for label in ("应急状态", "超时事件", "未满足的危及生命需求", "预警触达"):
        assert label in glance
    assert page.locator("#glance .card.alarm").count() >= 2
    _fits(page)
    page.context.close()
