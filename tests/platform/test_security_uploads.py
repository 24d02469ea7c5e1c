"""Issue 11, finding 1: stored XSS through case photos. An upload is kept only if Pillow decodes it as a
JPEG, PNG, GIF or WebP; it is stored re-encoded (JPEG, or PNG with transparency) under a generated name,
with its metadata gone and its pixel count capped; photos are served with an image type (or as a
download), ``nosniff`` and a sandboxing policy."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.test import Client
from PIL import Image

from civicgrid.cases.models import Case, CaseCategory

pytestmark = pytest.mark.django_db

HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"
SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
       b"<script>alert(document.cookie)</script></svg>")


def _client(username: str = "resident", lang: str = "en") -> Client:
    client = Client(headers={"accept-language": lang})
    client.force_login(get_user_model().objects.get(username=username))
    return client


def _report(client: Client, data: bytes, name: str):  # type: ignore[no-untyped-def]
    upload = io.BytesIO(data)
    upload.name = name
    category = CaseCategory.objects.get(code="facility_repair")
    return client.post("/cases/new/", {"category": category.pk, "description": "楼道灯坏了", "photo": upload})


def _case(response) -> Case:  # type: ignore[no-untyped-def]
    assert response.status_code == 302, response.content.decode()[:2000]
    return Case.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def _jpeg_with_metadata() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (30.0, 39.0, 0.0), 3: "E", 4: (104.0, 4.0, 0.0)}  # GPS: where the resident lives
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, comment=b"<script>alert(1)</script>")
    return out.getvalue()


@pytest.mark.parametrize(("data", "name"), [
    (b"GIF89a" + HTML, "photo.html"),
    (b"GIF89a" + HTML, "photo.htm"),
    (b"GIF89a" + HTML, "photo.gif"),
    (b"\x89PNG\r\n\x1a\n" + HTML, "photo.png"),
    (b"\xff\xd8\xff" + HTML, "photo.jpg"),
    (SVG, "photo.svg"),
])
def test_a_polyglot_or_script_file_is_refused(data: bytes, name: str) -> None:
    before = Case.objects.count()
    page = _report(_client(), data, name)
    assert page.status_code == 200
    assert "JPEG, PNG, GIF or WebP" in page.content.decode()
    assert Case.objects.count() == before


def test_the_refusal_is_in_chinese_too() -> None:
    page = _report(_client(lang="zh-hans"), b"GIF89a" + HTML, "photo.html")
    assert page.status_code == 200 and "JPEG" in page.content.decode() and "照片" in page.content.decode()


def test_a_photo_is_stored_reencoded_without_metadata_and_served_as_an_image() -> None:
    original = _jpeg_with_metadata()
    assert Image.open(io.BytesIO(original)).getexif().get(0x010F) == "PhoneMaker"
    client = _client()
    case = _case(_report(client, original, "photo.html"))  # the name lies; the pixels decide
    try:
        assert case.photo.name.endswith(".jpg") and "photo" not in case.photo.name
        response = client.get(f"/cases/{case.pk}/photo/")
        served = b"".join(response.streaming_content)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        assert served != original
        image = Image.open(io.BytesIO(served))
        assert image.format == "JPEG" and image.size == (64, 48)
        assert not image.getexif() and b"PhoneMaker" not in served and b"<script" not in served
        assert "comment" not in image.info
    finally:
        case.photo.delete(save=False)


def test_a_transparent_image_stays_png() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(out, format="PNG")
    client = _client()
    case = _case(_report(client, out.getvalue(), "x.webp"))
    try:
        assert case.photo.name.endswith(".png")
        response = client.get(f"/cases/{case.pk}/photo/")
        assert response["Content-Type"] == "image/png"
        assert Image.open(io.BytesIO(b"".join(response.streaming_content))).mode == "RGBA"
    finally:
        case.photo.delete(save=False)


def test_a_decompression_bomb_is_refused() -> None:
    out = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(out, format="PNG")  # 50 million pixels in a few kB
    assert len(out.getvalue()) < 100_000
    before = Case.objects.count()
    page = _report(_client(), out.getvalue(), "bomb.png")
    assert page.status_code == 200 and "too many pixels" in page.content.decode()
    assert Case.objects.count() == before


def test_a_file_stored_before_the_fix_is_a_download_never_a_page() -> None:
    client = _client()
    case = _case(_report(client, _jpeg_with_metadata(), "ok.jpg"))
    old_name = case.photo.name
    case.photo.delete(save=False)
    case.photo.save("legacy.html", ContentFile(b"GIF89a" + HTML), save=True)
    try:
        response = client.get(f"/cases/{case.pk}/photo/")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith("attachment")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert old_name != case.photo.name
    finally:
        case.photo.delete(save=False)
