"""A complaint, its answer, the appeal and the review, in headless Chromium on a phone (390x844) in Chinese:
the resident files a complaint about a decision, the grid member answers it, the resident appeals, and the
community director (outside the handling chain: the complaint never left the grid) upholds the appeal, which
sends the complaint back to be handled again at the community level."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections

from tests.conftest import BROWSER_MARKS, login

pytestmark = BROWSER_MARKS
PHONE = {"width": 390, "height": 844}
SUBJECT = "楼道停车位分配决定"


@pytest.fixture(scope="module")
def cleanup(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    yield
    from civicgrid.grievances.models import Appeal, Grievance, Pause, Step

    with django_db_blocker.unblock():
        for g in Grievance.objects.filter(subject_ref=SUBJECT):
            Step.objects.filter(grievance=g).delete()
            Pause.objects.filter(grievance=g).delete()
            Appeal.objects.filter(grievance=g).delete()
            g.delete()
        connections.close_all()


def _phone(browser: Any, base: str, username: str) -> Any:
    page = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
    page.set_default_timeout(60_000)
    login(page, base, username)
    return page


def _fits(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1


def test_a_complaint_is_answered_appealed_and_the_appeal_upheld(browser: Any, app_server: Any, cleanup: None) -> None:
    url = app_server.url
    resident = _phone(browser, url, "resident")
    resident.goto(f"{url}/")
    assert "投诉与复查" in resident.locator("body").inner_text()  # on the resident's home
    resident.goto(f"{url}/grievances/new/")
    assert resident.locator("h1").inner_text() == "我要投诉"
    _fits(resident)
    resident.select_option("#id_kind", "decision")
    resident.fill("#id_subject_ref", SUBJECT)
    resident.fill("#id_description", "居委会没有征求住户意见就把车位分给了外来车辆。")
    with resident.expect_navigation():
        resident.click("#grievance-form button[type=submit]")
    assert "已提交" in resident.locator(".messages").inner_text()
    assert resident.locator("#grievance-state").inner_text() == "办理中"
    detail = re.sub(r"[?#].*$", "", resident.url)
    code = resident.locator("h1").inner_text().split(" ")[0]
    _fits(resident)

    grid = _phone(browser, url, "grid")
    grid.goto(detail)
    assert grid.locator("#grievance-level").inner_text() == "网格"
    grid.fill("#id_note", "经核实，车位按登记顺序分配，已向居民说明。")
    with grid.expect_navigation():
        grid.click("#grievance-actions button[data-action=close]")
    assert "已完成" in grid.locator(".messages").inner_text()
    assert grid.locator("#grievance-state").inner_text() == "已答复"

    resident.reload()
    assert "登记顺序" in resident.locator("#grievance-reply").inner_text()
    resident.fill("#appeal-form textarea", "登记顺序本身没有公示，答复不能说服我。")
    with resident.expect_navigation():
        resident.click("#appeal-form button[type=submit]")
    assert "复查申请已提交" in resident.locator(".messages").inner_text()
    assert resident.locator("#grievance-state").inner_text() == "复查中"

    director = _phone(browser, url, "director")
    director.goto(f"{url}/grievances/")
    assert code in director.locator("#pending-appeals").inner_text()  # the appeals waiting for a reviewer
    director.goto(detail)
    director.select_option("#decide-form select", "upheld")
    director.fill("#decide-form textarea", "登记顺序未公示，原答复依据不足，由社区重新办理。")
    with director.expect_navigation():
        director.click("#decide-form button[type=submit]")
    assert "复查已作出决定" in director.locator(".messages").inner_text()
    assert director.locator(".appeal-outcome").first.inner_text() == "支持"
    assert director.locator("#grievance-state").inner_text() == "办理中"
    assert director.locator("#grievance-level").inner_text() == "社区"
    _fits(director)

    resident.reload()
    assert resident.locator(".appeal-outcome").first.inner_text() == "支持"
    body = resident.locator("body").inner_text()
    assert "upheld" not in body and "appeal" not in body.lower()  # Chinese only, no codes
    for page in (resident, grid, director):
        page.context.close()
