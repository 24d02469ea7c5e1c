"""The shipped checklists against the seed's own words, completion per site or household and per day,
and editing that retires items without losing past sheets."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.test import Client

from civicgrid.accounts.roles import scope_for
from civicgrid.emergency import services
from civicgrid.emergency.models import ChecklistCompletion, ChecklistTemplate
from civicgrid.emergency.selectors import checklists as cl
from tests.platform.factories import user

pytestmark = pytest.mark.django_db

# Seed 000 (Tang et al., "Equity in community resilience governance", IJOSSER 6(6), 2023), section 4.1,
# interviewee F, quoted as printed (including its translation slips).
SEED_F = ("the key of which is the \"eight-piece set\" at the gate of the community (including: registration "
          "office, prevention and control form, thermometer, bulletin board, isolation point, etc.). ... the "
          "\"five elements\" of the community investigation (These are the five procedures for entering the "
          "community, including: professional work team, key objects, inquiry and registration, level-by-level "
          "reporting, and scan code reporting) and the \"six dos and six don'ts\" of home isolation (This is the "
          "standard of home isolation, including report one's health status in time, provide living materials, "
          "use wisdom in a timely manner,, do not go out, do not receive visitors, do not lie about your health "
          "status, etc.)")
# What each seed item is called in the quote, by our item key.
SEED_TERMS = {
    "registration_desk": "registration office", "control_form": "prevention and control form",
    "thermometer": "thermometer", "bulletin_board": "bulletin board", "isolation_point": "isolation point",
    "professional_team": "professional work team", "key_persons": "key objects",
    "inquiry_registration": "inquiry and registration", "level_reporting": "level-by-level reporting",
    "scan_code_reporting": "scan code reporting", "report_health": "report one's health status in time",
    "living_supplies": "provide living materials", "smart_services": "use wisdom in a timely manner",
    "no_going_out": "do not go out", "no_visitors": "do not receive visitors",
    "no_concealing": "do not lie about your health status",
}


def test_shipped_checklists_follow_the_seed() -> None:
    templates = {t.code: t for t in ChecklistTemplate.objects.prefetch_related("items")}
    gate = templates["gate_eight_piece_set"]
    five = templates["community_investigation_five_elements"]
    six = templates["home_isolation_six_dos_donts"]
    assert (gate.target, five.target, six.target) == ("site", "site", "household")
    assert len(gate.items.all()) == 8 and len(five.items.all()) == 5
    kinds = [i.kind for i in six.items.all()]
    assert kinds.count("do") == 6 and kinds.count("dont") == 6
    from_seed = {i.key for t in templates.values() for i in t.items.all() if i.from_seed}
    assert from_seed == set(SEED_TERMS)  # every item the seed names, and only those, is marked as from it
    for key, term in SEED_TERMS.items():
        assert term in SEED_F, key
    for template in templates.values():
        for item in template.items.all():
            assert item.text_en and item.text_zh, item.key  # bilingual


def test_completion_per_site_and_day() -> None:
    grid_member = user("grid")
    template = ChecklistTemplate.objects.get(code="gate_eight_piece_set")
    site = user("resident").role.household.grid
    items = list(template.items.order_by("order"))
    day = date(2030, 5, 1)
    assert services.checklist_save(user=grid_member, scope=scope_for(grid_member), template=template, day=day, place=site,
                                   done_item_ids={items[0].pk, items[1].pk}) == 8
    assert services.checklist_save(user=grid_member, scope=scope_for(grid_member), template=template, day=day, place=site,
                                   done_item_ids={items[0].pk, items[1].pk, items[2].pk}) == 1  # one changed
    scope = scope_for(grid_member)
    assert cl.sheet(scope=scope, template=template, subject=f"place:{site.pk}", day=day) == {
        items[0].pk, items[1].pk, items[2].pk}
    assert cl.sheet(scope=scope, template=template, subject=f"place:{site.pk}", day=day + timedelta(days=1)) == set()
    assert cl.progress(scope=scope, template=template, day=day) == {f"place:{site.pk}": 3}
    with pytest.raises(ValidationError):  # a site checklist is not kept for a household
        services.checklist_save(user=grid_member, scope=scope_for(grid_member), template=template, day=day, household=user("resident").role.household,
                                done_item_ids=set())
    other_site = type(site).objects.filter(level="grid").exclude(pk=site.pk).first()
    with pytest.raises(ObjectDoesNotExist):  # another grid is outside the grid member's scope
        services.checklist_save(user=grid_member, scope=scope_for(grid_member), template=template, day=day, place=other_site, done_item_ids=set())


def test_household_sheet_by_the_resident_and_item_editing() -> None:
    resident, director = user("resident"), user("director")
    template = ChecklistTemplate.objects.get(code="home_isolation_six_dos_donts")
    household = resident.role.household
    items = list(template.items.order_by("order"))
    day = date(2030, 5, 2)
    client = Client(headers={"accept-language": "en"})
    client.force_login(resident)
    response = client.post(f"/emergency/checklists/{template.pk}/sheet/", {
        "household": household.pk, "day": day.isoformat(), "done": [items[0].pk, items[6].pk]})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert '<span id="sheet-count">2/12</span>' in page
    # retire an item and add one: past sheets keep the retired item's row
    rows = [{"id": i.pk, "text_en": i.text_en, "text_zh": i.text_zh, "kind": i.kind, "active": i.pk != items[0].pk}
            for i in items] + [{"id": None, "text_en": "Do keep the phone on", "text_zh": "要保持电话畅通",
                                "kind": "do", "active": True}]
    assert services.checklist_items_update(user=user("district"), scope=scope_for(user("district")), template=template,
                                           rows=rows) == 2
    assert template.items.filter(active=True).count() == 12
    assert ChecklistCompletion.objects.filter(item=items[0], day=day, done=True).exists()
    with pytest.raises(PermissionDenied):
        services.checklist_items_update(user=director, scope=scope_for(director), template=template,
                                        rows=rows)  # district-wide
    page = client.get(f"/emergency/checklists/{template.pk}/sheet/?household={household.pk}&day={day}").content.decode()
    assert '<span id="sheet-count">1/12</span>' in page and "Do keep the phone on" in page
