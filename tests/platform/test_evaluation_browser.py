"""The "what changed" page in headless Chromium, in Chinese, on a phone (390x844): on the demo's data (its
past emergency and the labelled historical case records), a director picks the emergency and an outcome;
the comparison is queued as a job and its page shows the progress, refreshing itself; when the job has run
(here: the queue has no worker, the test runs the queued job itself, as a worker would) the page shows the
verdict in both languages, the estimates, the placebo tests and the chart; a rerun (the queue running
jobs at once, as in the what-if test) gives the same verdict."""

from __future__ import annotations

import threading
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
        from civicgrid.evaluation.models import Comparison

        Comparison.objects.all().delete()
        Case.objects.filter(source=demo.SOURCE).delete()
        alerts = [a for e in Emergency.objects.all() for a in (e.opening_alert_id, e.closing_alert_id) if a]
        Emergency.objects.all().delete()
        Alert.objects.filter(pk__in=alerts, references__isnull=False).delete()  # the closing alert cites the opening
        Alert.objects.filter(pk__in=alerts).delete()
        connections.close_all()


def test_director_queues_the_comparison_follows_its_progress_and_reads_the_verdict_in_chinese(
        browser: Any, app_server: Any, demo_emergency: Any) -> None:
    from django_q.conf import Conf
    from django_q.models import OrmQ

    from civicgrid.evaluation.jobs import run_comparison
    from civicgrid.evaluation.models import Comparison

    page = browser.new_page(viewport=PHONE, locale="zh-CN")
    page.set_default_timeout(TIMEOUT_MS)
    login(page, app_server.url, "director")
    page.goto(f"{app_server.url}/analytics/what-changed/")
    assert page.locator("h1").inner_text() == "前后对比"
    page.select_option("#id_emergency", str(demo_emergency.pk))
    page.select_option("#id_outcome", "cases.handling_hours")
    with page.expect_navigation():
        page.click("#compare-form button[type=submit]")
    # queued: no worker runs here, so the page shows the progress bar and its label, and polls
    assert page.locator("#status").inner_text() == "排队中"
    assert page.locator("#progress").is_visible() and page.locator("label[for=progress]").inner_text() == "进度"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    found: dict[str, Any] = {}

    def worker() -> None:
        """What ``civicgrid worker`` does with the queued job, on its own connection (the test's own is
        inside the test's transaction, which the server does not see)."""
        try:
            comparison = Comparison.objects.get()
            # the comparison's job (the world's alerts have queued their sending jobs beside it)
            ours = [q for q in OrmQ.objects.all() if q.func() == "civicgrid.evaluation.jobs.run_comparison"]
            found["queued"] = len(ours)
            run_comparison(comparison.pk)
            OrmQ.objects.all().delete()  # no worker runs in this test: the queue is left empty for the next
            comparison.refresh_from_db()
            found["status"], found["error"] = comparison.status, comparison.error
            found["verdicts"] = (comparison.result or {}).get("verdict")
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert found["queued"] == 1  # the job waited on the platform's queue
    assert found["status"] == Comparison.Status.DONE, found
    page.wait_for_selector("#verdict", timeout=30_000)  # the page refreshed itself and shows the result
    verdict = page.locator("#verdict").inner_text()
    assert "案件处理快了" in verdict and "95%区间" in verdict, verdict
    assert "faster" in found["verdicts"]["en"] and found["verdicts"]["zh"] in verdict  # both languages kept
    assert page.locator("#estimates tbody tr").count() >= 1
    assert page.locator("#placebos tbody tr").count() >= 1
    # a label on every value: each table cell carries its column's name for the phone layout
    cells = page.locator("#estimates td, #placebos td:not([colspan])")
    assert all(cells.nth(i).get_attribute("data-label") for i in range(cells.count()))
    cards = page.locator("#comparison-inputs .card")
    assert all(len(cards.nth(i).inner_text().splitlines()) >= 2 for i in range(cards.count()))
    page.wait_for_selector("#compare-chart .main-svg")  # Plotly drew the chart (no inline script: CSP)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the page scrolls sideways on a phone ({width}px)"
    # a rerun with the same inputs (the queue now running each job at once, in the server's thread)
    saved = Conf.SYNC
    Conf.SYNC = True
    try:
        with page.expect_navigation():
            page.click("#rerun-form button[type=submit]")
        page.wait_for_selector("#verdict")
        assert page.locator("#verdict").inner_text() == verdict
    finally:
        Conf.SYNC = saved
    page.close()
