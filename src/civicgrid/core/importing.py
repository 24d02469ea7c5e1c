"""Importing tabular files: one mechanism for every app.

:func:`read_tables` turns a folder of CSV files, a ZIP of them, a single CSV named after its table or
an XLSX workbook (one sheet per table) into plain rows. An app's importer validates every row of every
table, collecting a :class:`RowError` for each problem; only when there are none does it write, in one
transaction. So a file lands whole or not at all, and the report names every bad row.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

Rows = list[dict[str, str]]


@dataclass(frozen=True)
class RowError:
    table: str
    row: int  # as a spreadsheet numbers it: the header is row 1, the first record row 2
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f"{self.table} row {self.row}, column {self.column!r}, value {self.value!r}: {self.reason}"


class ImportRejected(Exception):
    """Raised with every error found; nothing was written."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__(f"import rejected: {len(errors)} error(s); nothing was written")


def read_tables(source: str | Path | IO[bytes], *, filename: str | None = None,
                expected: Mapping[str, tuple[str, ...]]) -> dict[str, Rows]:
    """Read the tables named in ``expected`` from a folder, .zip, .csv or .xlsx.

    Unknown tables are an error (a misnamed file must not be silently skipped); a table's missing or
    unknown columns are reported as errors on row 1.
    """
    name = str(filename or (str(source) if isinstance(source, str | Path) else getattr(source, "name", "")) or "")
    suffix = Path(name).suffix.lower()
    raw: dict[str, tuple[list[str], list[list[str]]]]
    if isinstance(source, str | Path) and Path(source).is_dir():
        raw = {p.stem: _csv(p.read_bytes()) for p in sorted(Path(source).glob("*.csv"))}
    elif suffix == ".zip":
        with zipfile.ZipFile(_as_file(source)) as archive:
            raw = {Path(n).stem: _csv(archive.read(n)) for n in archive.namelist()
                   if n.lower().endswith(".csv") and not Path(n).name.startswith(".")}
    elif suffix == ".xlsx":
        raw = _xlsx(_as_file(source))
    elif suffix == ".csv":
        raw = {Path(name).stem: _csv(_as_file(source).read())}
    else:
        raise ImportRejected([RowError("(file)", 0, "", name, "expected a folder, .zip, .csv or .xlsx")])
    if not raw:
        raise ImportRejected([RowError("(file)", 0, "", name, "no tables found")])

    errors: list[RowError] = []
    tables: dict[str, Rows] = {}
    for table, (header, records) in raw.items():
        if table not in expected:
            errors.append(RowError(table, 0, "", table, f"unknown table; expected one of {sorted(expected)}"))
            continue
        columns = expected[table]
        missing = [c for c in columns if c not in header]
        unknown = [c for c in header if c not in columns]
        for c in missing:
            errors.append(RowError(table, 1, c, "", "required column is missing"))
        for c in unknown:
            errors.append(RowError(table, 1, c, c, f"unknown column; expected {', '.join(columns)}"))
        if missing or unknown:
            continue
        tables[table] = [dict(zip(header, rec, strict=False)) for rec in records]
    if errors:
        raise ImportRejected(errors)
    return tables


def _as_file(source: Any) -> IO[bytes]:
    if isinstance(source, str | Path):
        return open(source, "rb")  # noqa: SIM115 - closed by the caller's context or GC
    return source  # type: ignore[no-any-return]


def _csv(data: bytes) -> tuple[list[str], list[list[str]]]:
    text = data.decode("utf-8-sig")  # spreadsheets often save a byte-order mark
    reader = csv.reader(io.StringIO(text))
    rows = [r for r in reader]
    if not rows:
        return [], []
    header = [h.strip() for h in rows[0]]
    width = len(header)
    return header, [[c.strip() for c in (r + [""] * (width - len(r)))] for r in rows[1:] if any(r)]


def _xlsx(handle: IO[bytes]) -> dict[str, tuple[list[str], list[list[str]]]]:
    from openpyxl import load_workbook

    book = load_workbook(handle, read_only=True, data_only=True)
    out = {}
    for sheet in book.worksheets:
        values = [["" if v is None else _cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        values = [r for r in values if any(c != "" for c in r)]
        if values:
            header = [h.strip() for h in values[0]]
            out[sheet.title] = (header, [r[: len(header)] + [""] * (len(header) - len(r)) for r in values[1:]])
    return out


def _cell(value: Any) -> str:
    if hasattr(value, "date") and hasattr(value, "hour"):  # datetime from a date-formatted cell
        return value.date().isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def write_csv_zip(tables: Mapping[str, tuple[tuple[str, ...], list[list[Any]]]]) -> bytes:
    """A ZIP of one CSV per table (UTF-8 with BOM, so spreadsheet programs show Chinese correctly)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (header, rows) in tables.items():
            archive.writestr(f"{name}.csv", "\ufeff" + _csv_text(header, rows))
    return buffer.getvalue()


def write_csv_dir(out_dir: Path, tables: Mapping[str, tuple[tuple[str, ...], list[list[Any]]]]) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (header, rows) in tables.items():
        path = out_dir / f"{name}.csv"
        path.write_text(_csv_text(header, rows), encoding="utf-8")
        paths.append(path)
    return paths


def write_xlsx(tables: Mapping[str, tuple[tuple[str, ...], list[list[Any]]]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for name, (header, rows) in tables.items():
        sheet = book.create_sheet(name)
        sheet.append(list(header))
        for row in rows:
            sheet.append(["" if v is None else str(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _csv_text(header: tuple[str, ...], rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return out.getvalue()
