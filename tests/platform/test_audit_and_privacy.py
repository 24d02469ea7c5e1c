"""The audit trail, encryption at rest, masking, and forms that say what is wrong next to the field."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from civicgrid.accounts.roles import scope_for
from civicgrid.core.crypto import mask
from civicgrid.core.models import AuditLog
from civicgrid.registry import services
from civicgrid.registry.models import Household, Resident
from tests.platform.factories import user

pytestmark = pytest.mark.django_db


def test_update_writes_old_and_new_values_with_sensitive_fields_masked() -> None:
    user = get_user_model().objects.get(username="director")
    household = Household.objects.filter(contact_phone_digest__gt="").first()
    old_phone = household.contact_phone
    services.household_update(user=user, scope=scope_for(user), household=household, contact_phone="13800138000",
                              address=household.address + "（新）")
    row = AuditLog.objects.filter(model="registry.Household", object_id=str(household.pk),
                                  action="update").latest("id")
    assert row.user == user
    assert row.old["contact_phone"] == mask(old_phone) and row.new["contact_phone"] == "138****8000"
    assert row.new["address"].endswith("（新）")
    assert row.place_path == household.place_path


def test_resident_create_and_delete_are_audited_and_rescore_the_household() -> None:
    user = get_user_model().objects.get(username="director")
    household = Household.objects.filter(vulnerability_score=0).first()
    resident = services.resident_create(user=user, scope=scope_for(user), household=household, name="测试老人", sex="F",
                                        birth_date=__import__("datetime").date(1936, 5, 1), relation="parent",
                                        lives_alone=False)
    household.refresh_from_db()
    rule = services.vulnerability_rule()
    assert household.vulnerability_score == pytest.approx(rule.weights["age_80_plus"])
    assert household.vulnerability_rule == rule.version
    resident_pk = resident.pk  # Django clears pk on delete
    services.resident_delete(user=user, scope=scope_for(user), resident=resident)
    household.refresh_from_db()
    assert household.vulnerability_score == 0
    actions = list(AuditLog.objects.filter(model="registry.Resident", object_id=str(resident_pk))
                   .values_list("action", flat=True))
    assert sorted(actions) == ["create", "delete"]


def test_audit_log_is_append_only() -> None:
    row = AuditLog.objects.first()
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()
    with pytest.raises(PermissionError):
        AuditLog.objects.filter(pk=row.pk).update(action="delete")
    with pytest.raises(PermissionError):
        AuditLog.objects.filter(pk=row.pk).delete()


def test_id_numbers_and_phones_are_encrypted_at_rest_and_found_by_digest() -> None:
    resident = Resident.objects.exclude(phone_digest="").first()
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM registry_resident WHERE id = %s", [resident.pk])
        raw_id, raw_phone = cursor.fetchone()
    assert resident.id_number and resident.id_number not in raw_id and resident.phone not in raw_phone
    assert raw_id.startswith("gAAAA")  # a Fernet token
    cleared = Client()  # searching by a full ID number needs identity clearance (the director has it)
    cleared.login(username="director", password="civicgrid-demo")
    resident = Resident.objects.exclude(phone_digest="").filter(
        household__place_path__startswith=scope_for(user("director")).area_paths[0]).first()
    found = cleared.get("/api/registry/households", {"q": resident.id_number}).json()
    assert [h["id"] for h in found] == [resident.household_id]
    client = Client()
    client.login(username="district", password="civicgrid-demo")
    assert client.get("/api/registry/households", {"q": resident.id_number}).json() == []  # no clearance
    found = client.get("/api/registry/households", {"q": resident.phone}).json()
    assert resident.household_id in [h["id"] for h in found]
    with pytest.raises(TypeError):
        Resident.objects.filter(id_number__icontains="510").exists()


def test_search_by_name_and_address() -> None:
    resident = Resident.objects.select_related("household").first()
    client = Client()
    client.login(username="district", password="civicgrid-demo")
    by_name = client.get("/api/registry/households", {"q": resident.name}).json()
    assert resident.household_id in [h["id"] for h in by_name]
    by_address = client.get("/api/registry/households", {"q": resident.household.address}).json()
    assert [h["id"] for h in by_address] == [resident.household_id]


def test_form_rejects_bad_values_next_to_the_field() -> None:
    client = Client()
    client.login(username="director", password="civicgrid-demo")
    household = Household.objects.filter(grid__parent__code__endswith="C01").first()
    before = Resident.objects.count()
    response = client.post(f"/households/{household.pk}/residents/add/", {
        "name": "张三", "sex": "M", "birth_date": "1980-01-01", "relation": "child",
        "id_number": "510104198001010010",  # wrong check character (should be 4)
        "phone": "12345", "disability_grade": "7",
    }, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.content.decode()
    for field, message in [("id_number", "check character"), ("phone", "11-digit"),
                           ("disability_grade", "1 (most severe) to 4")]:
        start = body.index(f'id="field-{field}"')
        assert message in body[start: body.index("</div>", start)], field
    assert Resident.objects.count() == before


def test_form_accepts_a_valid_resident_and_audits_it() -> None:
    client = Client()
    client.login(username="director", password="civicgrid-demo")
    household = Household.objects.filter(grid__parent__code__endswith="C01").first()
    response = client.post(f"/households/{household.pk}/residents/add/", {
        "name": "张三", "sex": "M", "birth_date": "1980-01-01", "relation": "child",
        "id_number": "510104198001010014", "phone": "13912345678",
    })
    assert response.status_code == 302
    resident = Resident.objects.get(name="张三", household=household)
    assert resident.id_number == "510104198001010014"
    assert AuditLog.objects.filter(model="registry.Resident", object_id=str(resident.pk), action="create").exists()
