"""A round confirmed in the background, in headless Chromium on a phone (390x844), in Chinese: with the threshold
set low, the director's confirmation is queued and the page shows its status and progress bar, refreshing itself;
when the job has run (the queue has no worker here: the test runs the queued job as a worker would) the page shows
the round confirmed and links to it. Neither state shows a Latin letter or scrolls sideways."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections

from civicgrid.accounts.models import Role
from civicgrid.registry.models import Household
from tests.conftest import BROWSER_MARKS, login

pytestmark = BROWSER_MARKS
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def grid_needs(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Any]:
    """Committed needs and stock for the resident's grid (the app server's thread sees only committed rows);
    removed afterwards."""
    from django_q.models import OrmQ

    from civicgrid.relief import models as m
    from tests.platform.relief_support import grid_households, lockdown

    with django_db_blocker.unblock():
        household = Household.objects.get(pk=Role.objects.get(user__username="resident").household_id)
        lockdown(households=grid_households(household.grid.code), share=0.6)
        connections.close_all()
        yield household.grid
        OrmQ.objects.all().delete()
        for model in (m.RoundConfirmation, m.DeliveryAttempt, m.RoundAllocation, m.DeliveryStop, m.DeliveryTask,
                      m.LedgerEntry, m.Lot, m.Offer, m.AllocationRound, m.NeedFiling, m.Need, m.DistributionPoint,
                      m.Item):
            model.objects.all().delete()
        connections.close_all()


def _latin(page: Any) -> list[str]:
    return re.findall(r"[A-Za-z]+", page.locator("main").inner_text())


def test_a_large_round_is_confirmed_in_the_background_with_its_progress_in_chinese(
        browser: Any, app_server: Any, grid_needs: Any, settings: Any) -> None:
    from civicgrid.relief.jobs import run_round_confirmation
    from civicgrid.relief.models import AllocationRound, RoundConfirmation

    settings.CIVICGRID_RELIEF = {"background_requests": 1}  # every round is "large" here
    page = browser.new_page(viewport=PHONE, locale="zh-CN")
    page.set_default_timeout(TIMEOUT_MS)
    login(page, app_server.url, "director")
    page.goto(f"{app_server.url}/relief/rounds/")
    page.check(f"input[name=places][value='{grid_needs.pk}']")
    page.check("input[name=items][value='t-food']")
    page.check("input[name=items][value='t-water']")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    with page.expect_navigation():
        page.click("#confirm-form button[type=submit]")
    assert re.search(r"/relief/rounds/confirmations/\d+/$", page.url), page.url
    # queued: no worker runs here, so the page shows the status, the progress bar and its label, and refreshes
    assert page.locator("h1").inner_text().startswith("分配确认")
    assert page.locator("#status").inner_text() == "排队中"
    assert page.locator("#progress").is_visible() and page.locator("label[for=progress]").inner_text() == "进度"
    assert page.locator("meta[http-equiv=refresh]").count() == 1
    cards = page.locator("#confirmation-inputs .card")
    assert cards.count() >= 5 and all(len(cards.nth(i).inner_text().splitlines()) >= 2 for i in range(cards.count()))
    assert _latin(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    found: dict[str, Any] = {}

    def worker() -> None:
        """What ``civicgrid worker`` does with the queued job, on its own connection."""
        try:
            confirmation = RoundConfirmation.objects.get()
            found["result"] = run_round_confirmation(confirmation.pk)
            confirmation.refresh_from_db()
            found["status"], found["round"] = confirmation.status, confirmation.round_id
            found["rounds"] = AllocationRound.objects.count()
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert found["status"] == RoundConfirmation.Status.DONE and found["rounds"] == 1, found
    page.wait_for_selector("#done", timeout=30_000)  # the page refreshed itself and shows the round
    assert "分配已确认" in page.locator("#done").inner_text()
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    assert _latin(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    with page.expect_navigation():
        page.click("#round-link")
    assert page.url.endswith(f"/relief/rounds/{found['round']}/")
    page.close()
