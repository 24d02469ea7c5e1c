"""Issue 12's hub path in headless Chromium on a phone (390x844), in Chinese: the director verifies a social
organisation and moves it up the incubation ladder (its evidence is on record), the organisation's staff
apply to serve in the earthquake emergency in force, the director admits them, and the organisation appears
on the who-does-what-where board.

The setup is committed (the app server runs in another thread and only sees committed rows) and removed
afterwards, the emergency closed; the module lives in transactional/ so that it runs after the tests
sharing the session's database (tests/conftest.py)."""

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
def hub(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    from civicgrid.accounts.roles import scope_for
    from civicgrid.emergency import services as emergency
    from civicgrid.emergency.models import PlanTemplate
    from civicgrid.social import models as m
    from civicgrid.social import services
    from civicgrid.social.conf import social_setting
    from tests.platform.factories import user
    from tests.platform.social_support import community, fresh_code, grid, hub_actor

    with django_db_blocker.unblock():
        district = user("district")
        scope = scope_for(district)
        actor = hub_actor()
        organisation = services.organisation_register(user=district, scope=scope, actor_id=actor.pk,
                                                      credit_code=fresh_code())
        day = timezone.localdate() - timedelta(days=3)
        services.assessment_record(user=district, scope=scope, organisation_id=organisation.pk, assessed_on=day,
                                   ratings=dict.fromkeys(social_setting("indicators"), 4))
        services.training_record(user=district, scope=scope, organisation_id=organisation.pk, title="项目设计与评估",
                                 held_on=day, attendees=4)
        found = emergency.emergency_activate(user=district, scope=scope, community=community(),
                                             plan=PlanTemplate.objects.get(code="earthquake")).emergency
        connections.close_all()
        yield {"organisation": organisation, "actor": actor, "emergency": found, "grid": grid("C01-G01")}
        emergency.emergency_deactivate(user=district, scope=scope, emergency=found, summary="演练结束")
        for model in (m.Admission, m.StageChange, m.VerificationChange, m.AssessmentRating, m.CapacityAssessment,
                      m.Training, m.Funding, m.Complaint, m.Organisation):
            model.objects.all().delete()
        connections.close_all()


def _page(browser: Any, base: str, username: str) -> Any:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", extra_http_headers={"Accept-Language": "zh-hans"})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    login(page, base, username)
    return page


def _submit(page: Any, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def _no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1


def test_verify_incubate_admit_and_see_it_on_the_board(browser: Any, app_server: Any, hub: dict[str, Any]) -> None:
    base = app_server.url
    name = hub["actor"].name

    director = _page(browser, base, "director")
    director.goto(f"{base}/organisations/")
    assert "社会组织" in director.locator("h1").inner_text()
    _submit(director, f"#organisations a:has-text('{name}')")
    assert "已申请" in director.locator("#verification").inner_text()
    _no_sideways_scroll(director)

    # verify, with a reason
    director.click("#verify-box summary")
    director.select_option("#verify-box select[name=v-state]", "verified")
    director.fill("#verify-box input[name=v-reason]", "登记材料齐全，实地核查通过")
    _submit(director, "#verify-box button[type=submit]")
    assert "已认证" in director.locator("#verification").inner_text()

    # one step up the ladder: the assessment (score 4) and the training are on record
    assert "4.00" in director.locator("#score").inner_text()
    director.click("#stage-box summary")
    director.select_option("#stage-box select[name=s-to_stage]", "growing")
    director.fill("#stage-box input[name=s-reason]", "能力评估达标，进入成长期")
    _submit(director, "#stage-box button[type=submit]")
    assert "成长期" in director.locator("#stage").inner_text()
    assert "4.00" in director.locator("#stage-history").inner_text()  # the evidence kept with the step

    # the organisation's staff apply to serve G01 with deliveries in the earthquake emergency
    staff = _page(browser, base, "orgstaff")
    staff.goto(f"{base}/organisations/admission/?emergency={hub['emergency'].pk}")
    box = staff.locator("#apply-box")
    if box.get_attribute("open") is None:
        staff.click("#apply-box summary")
    staff.select_option("#apply-box select[name=actor]", str(hub["actor"].pk))
    staff.check(f"#apply-box input[name=grids][value='{hub['grid'].pk}']")
    staff.check("#apply-box input[name=service_kinds][value=delivery]")
    _submit(staff, "#apply-box button[type=submit]")
    assert "已申请" in staff.locator("#applications").inner_text()
    _no_sideways_scroll(staff)

    # the director admits it
    director.goto(f"{base}/organisations/admission/?emergency={hub['emergency'].pk}")
    row = director.locator("#applications tr", has_text=name)
    _submit(director, "#applications button[value=admit]")
    assert "已准入" in row.first.inner_text()

    # and sees it on the who-does-what-where board, in G01, for deliveries
    director.goto(f"{base}/organisations/3w/?kind=delivery")
    cell = director.locator("#board tr", has_text=hub["grid"].name)
    assert name in cell.first.inner_text() and "已准入" in cell.first.inner_text()
    assert director.locator("#export").get_attribute("href").startswith("/organisations/3w/export/")
    _no_sideways_scroll(director)
