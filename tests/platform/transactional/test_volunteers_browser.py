"""A care visit on a phone (390x844) in Chinese, in headless Chromium: the volunteer tries to claim it and is
refused for want of the elderly-care course; the director records the course on the volunteer's profile; the
volunteer claims the visit, records it in two taps (how long, how it went) and finds its hours in the ledger
and on the certificate. The world is committed (the app server reads it) and removed afterwards."""

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


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    from civicgrid.volunteers import models as m
    from tests.platform.volunteers_support import (
        care_course,
        open_visit,
        register_volunteer,
        vulnerable_resident,
    )

    with django_db_blocker.unblock():
        volunteer = register_volunteer()
        course = care_course()
        resident = vulnerable_resident()
        visit = open_visit(resident, due=timezone.localdate() + timedelta(days=1))
        connections.close_all()
        yield {"volunteer": volunteer, "course": course, "visit": visit, "resident": resident}
        # the ledger refuses deletes through its own manager; the test's rows go through the base manager
        for model in (m.HoursApproval, m.HoursEntry, m.CareVisit, m.Certificate, m.Volunteer, m.Course):
            model._base_manager.all().delete()
        connections.close_all()


def _phone(browser: Any, base: str, username: str) -> Any:
    page = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
    page.set_default_timeout(60_000)
    login(page, base, username)
    return page


def _fits(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1


def test_claim_refused_without_the_course_then_claimed_recorded_and_counted(
        browser: Any, app_server: Any, world: dict[str, Any]) -> None:
    url, visit, resident = app_server.url, world["visit"], world["resident"]
    phone = _phone(browser, url, "volunteer")
    phone.goto(f"{url}/volunteers/")
    assert phone.locator("h1").inner_text() == "志愿者"
    row = phone.locator("#claimable tr", has_text=resident.name)
    assert "认领" in row.inner_text()
    _fits(phone)
    with phone.expect_navigation():
        row.locator("button").click()
    assert "需要先完成课程" in phone.locator(".messages").inner_text()  # refused, and told why
    visit.refresh_from_db()
    assert visit.status == "open"

    office = _phone(browser, url, "director")
    office.goto(f"{url}/volunteers/{world['volunteer'].pk}/")
    office.select_option("#course", str(world["course"].pk))
    with office.expect_navigation():
        office.click("#grant-form button[type=submit]")
    assert "课程已登记" in office.locator(".messages").inner_text()
    assert world["course"].name in office.locator("main").inner_text()

    phone.goto(f"{url}/volunteers/")
    with phone.expect_navigation():
        phone.locator("#claimable tr", has_text=resident.name).locator("button").click()
    assert "这次探访由您负责了" in phone.locator(".messages").inner_text()
    assert phone.locator("#visit-status").inner_text() == "待探访"
    _fits(phone)
    phone.check("input[name=minutes][value='45']")
    with phone.expect_navigation():
        phone.click("#record-form button[value=well]")
    assert "探访已记录" in phone.locator(".messages").inner_text()
    ledger = phone.locator("#ledger tbody tr").first.inner_text()
    assert "关爱探访" in ledger and "0.75" in ledger and "来自服务记录" in ledger
    assert phone.locator("#my-total").inner_text() == "0.75"
    _fits(phone)
    phone.goto(f"{url}/volunteers/{world['volunteer'].pk}/certificate/")
    assert phone.locator("h1").inner_text() == "志愿服务时长证明"
    assert phone.locator("#certificate-total").inner_text() == "0.75"
    assert phone.locator(".doorplate svg").count() == 1
