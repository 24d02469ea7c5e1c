"""The audit log on a phone (390x844, headless Chromium), in both languages: its filter's select of event types
holds long labels ("log-in refused (locked after too many failures)"), and in a flex row a select's label cannot
shrink below the select's widest option unless told to; the page then scrolled sideways in English (458 px)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import BROWSER_MARKS, login

pytestmark = BROWSER_MARKS
PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("locale", ["en-GB", "zh-CN"])
def test_the_audit_log_and_its_filter_fit_a_phone(browser: Any, app_server: Any, locale: str) -> None:
    page = browser.new_page(viewport=PHONE, locale=locale)
    login(page, app_server.url, "district")
    page.goto(f"{app_server.url}/audit/")
    event = page.locator("form.audit-filter select").first
    assert event.is_visible()
    widest = page.evaluate("Math.max(...[...document.querySelectorAll('form.audit-filter option')]"
                           ".map(o => o.textContent.length))")
    assert widest > (40 if locale.startswith("en") else 15)  # the long labels this is about are there
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    box = event.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"] + 1
    page.close()
