"""Issue 11, findings 5, 12 and 13 on imports: size limits (upload, uncompressed, rows, error report),
zip bombs refused while streaming, Excel's Chinese encodings read, corrupt files a clear 4xx, and an
XLSX formula cell without a stored value reported instead of imported as empty."""

from __future__ import annotations

import codecs
import csv
import io
import struct
import time
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.utils import override_settings

from civicgrid.core.importing import ImportRejected, read_tables
from civicgrid.engine.registry_format import TABLES
from civicgrid.registry.models import Household

pytestmark = pytest.mark.django_db
HOUSEHOLDS = TABLES["households"]


@pytest.fixture(autouse=True)
def _english():  # type: ignore[no-untyped-def]
    """Messages checked in English (the platform's default language is Chinese; both are shipped)."""
    from django.utils import translation

    with translation.override("en"):
        yield


def _households_csv(rows: int, *, delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(HOUSEHOLDS)
    for i in range(rows):
        writer.writerow([f"ZZ{i:06d}", "D01-S01-C01-G01-B01", f"锦江区 幸福路{i}号 三单元", "commodity", "dibao", ""])
    return out.getvalue()


def _director() -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(username="director", password="civicgrid-demo")
    return client


# --- encodings ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding,delimiter", [
    ("utf-8", ","), ("utf-8-sig", ","), ("gbk", ","), ("gb18030", ","),
    ("utf-16", "\t"),  # Excel's "Unicode text": UTF-16 with a byte-order mark, tab-separated
    ("utf-16", ","),
])
def test_csv_in_excels_chinese_encodings_reads_the_same_rows(encoding: str, delimiter: str) -> None:
    text = _households_csv(3000, delimiter=delimiter)  # Chinese well past the first sniffed block
    data = text.encode(encoding)
    if encoding == "utf-16":
        assert data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    tables = read_tables(io.BytesIO(data), filename="households.csv", expected=TABLES)
    expected = read_tables(io.BytesIO(_households_csv(3000).encode()), filename="households.csv", expected=TABLES)
    assert tables == expected
    assert tables["households"][2999]["address"] == "锦江区 幸福路2999号 三单元"


def test_gbk_csv_whose_first_block_is_ascii_is_still_read() -> None:
    text = _households_csv(1) + "".join(
        f"H9{i:05d},D01-S01-C01-G01-B01,plain address {i},commodity,normal,\r\n" for i in range(4000)) \
        + "H999999,D01-S01-C01-G01-B01,成都市武侯区,commodity,normal,\r\n"
    tables = read_tables(io.BytesIO(text.encode("gbk")), filename="households.csv", expected=TABLES)
    assert tables["households"][-1]["address"] == "成都市武侯区"


# --- corrupt files -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name,data", [
    ("registry.zip", b"PK\x03\x04 this is not really a zip"),
    ("registry.xlsx", b"PK\x03\x04 nor an xlsx"),
    ("registry.xlsx", b"<html>an upload renamed</html>"),
])
def test_a_corrupt_zip_or_xlsx_is_a_clear_4xx(name: str, data: bytes) -> None:
    response = _director().post("/registry/import/", {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 422
    assert "not a readable" in response.content.decode()


def test_a_truncated_zip_is_a_clear_4xx() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("households.csv", _households_csv(2000))
    with pytest.raises(ImportRejected) as caught:
        read_tables(io.BytesIO(buffer.getvalue()[:-400]), filename="r.zip", expected=TABLES)
    assert caught.value.status == 422 and "not a readable ZIP" in caught.value.errors[0].reason


# --- sizes ---------------------------------------------------------------------------------------------
def _bomb(member_bytes: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, \
            archive.open("households.csv", "w", force_zip64=True) as member:
        member.write((",".join(HOUSEHOLDS) + "\n").encode())
        line = b"H000001,D01-S01-C01-G01-B01,x,commodity,normal,\n" * 20_000
        written = 0
        while written < member_bytes:
            member.write(line)
            written += len(line)
    return buffer.getvalue()


def _lie_about_sizes(data: bytes, declared: int) -> bytes:
    """Rewrite every uncompressed-size field of a ZIP (local header, central directory, ZIP64
    extras) to ``declared``: a bomb whose headers claim to be small."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (at := out.find(signature, start)) >= 0:
            if out[at + offset: at + offset + 4] == b"\xff\xff\xff\xff":  # sizes in the ZIP64 extra field
                name_len = struct.unpack("<H", out[at + offset + 4: at + offset + 6])[0] if signature == b"PK\x03\x04" \
                    else struct.unpack("<H", out[at + 28: at + 30])[0]
                extra_at = at + (30 if signature == b"PK\x03\x04" else 46) + name_len
                out[extra_at + 4: extra_at + 12] = struct.pack("<Q", declared)
            else:
                out[at + offset: at + offset + 4] = struct.pack("<I", declared)
            start = at + 4
    return bytes(out)


def test_a_zip_bomb_is_refused_before_it_is_decompressed() -> None:
    bomb = _bomb(60 * 1024 * 1024)  # 60 MB of rows in well under 1 MB
    assert len(bomb) < 1024 * 1024
    with override_settings(CIVICGRID_IMPORT_LIMITS={"uncompressed_bytes": 8 * 1024 * 1024}):
        started = time.perf_counter()
        with pytest.raises(ImportRejected) as caught:
            read_tables(io.BytesIO(bomb), filename="r.zip", expected=TABLES)
        assert time.perf_counter() - started < 1.0  # the declared size alone refuses it
    assert caught.value.status == 413 and "expands to more than 8.0 MB" in caught.value.errors[0].reason


def test_a_zip_bomb_with_lying_headers_stops_at_the_limit_while_streaming() -> None:
    bomb = _lie_about_sizes(_bomb(60 * 1024 * 1024), declared=1000)
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert archive.infolist()[0].file_size == 1000  # the headers claim 1 kB
    with override_settings(CIVICGRID_IMPORT_LIMITS={"uncompressed_bytes": 8 * 1024 * 1024}), \
            pytest.raises(ImportRejected) as caught:
        read_tables(io.BytesIO(bomb), filename="r.zip", expected=TABLES)
    assert caught.value.status in {413, 422}


def test_an_upload_over_the_size_limit_is_refused_with_413() -> None:
    data = _households_csv(2000).encode()
    with override_settings(CIVICGRID_IMPORT_LIMITS={"upload_bytes": 20_000}):
        response = _director().post("/registry/import/", {"file": SimpleUploadedFile("households.csv", data)})
        with pytest.raises(ImportRejected) as caught:  # and the same check in read_tables (CLI)
            read_tables(io.BytesIO(data), filename="households.csv", expected=TABLES)
    assert response.status_code == 413
    assert "too large" in response.content.decode()
    chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    chinese.login(username="director", password="civicgrid-demo")
    with override_settings(CIVICGRID_IMPORT_LIMITS={"upload_bytes": 20_000}):
        response = chinese.post("/registry/import/", {"file": SimpleUploadedFile("households.csv", data)})
    assert response.status_code == 413 and "文件过大" in response.content.decode()
    assert caught.value.status == 413


def test_rows_over_the_limit_are_refused_while_parsing() -> None:
    with override_settings(CIVICGRID_IMPORT_LIMITS={"rows": 500}), pytest.raises(ImportRejected) as caught:
        read_tables(io.BytesIO(_households_csv(5000).encode()), filename="households.csv", expected=TABLES)
    assert caught.value.status == 413 and "more than 500 rows" in caught.value.errors[0].reason


def test_the_error_report_lists_the_first_rows_and_counts_the_rest() -> None:
    text = _households_csv(1500).replace("D01-S01-C01-G01-B01", "NO-SUCH-BUILDING")
    before = Household.objects.count()
    response = _director().post("/registry/import/", {"file": SimpleUploadedFile("households.csv", text.encode())})
    assert response.status_code == 422
    body = response.content.decode()
    assert body.count("NO-SUCH-BUILDING") == 200  # the first 200 bad rows
    assert "1300" in body  # ... and 1,300 more, counted
    assert len(body) < 200_000
    assert Household.objects.count() == before


# --- XLSX formulas -------------------------------------------------------------------------------------
def test_an_xlsx_formula_without_a_stored_value_is_a_bad_row(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "households"
    sheet.append(list(HOUSEHOLDS))
    sheet.append(["H1", "D01-S01-C01-G01-B01", "幸福路1号", "commodity", "normal", ""])
    sheet.append(["H2", "D01-S01-C01-G01-B01", "=CONCATENATE(\"幸福路\",\"2号\")", "commodity", "normal", ""])
    path = tmp_path / "registry.xlsx"
    book.save(path)  # openpyxl stores the formula without a computed value
    with pytest.raises(ImportRejected) as caught:
        read_tables(path, expected=TABLES)
    [error] = caught.value.errors
    assert (error.table, error.row, error.column) == ("households", 3, "address")
    assert "formula" in error.reason
