"""Issue 10 §5 in headless Chromium on a phone, in Chinese: matches appear as the grid member types
pinyin initials or the last four digits of a phone (civicgrid.js, under the Content-Security-Policy)."""

from __future__ import annotations

from pypinyin import Style, lazy_pinyin

from civicgrid.accounts.roles import scope_for
from civicgrid.registry.models import Resident
from tests.conftest import BROWSER_MARKS, login
from tests.platform.factories import user

pytestmark = BROWSER_MARKS


def test_results_as_you_type(browser, app_server) -> None:
    (grid_path,) = scope_for(user("grid")).area_paths
    resident = Resident.objects.select_related("household").filter(
        household__place_path__startswith=grid_path).exclude(phone_digest="").order_by("id").first()
    assert resident is not None
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    login(page, app_server.url, "grid")
    page.goto(f"{app_server.url}/households/")
    initials = "".join(lazy_pinyin(resident.name, style=Style.FIRST_LETTER)).lower()
    page.type("input[name=q]", initials, delay=40)
    page.wait_for_selector("#household-suggestions li a", state="visible")
    assert page.locator(f"#household-suggestions >> text={resident.household.code}").count() >= 1
    page.fill("input[name=q]", "")
    page.type("input[name=q]", resident.phone[-4:], delay=40)
    page.wait_for_selector(f"#household-suggestions >> text={resident.household.code}", state="visible")
    with page.expect_navigation():
        page.click(f"#household-suggestions >> text={resident.household.code}")
    assert page.url.endswith(f"/households/{resident.household_id}/")
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    page.close()
