"""The real app in headless Chromium: log in, search a household, open it, switch language."""

from __future__ import annotations

from civicgrid.registry.models import Resident
from tests.conftest import BROWSER_MARKS, login

pytestmark = BROWSER_MARKS


def test_login_search_open_and_switch_language(browser, app_server) -> None:
    resident = Resident.objects.select_related("household").filter(
        household__grid__parent__code__endswith="C01").exclude(phone_digest="").first()
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="en-US")  # a phone
    login(page, app_server.url, "director")
    assert page.locator("h1").inner_text() == "Your area at a glance"

    page.fill("input[name=q]", resident.phone)
    with page.expect_navigation():
        page.press("input[name=q]", "Enter")
    assert "/households/?q=" in page.url
    with page.expect_navigation():
        page.click(f"text={resident.household.code}")
    assert page.url.endswith(f"/households/{resident.household_id}/")
    assert page.locator("h1").inner_text() == resident.household.address
    assert page.locator(f"text={resident.name}").count() >= 1
    assert page.locator("text=Residents").count() >= 1

    with page.expect_navigation():
        page.select_option("select[name=language]", "zh-hans")
    page.wait_for_selector("main >> text=居民")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("header >> text=住户").count() == 1
    assert page.url.endswith(f"/households/{resident.household_id}/")

    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    # On a phone the navigation sits behind the menu button.
    assert not page.locator("header nav").is_visible()
    page.click("header .menu-toggle")
    page.wait_for_selector("header nav >> text=Households", state="visible")
    page.close()


def test_edit_form_shows_error_next_to_field_in_browser(browser, app_server) -> None:
    resident = Resident.objects.filter(household__grid__parent__code__endswith="C01").first()
    page = browser.new_page(locale="en-US")
    login(page, app_server.url, "director")
    page.goto(f"{app_server.url}/residents/{resident.pk}/edit/")
    page.fill("#id_phone", "99")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    error = page.locator("#field-phone .errorlist")
    assert "11-digit" in error.inner_text()
    page.close()
