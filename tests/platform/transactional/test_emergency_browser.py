"""The issue's 'Done means' path in headless Chromium, on the demo logins: a case through the whole
loop; the epidemic plan activated (live tasks, checklists, opening alert); part of a sweep on a phone
(390x844); a home-isolation check-in; deactivation with a review.

The browser's writes are committed by the app server and outlive this test (the live server does not
share the test's transaction), so this module runs last (it lives in transactional/, which
tests/conftest.py orders after the shared-database tests) and ends by returning the
community to normal mode. The test body only reads the database.
"""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model

from civicgrid.cases.models import CaseCategory
from civicgrid.emergency.models import PlanTemplate
from civicgrid.registry.models import Household, Resident
from tests.conftest import BROWSER_MARKS, login

pytestmark = BROWSER_MARKS

PHONE = {"width": 390, "height": 844}
# a 1x1 PNG that decodes (photos are re-encoded, so one that does not is refused)
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x7f\x82\xa1\x01\x00\x06\xd9\x02H\xf8\xfemE\x00\x00\x00\x00IEND\xaeB`\x82")


def _page(browser, base: str, username: str, *, phone: bool = False):
    context = browser.new_context(viewport=PHONE if phone else {"width": 1200, "height": 900}, locale="en-US")
    page = context.new_page()
    login(page, base, username)
    return page


def _act(page, url: str, action: str, **fields: str) -> None:
    page.goto(url)
    for name, value in fields.items():
        if name in {"handler", "rating"}:
            page.select_option(f"#case-actions [name={name}]", value)
        else:
            page.fill(f"#case-actions [name={name}]", value)
    with page.expect_navigation():
        page.click(f"button[data-action={action}]")
    assert page.locator(".errorlist").count() == 0, page.content()


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1


def test_done_means_path(browser, app_server) -> None:
    base = app_server.url
    users = get_user_model().objects
    director, orgstaff = users.get(username="director"), users.get(username="orgstaff")
    resident_user = users.get(username="resident")
    community = director.role.place
    plan = PlanTemplate.objects.get(code="epidemic_lockdown")
    isolated = Resident.objects.filter(household__grid=resident_user.role.household.grid).exclude(
        household=resident_user.role.household).order_by("code").first()

    # 1. a case through the whole loop
    resident = _page(browser, base, "resident", phone=True)
    resident.goto(f"{base}/cases/new/")
    resident.select_option("select[name=category]", str(CaseCategory.objects.get(code="facility_repair").pk))
    resident.fill("textarea[name=description]", "The stairwell light on floor 3 is broken.")
    resident.set_input_files("input[name=photo]", files=[{"name": "lamp.png", "mimeType": "image/png",
                                                          "buffer": PNG}])
    with resident.expect_navigation():
        resident.click("main button[type=submit]")
    case_url = resident.url
    assert re.search(r"/cases/\d+/$", case_url)
    assert resident.locator("#case-state").inner_text() == "reported"
    assert resident.locator("img[alt=photo]").count() == 1
    _no_sideways_scroll(resident)

    coordinator = _page(browser, base, "director")
    _act(coordinator, case_url, "register")
    _act(coordinator, case_url, "dispatch", handler=str(orgstaff.role.actor_id))
    assert coordinator.locator("#case-handler").inner_text().startswith(orgstaff.role.actor.name)
    organisation = _page(browser, base, "orgstaff")
    _act(organisation, case_url, "handle", note="Bulb replaced.")
    grid = _page(browser, base, "grid", phone=True)
    _act(grid, case_url, "verify")
    _act(coordinator, case_url, "close")
    _act(resident, case_url, "rate", rating="5", note="Quick, thank you")
    assert resident.locator("#case-state").inner_text() == "closed"
    assert resident.locator("#case-rating").inner_text().startswith("5 / 5")
    assert resident.locator("#case-events li").count() == 7

    # 2. activate the epidemic plan: live tasks, checklists, opening alert
    coordinator.goto(f"{base}/emergency/")
    coordinator.select_option("#activate-form select[name=community]", str(community.pk))
    coordinator.select_option("#activate-form select[name=plan]", str(plan.pk))
    with coordinator.expect_navigation():
        coordinator.click("#activate-form button[type=submit]")
    # asked first, with the consequence: how many households the opening alert reaches
    households = Household.objects.filter(place_path__startswith=community.path).count()
    assert coordinator.locator("#households-alerted").inner_text() == str(households)
    with coordinator.expect_navigation():
        coordinator.click("#activate-confirm-form button[type=submit]")
    emergency_url = coordinator.url
    assert re.search(r"/emergency/\d+/$", emergency_url)
    assert coordinator.locator("#mode-badge").inner_text() == "emergency mode"
    assert coordinator.locator("#live-tasks tbody tr").count() >= len(plan.body["tasks"])
    checklists = coordinator.locator("#emergency-checklists").inner_text()
    for name in ("eight-piece set", "Five elements", "Six dos and six don'ts"):
        assert name in checklists
    headline = plan.body["alert_texts"]["opening"]["headline"]["en"]
    with coordinator.expect_navigation():
        coordinator.click("#opening-alert")
    assert coordinator.locator("#alert-headline").inner_text() == headline
    coordinator.goto(emergency_url)
    with coordinator.expect_navigation():
        coordinator.click("a:has-text('eight-piece set')")
    assert coordinator.locator("#checklist-sheets tr").count() >= 1
    coordinator.goto(emergency_url)
    with coordinator.expect_navigation():
        coordinator.click("#start-sweep")
    assert "/emergency/sweeps/" in coordinator.url

    # the resident sees the opening alert on the notices page and acknowledges it
    resident.goto(f"{base}/notices/")
    assert headline in resident.locator("#alerts-for-me").inner_text()
    with resident.expect_navigation():
        resident.click("#alerts-for-me button[type=submit]")
    assert "acknowledged" in resident.locator("#alerts-for-me").inner_text()

    # 3. part of the sweep on a phone
    grid.goto(f"{base}/emergency/now/")
    unreached = int(grid.locator("#n-unreached").first.inner_text())
    with grid.expect_navigation():
        grid.click("a.open-sweep >> nth=0")
    with grid.expect_navigation():
        grid.click("#visit-list a >> nth=0")
    _no_sideways_scroll(grid)
    first_address = grid.locator("#visit-address").inner_text()
    for outcome, need in (("safe", ""), ("needs_help", "Out of blood-pressure medicine"), ("not_home", "")):
        grid.check(f"input[name=outcome][value={outcome}]")
        if need:
            grid.fill("textarea[name=need]", need)
        with grid.expect_navigation():
            grid.click(".visit-submit")
        assert grid.locator(".errorlist").count() == 0, grid.content()
    assert grid.locator("#visit-address").inner_text() != first_address  # on to the next household
    grid.goto(f"{base}/emergency/now/")
    assert int(grid.locator("#n-unreached").first.inner_text()) < unreached
    assert int(grid.locator("#open-needs").inner_text()) >= 1

    # 4. a home-isolation check-in, recorded by the grid member for the resident
    grid.goto(f"{base}/emergency/isolation/")
    grid.fill("#isolation-form input[name=resident]", isolated.code)
    with grid.expect_navigation():
        grid.click("#isolation-form button[type=submit]")
    assert grid.locator("h1").inner_text() == isolated.name
    grid.fill("#checkin-form input[name=temperature]", "36.7")
    with grid.expect_navigation():
        grid.click("#checkin-form button[type=submit]")
    assert "36.7" in grid.locator("#checkins").inner_text()
    _no_sideways_scroll(grid)

    # 5. back to normal, with the after-action review
    coordinator.goto(emergency_url)
    coordinator.fill("#deactivate-form textarea[name=summary]", "Drill-like lockdown of one day.")
    coordinator.fill("#deactivate-form textarea[name=went_well]", "Vulnerable households first.")
    coordinator.fill("#deactivate-form textarea[name=to_improve]", "Faster supply.")
    assert "in home isolation" in coordinator.locator("#open-work").inner_text()
    with coordinator.expect_navigation():
        coordinator.click("#deactivate-form button[type=submit]")
    assert coordinator.locator("#field-confirm_open .errorlist").count() == 1  # refused until ticked
    coordinator.check("#deactivate-form input[name=confirm_open]")
    with coordinator.expect_navigation():
        coordinator.click("#deactivate-form button[type=submit]")
    assert coordinator.locator("#mode-badge").inner_text() == "closed: back to normal"
    assert "Drill-like lockdown of one day." in coordinator.locator("#review").inner_text()
    coordinator.goto(f"{base}/emergency/now/")
    assert coordinator.locator("#all-normal").count() == 1
    for page in (resident, coordinator, organisation, grid):
        page.context.close()
