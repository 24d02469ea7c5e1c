"""The what-if page in headless Chromium, in Chinese on a phone: the director runs the lockdown comparing
equity-first with first come, first served (the job runs at once, in the server's process), sees the
chart and the sentence, and reruns it with the same seed to the same sentence."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections

from tests.conftest import BROWSER_MARKS, login

pytestmark = BROWSER_MARKS
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 120_000  # the machine is shared; the job runs inside the request


@pytest.fixture(scope="module")
def jobs_in_process(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """django-q2 runs each queued job at once in the process that queues it (the live server's thread)."""
    from django_q.conf import Conf

    from civicgrid.simulation.models import SimulationRun

    saved = Conf.SYNC
    Conf.SYNC = True
    yield
    Conf.SYNC = saved
    with django_db_blocker.unblock():
        SimulationRun.objects.all().delete()
        connections.close_all()


def test_director_runs_the_lockdown_comparison_in_chinese_and_reruns_it(
        browser: Any, app_server: Any, jobs_in_process: None) -> None:
    page = browser.new_page(viewport=PHONE, locale="zh-CN")
    page.set_default_timeout(TIMEOUT_MS)
    login(page, app_server.url, "director")
    page.goto(f"{app_server.url}/simulation/")
    assert page.locator("h1").inner_text() == "情景推演"
    page.select_option("#id_scenario", "lockdown")
    page.check("input[name=policies][value=equity]")
    page.check("input[name=policies][value=fcfs]")
    page.fill("#id_runs", "3")
    page.fill("#id_days", "14")
    with page.expect_navigation():
        page.click("#run-form button[type=submit]")
    page.wait_for_selector("#need-chart .main-svg")  # plotly drew the days, one line per policy and group
    page.wait_for_selector("#short-chart .main-svg")
    page.wait_for_selector("#wait-chart .main-svg")  # days waited for help, by the day needs arose
    assert "等待救助的天数" in page.locator("#wait-chart").inner_text()
    sentence = page.locator("#sentence").inner_text()
    assert "公平优先" in sentence and "先到先得" in sentence and "脆弱家庭" in sentence
    assert page.locator("#figures tbody tr").count() == 2
    seed = page.locator("#seed").inner_text()
    # nothing wider than the phone's screen
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    with page.expect_navigation():
        page.click("#rerun-form button[type=submit]")
    page.wait_for_selector("#need-chart .main-svg")
    assert page.locator("#seed").inner_text() == seed
    assert page.locator("#sentence").inner_text() == sentence  # the same inputs and seed: the same numbers
    page.close()


def test_the_enterprise_withdrawal_is_runnable_from_the_page(
        browser: Any, app_server: Any, jobs_in_process: None) -> None:
    page = browser.new_page(viewport=PHONE, locale="zh-CN")
    page.set_default_timeout(TIMEOUT_MS)
    login(page, app_server.url, "director")
    page.goto(f"{app_server.url}/simulation/")
    page.select_option("#id_scenario", "lockdown_enterprise_withdrawal")
    page.fill("#id_runs", "2")
    page.fill("#id_days", "10")
    with page.expect_navigation():
        page.click("#run-form button[type=submit]")
    page.wait_for_selector("#need-chart .main-svg")
    assert "企业集团退出" in page.locator("h1").inner_text()
    page.close()
