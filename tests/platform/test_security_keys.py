"""Issue 11, finding 7: the field key. A key that cannot read the stored data is refused with a clear
error; keys rotate (MultiFernet, several comma-separated keys, the first encrypts) with exact search
by digest working before, during and after `rotate-keys`."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection
from django.test.utils import override_settings

from civicgrid.core.crypto import FieldKeyError, check_field_key, rotate_keys
from civicgrid.core.scoping import Scope
from civicgrid.registry.models import Resident
from civicgrid.registry.selectors import household_list

pytestmark = pytest.mark.django_db
EVERYTHING = Scope(role="district_official", unrestricted=True, identity_clearance=True)


def _raw_id_number(resident_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM registry_resident WHERE id = %s", [resident_id])
        return str(cursor.fetchone()[0])


def _a_resident() -> tuple[int, str]:
    resident = Resident.objects.exclude(id_number_digest="").order_by("pk").first()
    assert resident is not None
    return resident.pk, resident.id_number


def test_the_right_key_passes_the_start_up_check() -> None:
    assert check_field_key() > 0  # it read real ciphertext


def test_a_new_key_over_encrypted_data_is_refused_with_a_clear_error() -> None:
    new = Fernet.generate_key().decode()
    with override_settings(CIVICGRID_FIELD_KEY=new, CIVICGRID_FIELD_KEY_GENERATED=True), \
            pytest.raises(FieldKeyError) as caught:
        check_field_key()
    message = str(caught.value)
    assert "refusing to start" in message and "secrets.json" in message and "civicgrid restore" in message


def test_a_malformed_key_is_refused() -> None:
    with override_settings(CIVICGRID_FIELD_KEY="not-a-key"), pytest.raises(FieldKeyError):
        check_field_key()


def test_rotation_keeps_every_value_readable_and_searchable() -> None:
    old = settings.CIVICGRID_FIELD_KEY
    new = Fernet.generate_key().decode()
    resident_id, id_number = _a_resident()
    household_id = Resident.objects.get(pk=resident_id).household_id
    with override_settings(CIVICGRID_FIELD_KEY=f"{new},{old}"):
        # the new key listed first: old rows still read and are still found by exact ID number
        assert Resident.objects.get(pk=resident_id).id_number == id_number
        assert household_list(scope=EVERYTHING, query=id_number).filter(pk=household_id).exists()
        # a row written now is encrypted with the new key
        fresh = Resident.objects.get(pk=resident_id)
        fresh.save()
        Fernet(new.encode()).decrypt(_raw_id_number(resident_id).encode())
        counts = rotate_keys()
    assert counts["registry.Resident"] == Resident.objects.count()
    with override_settings(CIVICGRID_FIELD_KEY=new):  # the old key dropped
        assert check_field_key() > 0
        assert Resident.objects.get(pk=resident_id).id_number == id_number
        assert household_list(scope=EVERYTHING, query=id_number).filter(pk=household_id).exists()
        other = Resident.objects.exclude(id_number_digest="").order_by("-pk").first()
        assert other is not None
        Fernet(new.encode()).decrypt(_raw_id_number(other.pk).encode())
    with override_settings(CIVICGRID_FIELD_KEY=old), pytest.raises(FieldKeyError):
        check_field_key()  # the old key alone no longer reads the rotated data
