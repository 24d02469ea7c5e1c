"""Issue 11, finding 1, in headless Chromium: under the Content-Security-Policy the pages still work
(charts drawn from their JSON blocks, the menu button, the language switch) and the browser reports no
policy violation; an injected inline script would not run."""

from __future__ import annotations

from tests.conftest import BROWSER_MARKS, login

pytestmark = BROWSER_MARKS


def test_pages_work_under_the_policy_without_violations(browser, app_server) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(locale="en-US", viewport={"width": 420, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    login(page, app_server.url, "director")
    page.goto(f"{app_server.url}/analytics/governance/")
    page.wait_for_selector("#shares-chart .main-svg")
    page.wait_for_selector("#network-chart .main-svg")
    page.goto(f"{app_server.url}/analytics/crei/")
    page.wait_for_selector("#crei-map .main-svg")
    # the narrow screen's menu button opens the menu (its handler lives in civicgrid.js now)
    page.click(".menu-toggle")
    assert page.get_attribute(".menu-toggle", "aria-expanded") == "true"
    assert page.evaluate("document.body.classList.contains('nav-open')")
    assert problems == []
    # an inline script, as an injection would write it, is refused by the policy
    page.evaluate("""() => { const s = document.createElement('script');
                             s.textContent = 'window.__injected = true'; document.body.appendChild(s); }""")
    assert page.evaluate("window.__injected === undefined")
    assert any("inline script" in p for p in problems)
    # the language switch submits itself
    with page.expect_navigation():
        page.select_option("#language-form select", "zh-hans")
    assert page.evaluate("document.documentElement.lang") == "zh-hans"
    page.close()


def test_the_api_docs_work_under_the_policy(browser, app_server) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(locale="en-US")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    external: list[str] = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(app_server.url) else None)
    login(page, app_server.url, "director")
    page.goto(f"{app_server.url}/api/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "civicgrid API" in page.inner_text(".swagger-ui .info .title")
    assert problems == [] and external == []  # served by the app itself: works offline too
    page.close()
