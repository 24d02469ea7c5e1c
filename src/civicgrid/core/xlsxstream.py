"""XLSX workbooks written as a stream: the first bytes go out at once and memory stays flat,
whatever the number of rows (issue 15: a district's export of 1,000,000 households).

A workbook is a ZIP of XML parts (ECMA-376, Office Open XML; SpreadsheetML). Each table becomes a
worksheet whose rows are written as they are read, every value an inline string (``t="inlineStr"``,
so no shared-string table has to be held until the end). The ZIP is written to a stream that cannot
seek, so each member's sizes follow its data in a data descriptor (ZIP64 for the sheets, which can pass
4 GB uncompressed); the workbook's index parts are written last, once the sheets are known (a ZIP's
members may come in any order).

What a reader needs and we give it:

* A worksheet holds at most 1,048,576 rows in Excel (and in LibreOffice): a table longer than that
  continues on further sheets named ``"<name> (2)"``, ``"<name> (3)"``..., each with the header row.
  The importer reads such sheets back as one table (:func:`civicgrid.core.importing.read_tables`).
* Sheet names have at most 31 characters and none of ``[]:*?/\\``.
* Characters XML 1.0 cannot hold (controls other than tab, line feed and carriage return) are
  written in the format's own escape ``_xHHHH_``, and a literal ``_xHHHH_`` in a value is protected
  as ``_x005F_xHHHH_`` (Excel and LibreOffice undo it; openpyxl does not, so the importer does:
  :func:`unescape`); a carriage return goes as ``&#13;``, which XML keeps (a literal one would be
  read as a line feed).
* Every value is written as text, as given (the export neutralises formulas first:
  :func:`civicgrid.core.exporting.stream_xlsx_export`); an empty value or None is an empty cell.
"""

from __future__ import annotations

import io
import itertools
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from xml.sax.saxutils import quoteattr

EXCEL_MAX_ROWS = 1_048_576
SHEET_NAME_MAX = 31
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
_NEEDS_ESCAPE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
# a carriage return as a character reference: XML turns a literal one into a line feed
_XML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_SHEET_HEAD = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               f'<worksheet xmlns="{_MAIN}"><sheetData>').encode()
_SHEET_TAIL = b"</sheetData></worksheet>"


class Pipe(io.RawIOBase):
    """A write-only stream whose bytes are taken out as they come (zipfile writes a ZIP to it with data
    descriptors, as it does to any stream that cannot seek)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out, self.chunks = b"".join(self.chunks), []
        return out


def _escaped(text: str) -> str:
    if _NEEDS_ESCAPE.search(text):
        text = _NEEDS_ESCAPE.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    return text.translate(_XML)


_ESCAPE_CODE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_CONTINUED = re.compile(r"^(?P<base>.*) \((?P<part>[2-9]|[1-9][0-9]+)\)$")


def unescape(text: str) -> str:
    """Undo the format's ``_xHHHH_`` escape (openpyxl reads cells without undoing it).

    Examples
    --------
    >>> unescape("_x0041_b"), unescape("_x005F_x0041_"), ord(unescape("_x000B_"))
    ('Ab', '_x0041_', 11)
    """
    if "_x" not in text:
        return text
    return _ESCAPE_CODE.sub(lambda m: chr(int(m.group(1), 16)), text)


def continued_sheet(title: str) -> str | None:
    """The table a continuation sheet ``"<name> (n)"`` (n >= 2) belongs to, or None."""
    found = _CONTINUED.match(title)
    return found.group("base") if found else None


def _column_letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _RowWriter:
    """One row's XML from its values (column references computed once per column)."""

    def __init__(self) -> None:
        self.columns: list[str] = []

    def __call__(self, number: int, values: Iterable[Any]) -> bytes:
        cells = []
        for i, value in enumerate(values):
            if value is None:
                continue
            text = value if isinstance(value, str) else str(value)
            if text == "":
                continue
            while i >= len(self.columns):
                self.columns.append(_column_letters(len(self.columns)))
            space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
            cells.append(f'<c r="{self.columns[i]}{number}" t="inlineStr"><is><t{space}>'
                         f"{_escaped(text)}</t></is></c>")
        return f'<row r="{number}">{"".join(cells)}</row>'.encode()


def sheet_title(name: str, part: int) -> str:
    """The title of part ``part`` (1, 2, ...) of table ``name``: within Excel's rules."""
    base = _SHEET_NAME_BAD.sub("_", name).strip("'") or "Sheet"
    suffix = "" if part == 1 else f" ({part})"
    return base[: SHEET_NAME_MAX - len(suffix)] + suffix


def stream_xlsx(tables: Mapping[str, tuple[tuple[str, ...], Iterable[Iterable[Any]]]], *,
                max_rows: int = EXCEL_MAX_ROWS, chunk_rows: int = 2_000) -> Iterator[bytes]:
    """The workbook of ``tables`` (sheet name -> (header, rows)) as chunks of bytes, made while the
    rows are read: a chunk every ``chunk_rows`` rows; a table continues on a further sheet after
    ``max_rows`` rows (the header counted).

    Examples
    --------
    >>> import io
    >>> from openpyxl import load_workbook
    >>> data = b"".join(stream_xlsx({"people": (("name", "age"), [["Li", 3], ["Wu", None]])}))
    >>> [[c.value for c in row] for row in load_workbook(io.BytesIO(data))["people"].iter_rows()]
    [['name', 'age'], ['Li', '3'], ['Wu', None]]
    """
    if max_rows < 2:
        raise ValueError("a sheet holds the header and at least one row")
    pipe = Pipe()
    titles: list[str] = []
    row_xml = _RowWriter()
    with zipfile.ZipFile(pipe, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (header, rows) in tables.items():
            remaining = iter(rows)
            for part in itertools.count(1):
                batch = list(itertools.islice(remaining, 1))  # is there a row for this part?
                if part > 1 and not batch:
                    break
                titles.append(sheet_title(name, part))
                with archive.open(f"xl/worksheets/sheet{len(titles)}.xml", "w", force_zip64=True) as entry:
                    entry.write(_SHEET_HEAD)
                    entry.write(row_xml(1, header))
                    body = itertools.chain(batch, itertools.islice(remaining, max_rows - 2))
                    for number, row in enumerate(body, start=2):
                        entry.write(row_xml(number, row))
                        if number % chunk_rows == 0:
                            yield pipe.take()
                    entry.write(_SHEET_TAIL)
                yield pipe.take()
        _write_index(archive, titles)
    yield pipe.take()


def _write_index(archive: zipfile.ZipFile, titles: list[str]) -> None:
    sheets = range(1, len(titles) + 1)
    archive.writestr("[Content_Types].xml", (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                  'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                  for i in sheets)
        + "</Types>"))
    archive.writestr("_rels/.rels", (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
    archive.writestr("xl/workbook.xml", (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        + "".join(f"<sheet name={quoteattr(title)} sheetId=\"{i}\" r:id=\"rId{i}\"/>"
                  for i, title in zip(sheets, titles, strict=True))
        + "</sheets></workbook>"))
    archive.writestr("xl/_rels/workbook.xml.rels", (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_PKG_REL}">'
        + "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                  for i in sheets)
        + "</Relationships>"))
