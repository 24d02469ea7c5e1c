"""Exporting full ID numbers asks first: for a role with identity clearance the export page has a box to tick,
the download is refused without it (the message next to the box, nothing recorded) and allowed with it; a
masked export has no box and needs none."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.test import Client

from civicgrid.core.models import AuditLog
from tests.platform.factories import user

pytestmark = pytest.mark.django_db


def _client(username: str, language: str = "en") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user(username))
    return client


def _exports() -> int:
    return AuditLog.objects.filter(event__contains="export").count()


def test_an_unmasked_export_is_refused_without_the_tick_and_allowed_with_it() -> None:
    assert user("director").role.identity_clearance
    client = _client("director")
    page = client.get("/registry/export/").content.decode()
    assert 'name="confirm_unmasked"' in page
    before = _exports()
    refused = client.post("/registry/export/", {"format": "zip"})
    assert refused.status_code == 400 and refused["Content-Type"].startswith("text/html")
    field = refused.content.decode().split('id="field-confirm_unmasked"')[1].split("</div>")[0]
    assert "Tick this box to export full ID numbers" in field
    assert _exports() == before  # nothing left the building, nothing recorded
    zh = _client("director", "zh-hans").post("/registry/export/", {"format": "zip"}).getvalue().decode()
    assert "完整身份证号" in zh.split('id="field-confirm_unmasked"')[1].split("</div>")[0]
    allowed = client.post("/registry/export/", {"format": "zip", "confirm_unmasked": "on"})
    assert allowed.status_code == 200 and allowed["Content-Type"] == "application/zip"
    assert _exports() == before + 1
    with zipfile.ZipFile(io.BytesIO(allowed.getvalue())) as archive:
        residents = archive.read("residents.csv").decode("utf-8-sig")
    assert re.search(r",\d{17}[\dX],", residents)  # full ID numbers: what the tick was for


def test_a_masked_export_asks_for_no_tick() -> None:
    assert not user("district").role.identity_clearance
    client = _client("district")
    assert 'name="confirm_unmasked"' not in client.get("/registry/export/").content.decode()
    assert client.post("/registry/export/", {"format": "zip"}).status_code == 200
