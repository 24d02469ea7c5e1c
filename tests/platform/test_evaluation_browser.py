"""The "what changed" page in headless Chromium, in Chinese, on a phone (390x844): on the demo's data (its
past emergency and the labelled historical case records), a director picks the emergency and an outcome
and reads the verdict, the estimates, the placebo tests and the chart."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections

from tests.conftest import BROWSER_MARKS, login

pytestmark = BROWSER_MARKS
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def demo_emergency(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Any]:
    """The evaluation app's demo load, committed (the live server's thread sees only committed rows);
    removed afterwards."""
    from civicgrid.alerts.models import Alert
    from civicgrid.cases.models import Case
    from civicgrid.emergency.models import Emergency
    from civicgrid.evaluation import demo

    with django_db_blocker.unblock():
        demo.demo_load(households=700, seed=11)
        emergency = Emergency.objects.select_related("community").get()
        connections.close_all()
        yield emergency
        Case.objects.filter(source=demo.SOURCE).delete()
        alerts = [a for e in Emergency.objects.all() for a in (e.opening_alert_id, e.closing_alert_id) if a]
        Emergency.objects.all().delete()
        Alert.objects.filter(pk__in=alerts, references__isnull=False).delete()  # the closing alert cites the opening
        Alert.objects.filter(pk__in=alerts).delete()
        connections.close_all()


def test_director_reads_the_verdict_of_the_demo_emergency_in_chinese(
        browser: Any, app_server: Any, demo_emergency: Any) -> None:
    page = browser.new_page(viewport=PHONE, locale="zh-CN")
    page.set_default_timeout(TIMEOUT_MS)
    login(page, app_server.url, "director")
    page.goto(f"{app_server.url}/analytics/what-changed/")
    assert page.locator("h1").inner_text() == "前后对比"
    page.select_option("#id_emergency", str(demo_emergency.pk))
    page.select_option("#id_outcome", "cases.handling_hours")
    with page.expect_navigation():
        page.click("#compare-form button[type=submit]")
    verdict = page.locator("#verdict").inner_text()
    assert "案件处理快了" in verdict and "95%区间" in verdict, verdict
    assert page.locator("#estimates tbody tr").count() >= 1
    assert page.locator("#placebos tbody tr").count() >= 1
    page.wait_for_selector("#compare-chart .main-svg")  # Plotly drew the chart (no inline script: CSP)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the page scrolls sideways on a phone ({width}px)"
    page.close()
