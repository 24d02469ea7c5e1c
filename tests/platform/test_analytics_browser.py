"""The governance and CREI pages in headless Chromium: charts drawn, stress test run, breakdown shown."""

from __future__ import annotations

from tests.conftest import BROWSER_MARKS, login

pytestmark = BROWSER_MARKS


def test_governance_page_draws_charts_and_runs_a_stress_test(browser, app_server) -> None:
    page = browser.new_page(locale="en-US", viewport={"width": 1100, "height": 900})
    login(page, app_server.url, "director")
    page.goto(f"{app_server.url}/analytics/governance/")
    page.wait_for_selector("#shares-chart .main-svg")  # plotly drew the chart (plotly.js served locally)
    page.wait_for_selector("#network-chart .main-svg")
    page.select_option("#id_sector", "capital")
    with page.expect_navigation():
        page.click("#stress-form button[type=submit]")
    result = page.locator("#stress-result b").inner_text()
    assert int(result) > 0  # losing every shop, pharmacy and company leaves households without food or medicine
    page.close()


def test_crei_page_shows_map_ranking_and_breakdown(browser, app_server) -> None:
    page = browser.new_page(locale="en-US", viewport={"width": 1100, "height": 900})
    login(page, app_server.url, "director")
    page.goto(f"{app_server.url}/analytics/crei/")
    page.wait_for_selector("#crei-map .main-svg")
    page.wait_for_selector("#crei-uncertainty .main-svg")
    rows = page.locator("#crei-ranking tbody tr")
    assert rows.count() == 12  # the director's community has 12 grids
    last = rows.nth(11).locator("a")
    name = last.inner_text()
    with page.expect_navigation():
        last.click()
    assert name in page.locator("#breakdown").inner_text()
    assert page.locator("#crei-catalogue .badge.warn").count() >= 1  # missing indicators are shown as missing
    page.close()
