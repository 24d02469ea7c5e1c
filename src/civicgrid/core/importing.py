"""Importing tabular files: one mechanism for every app.

:func:`read_tables` turns a folder of CSV files, a ZIP of them, a single CSV named after its table or
an XLSX workbook (one sheet per table) into plain rows. An app's importer validates every row of every
table, collecting a :class:`RowError` for each problem; only when there are none does it write, in one
transaction. So a file lands whole or not at all, and the report names the bad rows (the first
:data:`LIMITS` ``errors`` of them, with the total count).

Hostile or oversized files are refused early, with a message, never by running out of memory
(issue 11, finding 5); every limit is in ``settings.CIVICGRID_IMPORT_LIMITS``:

* ``upload_bytes``: the file as uploaded (also checked against the request's length before Django
  reads it, see :func:`upload_too_large`);
* ``uncompressed_bytes``: everything a ZIP or XLSX expands to, checked against each member's declared
  size before reading it and against the bytes actually decompressed while streaming (a zip bomb
  stops at the limit, whatever its headers say);
* ``rows``: records over all tables, counted while parsing; ``cell_chars``: one cell;
* ``errors``: rows of the error report (the rest are counted).

:func:`stream_tables` reads the same sources (but XLSX) without holding the rows: each table is read
from its file row by row when it is iterated, for the operator's import of a whole district
(:func:`console_limits`: no size or row cap, since nothing is held).

CSV files may be UTF-8 (with or without a byte-order mark), GB18030/GBK (what Excel saves on Chinese
Windows) or UTF-16 with a byte-order mark (Excel's "Unicode text", tab-separated).

A cell that starts with single quotes followed by a formula character loses one quote (the export's
quoting undone, see :mod:`civicgrid.core.exporting`).

This module is the public API; the pieces it stands on are apart, each read at once:
:mod:`civicgrid.core.importlimits` (limits, errors, the budget; re-exported here),
:mod:`civicgrid.core._csvreader` and :mod:`civicgrid.core._xlsxreader` (how each format's bytes become
records). Writing files is :mod:`civicgrid.core.exporting`; keeping an upload between a preview and its
application, :mod:`civicgrid.core.staging`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO

from django.utils.translation import gettext as _

from civicgrid.core._csvreader import (
    as_file,
    csv_records,
    csv_table,
    file_opener,
    reopener,
    upload_size,
    whole_encoding,
    zip_members,
    zip_tables,
)
from civicgrid.core._xlsxreader import xlsx_tables
from civicgrid.core.importlimits import (
    Budget,
    ImportRejected,
    RowError,
    console_limits,
    file_error,
    limits,
    upload_too_large,
)

__all__ = ["ImportRejected", "RowError", "Rows", "TableRows", "console_limits", "limits",
           "read_tables", "stream_tables", "upload_too_large"]

Rows = list[dict[str, str]]


def read_tables(source: str | Path | IO[bytes], *, filename: str | None = None,
                expected: Mapping[str, tuple[str, ...]], table_aliases: Mapping[str, str] | None = None,
                column_aliases: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, Rows]:
    """Read the tables named in ``expected`` from a folder, .zip, .csv or .xlsx.

    Unknown tables are an error (a misnamed file must not be silently skipped); a table's missing or
    unknown columns are reported as errors on row 1. Raises :class:`ImportRejected`.
    ``table_aliases`` and ``column_aliases`` name tables and columns as people read them (a sheet
    ``住户`` for ``households``, a header ``户号`` for ``code``); the rows come back keyed by the codes.
    """
    name = str(filename or (str(source) if isinstance(source, str | Path) else getattr(source, "name", "")) or "")
    suffix = Path(name).suffix.lower()
    budget = Budget(limits())
    raw: dict[str, tuple[list[str], list[list[str]]]]
    if isinstance(source, str | Path) and Path(source).is_dir():
        raw = {}
        for p in sorted(Path(source).glob("*.csv")):
            budget.upload(p.stat().st_size, p.name)
            with p.open("rb") as member:
                raw[p.stem] = csv_table(reopener(member), p.stem, budget)
    elif suffix not in {".zip", ".xlsx", ".csv"}:
        raise file_error(name, _("Expected a folder, .zip, .csv or .xlsx file."))
    else:
        handle = as_file(source)
        try:
            budget.upload(upload_size(handle), name)
            if suffix == ".zip":
                raw = zip_tables(handle, name, budget)
            elif suffix == ".xlsx":
                raw = xlsx_tables(handle, name, budget)
            else:
                raw = {Path(name).stem: csv_table(reopener(handle), Path(name).stem, budget)}
        finally:
            if isinstance(source, str | Path):
                handle.close()
    if not raw:
        raise file_error(name, _("No tables found."))

    checked = _check_headers({n: header for n, (header, _records) in raw.items()}, expected=expected,
                             table_aliases=table_aliases, column_aliases=column_aliases)
    tables: dict[str, Rows] = {table: [dict(zip(header, rec, strict=False)) for rec in raw[name_read][1]]
                               for table, (name_read, header) in checked.items()}
    return tables


class TableRows:
    """The rows of one CSV table as dicts keyed by column, read from the file each time they are iterated,
    one record at a time: a streamed import holds none of them. The first pass counts the rows against
    the budget (a later pass does not count them again)."""

    def __init__(self, table: str, header: list[str], open_bytes: Callable[[], IO[bytes]], encoding: str,
                 budget: Budget):
        self.table, self.header, self._open, self.encoding, self._budget = table, header, open_bytes, encoding, budget

    def __iter__(self) -> Iterator[dict[str, str]]:
        header = self.header
        for record in self.records():
            yield dict(zip(header, record, strict=True))

    def records(self) -> Iterator[list[str]]:
        """The rows as lists of cells in the order of :attr:`header` (what iterating gives, without a dict per
        row: a column-wise reader's input)."""
        budget, self._budget = self._budget, None  # type: ignore[assignment]
        width = len(self.header)
        records = csv_records(self._open(), self.encoding, self.table, budget)
        next(records, None)  # the header, already read and checked
        try:
            for record in records:
                yield record if len(record) == width else record[:width]  # _csv_records pads short ones
        except UnicodeDecodeError:
            raise file_error(self.table, _("Cannot read the file's text encoding: save it as CSV UTF-8 (or GBK/"
                                           "GB18030, or Unicode text).")) from None


def stream_tables(source: str | Path | IO[bytes], *, filename: str | None = None,
                  expected: Mapping[str, tuple[str, ...]], table_aliases: Mapping[str, str] | None = None,
                  column_aliases: Mapping[str, Mapping[str, str]] | None = None,
                  limits: dict[str, int] | None = None) -> dict[str, Iterable[dict[str, str]]]:
    """:func:`read_tables` without holding the rows: a folder of CSV files, a .zip of them or one .csv
    gives one :class:`TableRows` per table (headers checked here, rows read as they are iterated); an
    .xlsx is read whole by :func:`read_tables`. Each file's encoding is decided by decoding all of it
    once first (an invalid UTF-8 byte anywhere means GB18030), which also charges a ZIP's decompressed
    bytes to the budget before a row is used. ``limits`` defaults to :func:`limits`."""
    name = str(filename or (str(source) if isinstance(source, str | Path) else getattr(source, "name", "")) or "")
    suffix = Path(name).suffix.lower()
    budget = Budget(limits or globals()["limits"]())
    opened: list[tuple[str, Callable[[], IO[bytes]]]] = []
    if isinstance(source, str | Path) and Path(source).is_dir():
        for p in sorted(Path(source).glob("*.csv")):
            budget.upload(p.stat().st_size, p.name)
            opened.append((p.stem, file_opener(p)))
    elif suffix == ".csv" and isinstance(source, str | Path):
        budget.upload(Path(source).stat().st_size, name)
        opened.append((Path(name).stem, file_opener(Path(source))))
    elif suffix == ".csv":
        handle = as_file(source)
        budget.upload(upload_size(handle), name)
        opened.append((Path(name).stem, reopener(handle)))
    elif suffix == ".zip":
        handle = as_file(source)
        budget.upload(upload_size(handle), name)
        opened = zip_members(handle, name, budget)
    else:
        return dict(read_tables(source, filename=filename, expected=expected, table_aliases=table_aliases,
                                column_aliases=column_aliases))
    if not opened:
        raise file_error(name, _("No tables found."))
    raw: dict[str, tuple[list[str], Callable[[], IO[bytes]], str]] = {}
    for stem, open_bytes in opened:
        encoding = whole_encoding(open_bytes, stem, budget)
        records = csv_records(open_bytes(), encoding, stem, None)
        raw[stem] = (next(records, []), open_bytes, encoding)
        records.close()
    checked = _check_headers({stem: header for stem, (header, _o, _e) in raw.items()}, expected=expected,
                             table_aliases=table_aliases, column_aliases=column_aliases)
    return {table: TableRows(table, header, raw[stem][1], raw[stem][2], budget)
            for table, (stem, header) in checked.items()}


def _check_headers(headers: Mapping[str, list[str]], *, expected: Mapping[str, tuple[str, ...]],
                   table_aliases: Mapping[str, str] | None,
                   column_aliases: Mapping[str, Mapping[str, str]] | None) -> dict[str, tuple[str, list[str]]]:
    """{table: (the name read, its header in column codes)}, or ImportRejected with every unknown table,
    repeated table, missing and unknown column (as :func:`read_tables` reports them)."""
    errors: list[RowError] = []
    out: dict[str, tuple[str, list[str]]] = {}
    for name_read, header in headers.items():
        table = (table_aliases or {}).get(name_read, name_read)
        header = [(column_aliases or {}).get(table, {}).get(h, h) for h in header]
        if table in out:
            errors.append(RowError(name_read, 0, "", name_read, _("the table %(table)s appears twice") % {"table": table}))
            continue
        if table not in expected:
            errors.append(RowError(name_read, 0, "", name_read, _("unknown table; expected one of %(tables)s")
                                   % {"tables": ", ".join(sorted(expected))}))
            continue
        columns = expected[table]
        missing = [c for c in columns if c not in header]
        unknown = [c for c in header if c not in columns]
        for c in missing:
            errors.append(RowError(table, 1, c, "", _("required column is missing")))
        for c in unknown:
            errors.append(RowError(table, 1, c, c, _("unknown column; expected %(columns)s")
                                   % {"columns": ", ".join(columns)}))
        if missing or unknown:
            continue
        out[table] = (name_read, header)
    if errors:
        raise ImportRejected(errors)
    return out
