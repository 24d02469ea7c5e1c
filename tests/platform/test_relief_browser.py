"""The whole relief loop in headless Chromium on a phone-sized screen: the director previews a round (equity
beside first come, first served) and confirms it; the resident reads their one-time code; a volunteer claims
the task of the resident's building and delivers with that code; the resident sees it delivered."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections

from civicgrid.accounts.models import Role
from civicgrid.registry.models import Household, Place
from tests.conftest import BROWSER_MARKS, login

pytestmark = BROWSER_MARKS
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 90_000  # generous: the machine is shared, and confirming a round does real work


def _page(browser: Any) -> Any:
    page = browser.new_page(viewport=PHONE, locale="en-US")
    page.set_default_timeout(TIMEOUT_MS)
    return page


@pytest.fixture(scope="module")
def relief_data(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """Committed needs and stock for the resident's grid (the app server runs in another thread and only sees
    committed rows); removed afterwards."""
    from civicgrid.relief import models as m
    from tests.platform.relief_support import grid_households, lockdown

    with django_db_blocker.unblock():
        household = Household.objects.get(pk=Role.objects.get(user__username="resident").household_id)
        world = lockdown(households=grid_households(household.grid.code), share=0.6)
        # Playwright's event loop gives this fixture a connection of its own: close it, or PostgreSQL refuses
        # to drop the test database at the end ("being accessed by other users")
        connections.close_all()
        yield {"household": household, "building": household.building.name, "grid": household.grid,
               "world": world}
        for model in (m.DeliveryAttempt, m.RoundAllocation, m.DeliveryStop, m.DeliveryTask, m.LedgerEntry, m.Lot,
                      m.Offer, m.AllocationRound, m.NeedFiling, m.Need, m.DistributionPoint, m.Item):
            model.objects.all().delete()
        connections.close_all()


def test_round_preview_confirm_claim_and_deliver_with_the_code(
        browser: Any, app_server: Any, relief_data: dict[str, Any],
) -> None:
    grid: Place = relief_data["grid"]
    household: Household = relief_data["household"]
    url = app_server.url

    director = _page(browser)
    login(director, url, "director")
    director.goto(f"{url}/relief/rounds/")
    director.check(f"input[name=places][value='{grid.pk}']")
    director.check("input[name=items][value='t-food']")
    director.check("input[name=items][value='t-water']")
    with director.expect_navigation():
        director.click("main button[type=submit]")
    assert director.locator("h1").inner_text() == "Round preview"
    header = director.locator("#policy-table thead").inner_text()
    assert "Equity" in header and "First come" in header  # the policies by name, never their codes
    vulnerable_row = director.locator("tr[data-metric='groups.vulnerable.coverage'] td")
    equity, fcfs = (vulnerable_row.nth(i).inner_text() for i in (0, 3))
    assert float(equity.rstrip("%")) > float(fcfs.rstrip("%"))  # equity serves the vulnerable households better
    assert director.locator("input[name=policy][value=equity]").is_checked()
    with director.expect_navigation():
        director.click("main button[type=submit]")
    assert re.match(r"Round #\d+", director.locator("h1").inner_text())
    assert "Round confirmed" in director.locator(".messages").inner_text()

    resident = _page(browser)
    login(resident, url, "resident")
    resident.goto(f"{url}/relief/my-needs/")
    code = resident.locator(".relief-code").first.inner_text().strip()
    assert re.fullmatch(r"\d{6}", code)
    assert resident.locator(".need-card", has_text="waiting for a volunteer").count() >= 1

    volunteer = _page(browser)
    login(volunteer, url, "volunteer")
    volunteer.goto(f"{url}/relief/tasks/")
    row = volunteer.locator("#claimable tr", has_text=relief_data["building"]).first
    with volunteer.expect_navigation():
        row.locator("button").click()
    assert "The task is yours" in volunteer.locator(".messages").inner_text()
    stop = volunteer.locator(".relief-stop", has_text=household.address)
    assert code not in volunteer.content()  # the volunteer never sees the code
    stop.locator(".deliver-form input[name$=code]").fill(code)
    with volunteer.expect_navigation():
        stop.locator(".deliver-form button").click()
    assert "Delivery confirmed" in volunteer.locator(".messages").inner_text()

    resident.reload()
    card = resident.locator(".need-card").first.inner_text()
    assert "Delivered" in card or "delivered" in card
    assert code not in resident.content()  # a used code is not shown again
    for page in (director, resident, volunteer):
        page.close()
