"""The real app in headless Chromium: log in, search a household, open it, switch language."""

from __future__ import annotations

import os
import shutil

import pytest

from civicgrid.registry.models import Resident

CHROMIUM = os.environ.get("CIVICGRID_CHROMIUM", "/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=False),
    # CI sets CIVICGRID_REQUIRE_BROWSER so that a missing browser fails instead of skipping.
    pytest.mark.skipif(not (shutil.which(CHROMIUM) or os.path.exists(CHROMIUM))
                       and not os.environ.get("CIVICGRID_REQUIRE_BROWSER"),
                       reason="Chromium is not installed (scripts/system-deps.sh installs it as root)"),
]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def app_server(django_db_blocker):  # type: ignore[no-untyped-def]
    """The app on a free local port, serving the session's database. (pytest-django's own live_server
    flushes every table afterwards, which would empty the shared community for later tests.)"""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    with django_db_blocker.unblock():
        thread = LiveServerThread("localhost", StaticFilesHandler, port=0)
        thread.daemon = True
        thread.start()
        thread.is_ready.wait()
        if thread.error:
            raise thread.error

        class Server:
            url = f"http://localhost:{thread.port}"

        yield Server
        thread.terminate()


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield instance
        instance.close()


def test_login_search_open_and_switch_language(browser, app_server) -> None:  # type: ignore[no-untyped-def]
    resident = Resident.objects.select_related("household").filter(
        household__grid__parent__code__endswith="C01").exclude(phone_digest="").first()
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="en-US")  # a phone
    page.goto(f"{app_server.url}/login/")
    page.fill("#id_username", "director")
    page.fill("#id_password", "civicgrid-demo")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert page.locator("h1").inner_text() == "Overview"

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
    page.wait_for_selector("text=居民")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("header >> text=住户").count() == 1
    assert page.url.endswith(f"/households/{resident.household_id}/")

    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    page.wait_for_selector("header >> text=Households")
    page.close()


def test_edit_form_shows_error_next_to_field_in_browser(browser, app_server) -> None:  # type: ignore[no-untyped-def]
    resident = Resident.objects.filter(household__grid__parent__code__endswith="C01").first()
    page = browser.new_page(locale="en-US")
    page.goto(f"{app_server.url}/login/")
    page.fill("#id_username", "director")
    page.fill("#id_password", "civicgrid-demo")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    page.goto(f"{app_server.url}/residents/{resident.pk}/edit/")
    page.fill("#id_phone", "99")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    error = page.locator("#field-phone .errorlist")
    assert "11-digit" in error.inner_text()
    page.close()
