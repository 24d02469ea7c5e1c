"""The reader of XLSX workbooks (one sheet per table), through openpyxl, after a zip-bomb check.

Private to :mod:`civicgrid.core.importing` (:func:`~civicgrid.core.importing.read_tables` reads an
.xlsx whole through :func:`xlsx_tables`); apart from the CSV readers (:mod:`civicgrid.core._csvreader`)
because a workbook is read another way: decompressed once first to count its bytes, then read by
openpyxl twice (the values, and the formulas, so a formula without a stored value is reported).
"""

from __future__ import annotations

import zipfile
from typing import IO, Any

from django.utils.translation import gettext as _

from civicgrid.core.exporting import unneutralise
from civicgrid.core.importlimits import Budget, ImportRejected, RowError, file_error
from civicgrid.core.xlsxstream import continued_sheet, unescape


def _check_archive(handle: IO[bytes], name: str, budget: Budget) -> None:
    """Before openpyxl reads an XLSX (a ZIP of XML), decompress each member once, counting the bytes:
    an XLSX bomb is refused here, whatever its headers declare."""
    try:
        with zipfile.ZipFile(handle) as archive:
            infos = archive.infolist()
            if len(infos) > budget.limits["zip_members"] * 10:
                raise file_error(name, _("The archive holds more than %(limit)s files.")
                                 % {"limit": budget.limits["zip_members"] * 10}, status=413)
            if sum(i.file_size for i in infos) > budget.limits["uncompressed_bytes"]:
                budget.expand(sum(i.file_size for i in infos), name)
            for info in infos:
                with archive.open(info) as member:
                    while chunk := member.read(1024 * 1024):
                        budget.expand(len(chunk), name)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
        raise file_error(name, _("This is not a readable XLSX workbook (it may be damaged, incomplete or another "
                                 "kind of file).")) from None
    finally:
        handle.seek(0)
    budget.expanded = 0


def xlsx_tables(handle: IO[bytes], name: str, budget: Budget) -> dict[str, tuple[list[str], list[list[str]]]]:
    from openpyxl import load_workbook

    _check_archive(handle, name, budget)
    bad = _("This is not a readable XLSX workbook (it may be damaged, incomplete or another kind of file).")
    try:
        values_book = load_workbook(handle, read_only=True, data_only=True)
        handle.seek(0)
        formulas_book = load_workbook(handle, read_only=True, data_only=False)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a damaged workbook
        raise file_error(name, bad) from None
    out: dict[str, tuple[list[str], list[list[str]]]] = {}
    formula_errors: list[RowError] = []
    try:
        for sheet, formulas in zip(values_book.worksheets, formulas_book.worksheets, strict=True):
            header: list[str] | None = None
            records: list[list[str]] = []
            for number, (row, frow) in enumerate(zip(sheet.iter_rows(), formulas.iter_rows(), strict=False), 1):
                values = ["" if c.value is None else _cell(c.value) for c in row]
                if not any(v != "" for v in values):
                    continue
                if header is None:
                    header = [h.strip() for h in values]
                    continue
                budget.row(sheet.title)
                for cell, fcell in zip(row, frow, strict=False):
                    if cell.value is None and getattr(fcell, "data_type", "") == "f":
                        column = header[fcell.column - 1] if fcell.column and fcell.column <= len(header) else ""
                        formula_errors.append(RowError(
                            sheet.title, number, column, str(fcell.value)[:200],
                            _("a formula without a stored value: open the file in a spreadsheet program and save it "
                              "(or paste the values) before importing")))
                values = [unneutralise(v) for v in values]
                records.append(values[: len(header)] + [""] * (len(header) - len(values)))
            if header is None:
                continue
            base = continued_sheet(sheet.title)
            if base is not None and base in out and out[base][0] == header:
                out[base][1].extend(records)  # a long table's next sheet (see core.xlsxstream)
            else:
                out[sheet.title] = (header, records)
    except ImportRejected:
        raise
    except Exception:  # noqa: BLE001 - a damaged sheet
        raise file_error(name, bad) from None
    finally:
        values_book.close()
        formulas_book.close()
    if formula_errors:
        raise ImportRejected(formula_errors)
    return out


def _cell(value: Any) -> str:
    if hasattr(value, "date") and hasattr(value, "hour"):  # datetime from a date-formatted cell
        return str(value.date().isoformat())
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return unescape(str(value)).strip()
