"""A call for proposals runs to a paid milestone in headless Chromium, in Chinese, on a phone-sized screen:
the district official publishes a call and names a reviewer; the organisation's staff apply; the reviewer
scores (and is shown the conflict of interest that bars them from a rival's application); once the deadline
has passed the official awards with a milestone, accepts it as its arbiter (with the reason it is short of its
count) and pays it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone

from tests.conftest import BROWSER_MARKS, login

pytestmark = BROWSER_MARKS
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def purchase(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """Committed (the app server runs in another thread): an appropriation, the staff's organisation verified,
    a rival organisation in which the grid member holds a post; removed afterwards."""
    from civicgrid.accounts.roles import scope_for
    from civicgrid.procurement import models as m
    from civicgrid.procurement import services
    from civicgrid.registry.models import Actor, Place, Post
    from civicgrid.social.models import Organisation
    from tests.platform.factories import user
    from tests.platform.procurement_support import organisation

    with django_db_blocker.unblock():
        district = user("district")
        community = Place.objects.get(level="community", code__endswith="C01")
        funder = Actor.objects.filter(sector="state").order_by("code").first()
        fund = services.appropriation_create(user=district, scope=scope_for(district), name="社区服务专项资金",
                                             place_id=community.pk, funder_id=funder.pk, year=2026,
                                             amount_fen=20_000_000)
        staff_org = organisation(user("orgstaff").role.actor)
        rival = organisation(Actor.objects.filter(sector="society").exclude(pk=staff_org.actor_id).order_by("code")
                             .first())
        post = Post.objects.create(person=user("grid").role.person, actor=rival.actor, role="理事")
        connections.close_all()
        yield {"fund": fund, "community": community, "rival": rival, "staff_org": staff_org}
        for model in (m.Payment, m.Milestone, m.Contract, m.Score, m.Application, m.Reviewer, m.Call,
                      m.Appropriation):
            model.objects.all().delete()
        post.delete()
        Organisation.objects.filter(pk__in=[staff_org.pk, rival.pk]).delete()
        connections.close_all()


def _page(browser: Any) -> Any:
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page


def _committed(work: Any) -> Any:
    """Run ``work`` in a thread of its own, so that it commits at once (the test itself runs inside a
    transaction, whose writes the app server would wait for)."""
    import threading

    result: list[Any] = []

    def run() -> None:
        try:
            result.append(work())
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert result, "the committed write failed"
    return result[0]


def _submit(page: Any, selector: str = "main form button[type=submit]") -> None:
    with page.expect_navigation():
        page.click(selector)


def test_a_call_for_proposals_runs_to_a_paid_milestone(browser: Any, app_server: Any, purchase: dict[str, Any]
                                                       ) -> None:
    from civicgrid.core.scoping import PLATFORM
    from civicgrid.procurement import services
    from civicgrid.procurement.models import Call

    url = app_server.url
    official = _page(browser)
    login(official, url, "district")
    official.goto(f"{url}/procurement/")
    assert official.locator("h1").inner_text() == "政府购买服务"
    assert official.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling on a phone
    official.click("text=发布服务项目")
    official.select_option("#id_appropriation", str(purchase["fund"].pk))
    official.fill("#id_title", "高龄老人物资配送服务")
    official.select_option("#id_service_kind", "delivery")
    official.select_option("#id_place", str(purchase["community"].pk))
    official.fill("#id_budget", "50000")
    official.fill("#id_deadline", (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"))
    _submit(official)
    assert "服务项目已发布" in official.locator("main").inner_text()
    call_url = official.url
    official.select_option("#id_reviewer", label=official.locator("#id_reviewer option", has_text="grid").first
                           .inner_text())
    _submit(official, "form[action$='/reviewers/'] button[type=submit]")
    assert "已指定评审人" in official.locator("main").inner_text()

    staff = _page(browser)
    login(staff, url, "orgstaff")
    staff.goto(call_url)
    staff.click("#apply")
    staff.fill("#id_amount", "40000")
    staff.fill("#id_proposal", "每周两次为高龄独居老人配送生活物资。")
    _submit(staff)
    assert "申报已提交" in staff.locator("main").inner_text()

    call_id = int(call_url.rstrip("/").split("/")[-1])
    # a rival's application, from an organisation the reviewer sits in
    rival = _committed(lambda: services.application_submit(
        user=None, scope=PLATFORM, call_id=call_id, organisation_id=purchase["rival"].actor_id,
        amount_fen=3_000_000, proposal="对手方案"))

    reviewer = _page(browser)
    login(reviewer, url, "grid")
    reviewer.goto(f"{url}/procurement/applications/{rival.pk}/")
    assert "利益冲突" in reviewer.locator("#conflict").inner_text()
    assert reviewer.locator("#score-form").count() == 0
    reviewer.goto(call_url)
    reviewer.click(f"#applications a:has-text('{purchase['staff_org'].actor.name}')")
    for field, mark in (("capacity", "25"), ("plan", "35"), ("value", "15"), ("local", "8")):
        reviewer.fill(f"#id_{field}", mark)
    _submit(reviewer, "#score-form button[type=submit]")
    assert "评分已提交" in reviewer.locator("main").inner_text()

    # time passes: the deadline is behind us
    _committed(lambda: Call.objects.filter(pk=call_id).update(deadline=timezone.now() - timedelta(minutes=1)))
    official.goto(call_url)
    official.click("#award")
    official.select_option("#id_application", label=official.locator("#id_application option",
                                                                     has_text=purchase["staff_org"].actor.name)
                           .inner_text())
    official.select_option("#id_arbiter", label=official.locator("#id_arbiter option", has_text="district")
                           .inner_text())
    today = timezone.localdate().isoformat()
    official.fill("#id_ends_on", (timezone.localdate() + timedelta(days=90)).isoformat())
    official.fill("#id_m1_title", "首批配送")
    official.fill("#id_m1_share", "100")
    official.fill("#id_m1_due", today)
    official.select_option("#id_m1_deliverable", "deliveries_done")
    official.fill("#id_m1_target", "1")
    _submit(official)
    assert "已授标" in official.locator("main").inner_text()
    milestone = official.locator("#milestone-1")
    assert "0 / 1" in milestone.locator(".count").inner_text()
    milestone.locator("input[value=accept]").check()
    milestone.locator("input[name$=reason]").fill("配送记录在纸质台账上")
    _submit(official, "#milestone-1 form.decide button[type=submit]")
    assert "已验收" in official.locator("#milestone-1 .relief-status").inner_text()
    _submit(official, "#milestone-1 form.pay button[type=submit]")
    assert "付款已记录" in official.locator("main").inner_text()
    assert "已付款" in official.locator("#milestone-1 .relief-status").inner_text()
    assert "40,000.00 / 40,000.00" in official.locator("#appropriation").inner_text()
    official.goto(f"{url}/procurement/payments/")
    assert "首批配送" in official.locator("#payments").inner_text()
    official.goto(call_url)
    with official.expect_download() as download:
        official.click("#ocds")
    assert download.value.suggested_filename == f"ocds-call-{call_id}.json"
