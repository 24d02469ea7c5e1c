"""Issue 11, finding 10: the emergency plan and checklist templates are district-wide, so only a district
official (or a superuser) may edit them. A community director is refused with a reason and nothing changes."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.test import Client

from civicgrid.accounts.roles import scope_for
from civicgrid.core.models import AuditLog
from civicgrid.emergency import plan_format as pf
from civicgrid.emergency import services
from civicgrid.emergency.models import ChecklistItem, ChecklistTemplate, PlanTemplate

pytestmark = pytest.mark.django_db


def user(name: str):  # type: ignore[no-untyped-def]
    return get_user_model().objects.get(username=name)


def _edited(plan: PlanTemplate) -> str:
    doc = pf.load_yaml(pf.dump_yaml(plan.body))
    doc["tasks"][0]["due_hours"] = 7
    return pf.dump_yaml(doc)


def _state(plan: PlanTemplate, template: ChecklistTemplate) -> tuple[object, ...]:
    plan.refresh_from_db()
    items = list(template.items.order_by("id").values_list("text_en", "text_zh", "active"))
    return plan.version, plan.body, items, AuditLog.objects.filter(model__startswith="emergency.").count()


def test_a_director_may_not_edit_district_wide_plans_or_checklists() -> None:
    director = user("director")
    plan = PlanTemplate.objects.get(code="flood")
    template = ChecklistTemplate.objects.get(code="home_isolation_six_dos_donts")
    before = _state(plan, template)
    rows = [{"id": i.pk, "text_en": "hacked", "text_zh": "篡改", "kind": i.kind, "active": True}
            for i in template.items.all()]

    with pytest.raises(PermissionDenied):
        services.plan_update(user=director, scope=scope_for(director), plan=plan, document_yaml=_edited(plan))
    with pytest.raises(PermissionDenied):
        services.checklist_items_update(user=director, scope=scope_for(director), template=template, rows=rows)

    for lang, reason in (("en", "only a district official may edit them"), ("zh-hans", "只有区级干部")):
        client = Client(headers={"accept-language": lang})
        client.force_login(director)
        page = client.get(f"/emergency/plans/{plan.pk}/edit/")
        assert page.status_code == 403 and reason in page.content.decode()
        page = client.post(f"/emergency/plans/{plan.pk}/edit/", {"document": _edited(plan)})
        assert page.status_code == 403 and reason in page.content.decode()
        form = {"form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "0", "form-0-text_en": "hacked",
                "form-0-text_zh": "篡改", "form-0-kind": "item", "form-0-active": "on"}
        page = client.post(f"/emergency/checklists/{template.pk}/", form)
        assert page.status_code == 403 and reason in page.content.decode()
        # reading still works, without an edit link or form
        page = client.get(f"/emergency/plans/{plan.pk}/")
        assert page.status_code == 200 and f"/emergency/plans/{plan.pk}/edit/" not in page.content.decode()
        page = client.get(f"/emergency/checklists/{template.pk}/")
        assert page.status_code == 200 and "form-TOTAL_FORMS" not in page.content.decode()

    assert _state(plan, template) == before
    assert not ChecklistItem.objects.filter(text_en="hacked").exists()


def test_a_district_official_edits_them() -> None:
    district = user("district")
    plan = PlanTemplate.objects.get(code="flood")
    client = Client(headers={"accept-language": "en"})
    client.force_login(district)
    assert f"/emergency/plans/{plan.pk}/edit/" in client.get(f"/emergency/plans/{plan.pk}/").content.decode()
    response = client.post(f"/emergency/plans/{plan.pk}/edit/", {"document": _edited(plan)})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.body["tasks"][0]["due_hours"] == 7
    assert AuditLog.objects.filter(model="emergency.PlanTemplate", object_id=str(plan.pk), user=district).exists()
