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

Exported cells that a spreadsheet would run as formulas (starting with ``= + - @``, tab or CR) are
prefixed with a single quote (OWASP "CSV injection"), and the importer removes exactly one such quote
from a value that starts with quotes followed by one of those characters. So export then import gives
back the original value, always: a value that itself starts with ``'=`` is exported as ``''=`` (see
:func:`neutralise` and :func:`unneutralise`). The one cost: a hand-made file whose cell starts with
``'=`` imports without that quote, as a spreadsheet would show it.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import zipfile
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _

from civicgrid.core.xlsxstream import Pipe, continued_sheet, stream_xlsx, unescape

Rows = list[dict[str, str]]

DEFAULT_LIMITS: dict[str, int] = {
    "upload_bytes": 64 * 1024 * 1024,
    "uncompressed_bytes": 256 * 1024 * 1024,
    "rows": 300_000,
    "cell_chars": 100_000,
    "errors": 200,
    "zip_members": 100,
}


def limits() -> dict[str, int]:
    return {**DEFAULT_LIMITS, **getattr(settings, "CIVICGRID_IMPORT_LIMITS", {})}


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
    """Raised with the errors found; nothing was written.

    ``errors`` holds the first ``limits()["errors"]`` of them (each value cut to 200 characters),
    ``total`` how many there were; ``status`` is the HTTP status to answer with (422, or 413 for a
    file over a size limit).
    """

    def __init__(self, errors: list[RowError], *, status: int = 422, total: int | None = None):
        cap = limits()["errors"]
        self.total = len(errors) if total is None else total
        self.errors = [e if len(e.value) <= 200 else RowError(e.table, e.row, e.column, e.value[:200] + "…", e.reason)
                       for e in errors[:cap]]
        self.status = status
        super().__init__(f"import rejected: {self.total} error(s); nothing was written")

    @property
    def omitted(self) -> int:
        return self.total - len(self.errors)


def _file_error(name: str, reason: str, *, status: int = 422) -> ImportRejected:
    return ImportRejected([RowError("(file)", 0, "", name, reason)], status=status)


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def upload_too_large(content_length: str | int | None) -> str:
    """A message if a request of this length exceeds the upload limit, else ''. Views call this before
    touching ``request.FILES``, so an oversized upload is refused before it is read."""
    try:
        length = int(content_length or 0)
    except (TypeError, ValueError):
        return ""
    cap = limits()["upload_bytes"]
    if length > cap + 64 * 1024:  # the multipart envelope around the file
        return _("The file is too large (%(size)s); the limit is %(limit)s. Split it into smaller files.") % {
            "size": _mb(length), "limit": _mb(cap)}
    return ""


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
    budget = _Budget(limits())
    raw: dict[str, tuple[list[str], list[list[str]]]]
    if isinstance(source, str | Path) and Path(source).is_dir():
        raw = {}
        for p in sorted(Path(source).glob("*.csv")):
            budget.upload(p.stat().st_size, p.name)
            with p.open("rb") as member:
                raw[p.stem] = _csv(_reopener(member), p.stem, budget)
    elif suffix not in {".zip", ".xlsx", ".csv"}:
        raise _file_error(name, _("Expected a folder, .zip, .csv or .xlsx file."))
    else:
        handle = _as_file(source)
        try:
            budget.upload(_size(handle), name)
            if suffix == ".zip":
                raw = _zip(handle, name, budget)
            elif suffix == ".xlsx":
                raw = _xlsx(handle, name, budget)
            else:
                raw = {Path(name).stem: _csv(_reopener(handle), Path(name).stem, budget)}
        finally:
            if isinstance(source, str | Path):
                handle.close()
    if not raw:
        raise _file_error(name, _("No tables found."))

    checked = _check_headers({n: header for n, (header, _records) in raw.items()}, expected=expected,
                             table_aliases=table_aliases, column_aliases=column_aliases)
    tables: dict[str, Rows] = {table: [dict(zip(header, rec, strict=False)) for rec in raw[name_read][1]]
                               for table, (name_read, header) in checked.items()}
    return tables


def console_limits() -> dict[str, int]:
    """The limits for the operator's own console (``civicgrid import``): a streamed import holds no file
    in memory, so its size and row count are not capped; cells and the report still are."""
    unbounded = 1 << 62
    return {**limits(), "upload_bytes": unbounded, "uncompressed_bytes": unbounded, "rows": unbounded}


class TableRows:
    """The rows of one CSV table as dicts keyed by column, read from the file each time they are iterated,
    one record at a time: a streamed import holds none of them. The first pass counts the rows against
    the budget (a later pass does not count them again)."""

    def __init__(self, table: str, header: list[str], open_bytes: Callable[[], IO[bytes]], encoding: str,
                 budget: _Budget):
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
        records = _csv_records(self._open(), self.encoding, self.table, budget)
        next(records, None)  # the header, already read and checked
        try:
            for record in records:
                yield record if len(record) == width else record[:width]  # _csv_records pads short ones
        except UnicodeDecodeError:
            raise _file_error(self.table, _("Cannot read the file's text encoding: save it as CSV UTF-8 (or GBK/"
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
    budget = _Budget(limits or globals()["limits"]())
    opened: list[tuple[str, Callable[[], IO[bytes]]]] = []
    if isinstance(source, str | Path) and Path(source).is_dir():
        for p in sorted(Path(source).glob("*.csv")):
            budget.upload(p.stat().st_size, p.name)
            opened.append((p.stem, _file_opener(p)))
    elif suffix == ".csv" and isinstance(source, str | Path):
        budget.upload(Path(source).stat().st_size, name)
        opened.append((Path(name).stem, _file_opener(Path(source))))
    elif suffix == ".csv":
        handle = _as_file(source)
        budget.upload(_size(handle), name)
        opened.append((Path(name).stem, _reopener(handle)))
    elif suffix == ".zip":
        handle = _as_file(source)
        budget.upload(_size(handle), name)
        opened = _zip_members(handle, name, budget)
    else:
        return dict(read_tables(source, filename=filename, expected=expected, table_aliases=table_aliases,
                                column_aliases=column_aliases))
    if not opened:
        raise _file_error(name, _("No tables found."))
    raw: dict[str, tuple[list[str], Callable[[], IO[bytes]], str]] = {}
    for stem, open_bytes in opened:
        encoding = _whole_encoding(open_bytes, stem, budget)
        records = _csv_records(open_bytes(), encoding, stem, None)
        raw[stem] = (next(records, []), open_bytes, encoding)
        records.close()
    checked = _check_headers({stem: header for stem, (header, _o, _e) in raw.items()}, expected=expected,
                             table_aliases=table_aliases, column_aliases=column_aliases)
    return {table: TableRows(table, header, raw[stem][1], raw[stem][2], budget)
            for table, (stem, header) in checked.items()}


def _file_opener(path: Path) -> Callable[[], IO[bytes]]:
    def open_file() -> IO[bytes]:
        return path.open("rb")  # closed by the reader (_csv_records)

    return open_file


def _whole_encoding(open_bytes: Callable[[], IO[bytes]], table: str, budget: _Budget) -> str:
    stream = open_bytes()
    try:
        head = stream.read(64 * 1024)
        encoding = _sniff_encoding(head)
        if encoding != "utf-8":
            while stream.read(1 << 20):  # still read through: a ZIP member's bytes are charged to the budget
                pass
            return encoding
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            decoder.decode(head)
            while chunk := stream.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            while stream.read(1 << 20):
                pass
            return "gb18030"
        return "utf-8"
    finally:
        stream.close()


def _zip_members(handle: IO[bytes], name: str, budget: _Budget) -> list[tuple[str, Callable[[], IO[bytes]]]]:
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _file_error(name, _("This is not a readable ZIP file (it may be damaged or incomplete).")) from None
    if len(archive.infolist()) > budget.limits["zip_members"]:
        raise _file_error(name, _("The archive holds more than %(limit)s files.")
                          % {"limit": budget.limits["zip_members"]}, status=413)
    members = [i for i in archive.infolist() if i.filename.lower().endswith(".csv")
               and not Path(i.filename).name.startswith(".") and not i.is_dir()]
    declared = sum(i.file_size for i in members)
    if declared > budget.limits["uncompressed_bytes"]:  # refuse before decompressing anything
        budget.expand(declared, name)

    def opener(info: zipfile.ZipInfo) -> Callable[[], IO[bytes]]:
        def open_member() -> IO[bytes]:
            try:
                return _buffered(archive.open(info), budget, info.filename)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
                raise _file_error(name, _("This is not a readable ZIP file (it may be damaged or incomplete).")) \
                    from None
        return open_member

    return [(Path(i.filename).stem, opener(i)) for i in members]


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


class _Budget:
    """Counts what a file costs as it is read, and refuses the file the moment it exceeds a limit."""

    def __init__(self, limits: dict[str, int]):
        self.limits = limits
        self.rows = 0
        self.expanded = 0

    def upload(self, size: int | None, name: str) -> None:
        if size is not None and size > self.limits["upload_bytes"]:
            raise _file_error(name, _("The file is too large (%(size)s); the limit is %(limit)s. Split it into "
                                      "smaller files.") % {"size": _mb(size), "limit": _mb(self.limits["upload_bytes"])},
                              status=413)

    def expand(self, n: int, name: str) -> None:
        self.expanded += n
        if self.expanded > self.limits["uncompressed_bytes"]:
            raise _file_error(name, _("The archive expands to more than %(limit)s; it is refused (split it into "
                                      "smaller files).") % {"limit": _mb(self.limits["uncompressed_bytes"])},
                              status=413)

    def row(self, table: str) -> None:
        self.rows += 1
        if self.rows > self.limits["rows"]:
            raise _file_error(table, _("The file holds more than %(limit)s rows; split it into smaller files.")
                              % {"limit": f"{self.limits['rows']:,}"}, status=413)


def _as_file(source: Any) -> IO[bytes]:
    if isinstance(source, str | Path):
        return open(source, "rb")  # noqa: SIM115 - closed by read_tables
    return source  # type: ignore[no-any-return]


def _size(handle: IO[bytes]) -> int | None:
    size = getattr(handle, "size", None)  # Django's UploadedFile
    if isinstance(size, int):
        return size
    try:
        position = handle.tell()
        end = handle.seek(0, io.SEEK_END)
        handle.seek(position)
        return int(end)
    except (OSError, AttributeError, ValueError):
        return None


def _reopener(handle: IO[bytes]) -> Callable[[], IO[bytes]]:
    """Each call reads ``handle`` from its start again."""

    def reopen() -> IO[bytes]:
        handle.seek(0)
        return _buffered(handle)

    return reopen


class _Capped(io.RawIOBase):
    """A plain read-only stream over any file-like ``inner`` (an upload, a ZIP member), charging every
    byte to the budget when it is decompressed data (``budget`` given)."""

    def __init__(self, inner: IO[bytes], budget: _Budget | None = None, name: str = ""):
        self.inner, self.budget, self.name = inner, budget, name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        if self.budget is not None:
            self.budget.expand(len(data), self.name)
        buffer[: len(data)] = data
        return len(data)


def _buffered(inner: IO[bytes], budget: _Budget | None = None, name: str = "") -> IO[bytes]:
    return io.BufferedReader(_Capped(inner, budget, name), buffer_size=256 * 1024)


def _zip(handle: IO[bytes], name: str, budget: _Budget) -> dict[str, tuple[list[str], list[list[str]]]]:
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _file_error(name, _("This is not a readable ZIP file (it may be damaged or incomplete).")) from None
    with archive:
        members = [i for i in archive.infolist() if i.filename.lower().endswith(".csv")
                   and not Path(i.filename).name.startswith(".") and not i.is_dir()]
        if len(archive.infolist()) > budget.limits["zip_members"]:
            raise _file_error(name, _("The archive holds more than %(limit)s files.")
                              % {"limit": budget.limits["zip_members"]}, status=413)
        declared = sum(i.file_size for i in members)
        if declared > budget.limits["uncompressed_bytes"]:  # refuse before decompressing anything
            budget.expand(declared, name)
        out = {}
        for info in members:
            spent = budget.expanded

            def opener(info: zipfile.ZipInfo = info, spent: int = spent) -> IO[bytes]:
                budget.expanded = spent  # a re-read (another encoding) is not charged twice
                return _buffered(archive.open(info), budget, info.filename)

            try:
                out[Path(info.filename).stem] = _csv(opener, Path(info.filename).stem, budget)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError,
                    RuntimeError):
                raise _file_error(name, _("This is not a readable ZIP file (it may be damaged or incomplete).")) \
                    from None
        return out


def _sniff_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # the BOM says which byte order
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut at the end of the sample
            return "utf-8"
        return "gb18030"  # GBK's superset: Excel's "CSV" on Chinese Windows


def _csv(open_bytes: Callable[[], IO[bytes]], table: str, budget: _Budget) -> tuple[list[str], list[list[str]]]:
    """Parse one CSV as it streams (never holding the raw text), with the encoding sniffed from its
    first bytes; if a UTF-8 guess meets an invalid byte later on, read it again as GB18030."""
    stream = open_bytes()
    head = stream.read(64 * 1024)
    encoding = _sniff_encoding(head)
    rows_before = budget.rows
    for attempt in (encoding, "gb18030"):
        budget.rows = rows_before
        stream = open_bytes()
        try:
            return _parse_csv(stream, attempt, table, budget)
        except UnicodeDecodeError:
            if attempt != "utf-8":
                break
    raise _file_error(table, _("Cannot read the file's text encoding: save it as CSV UTF-8 (or GBK/GB18030, or "
                               "Unicode text)."))


def _parse_csv(stream: IO[bytes], encoding: str, table: str, budget: _Budget) -> tuple[list[str], list[list[str]]]:
    records = _csv_records(stream, encoding, table, budget)
    header = next(records, [])
    return (header, list(records))


def _csv_records(stream: IO[bytes], encoding: str, table: str, budget: _Budget | None) -> Generator[list[str], None, None]:
    """The header (stripped), then each non-empty record padded to the header's width, cells stripped
    and un-neutralised; each record charged to ``budget`` (none: already counted)."""
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")  # type: ignore[type-var,arg-type]
    cap = budget.limits["cell_chars"] if budget is not None else limits()["cell_chars"]
    try:
        first = text.readline()
        delimiter = "\t" if "\t" in first and "," not in first else ","
        csv.field_size_limit(cap)
        reader = csv.reader(itertools.chain([first], text), delimiter=delimiter)
        r = next(reader, None)
        if r is None:
            yield []
            return
        header = [h.strip().lstrip("\ufeff") for h in r]
        width = len(header)
        yield header
        strip = str.strip
        for r in reader:
            if not any(r):
                continue
            if budget is not None:
                budget.row(table)
            if len(r) < width:
                r += [""] * (width - len(r))
            cells = list(map(strip, r))
            if "'" in "".join(cells):  # only a cell starting with a quote may need un-neutralising: rare
                cells = [unneutralise(c) if c[:1] == "'" else c for c in cells]
            yield cells
    except csv.Error as exc:
        raise _file_error(table, _("Not a readable CSV file (%(reason)s); a cell may be longer than %(limit)s "
                                   "characters.") % {"reason": exc, "limit": f"{cap:,}"}) from None
    finally:
        text.detach().close()  # the stream this call was handed (a reopened upload keeps its own handle)


def _check_archive(handle: IO[bytes], name: str, budget: _Budget) -> None:
    """Before openpyxl reads an XLSX (a ZIP of XML), decompress each member once, counting the bytes:
    an XLSX bomb is refused here, whatever its headers declare."""
    try:
        with zipfile.ZipFile(handle) as archive:
            infos = archive.infolist()
            if len(infos) > budget.limits["zip_members"] * 10:
                raise _file_error(name, _("The archive holds more than %(limit)s files.")
                                  % {"limit": budget.limits["zip_members"] * 10}, status=413)
            if sum(i.file_size for i in infos) > budget.limits["uncompressed_bytes"]:
                budget.expand(sum(i.file_size for i in infos), name)
            for info in infos:
                with archive.open(info) as member:
                    while chunk := member.read(1024 * 1024):
                        budget.expand(len(chunk), name)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
        raise _file_error(name, _("This is not a readable XLSX workbook (it may be damaged, incomplete or another "
                                  "kind of file).")) from None
    finally:
        handle.seek(0)
    budget.expanded = 0


def _xlsx(handle: IO[bytes], name: str, budget: _Budget) -> dict[str, tuple[list[str], list[list[str]]]]:
    from openpyxl import load_workbook

    _check_archive(handle, name, budget)
    bad = _("This is not a readable XLSX workbook (it may be damaged, incomplete or another kind of file).")
    try:
        values_book = load_workbook(handle, read_only=True, data_only=True)
        handle.seek(0)
        formulas_book = load_workbook(handle, read_only=True, data_only=False)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a damaged workbook
        raise _file_error(name, bad) from None
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
        raise _file_error(name, bad) from None
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


# --- exports ------------------------------------------------------------------------------------------
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_QUOTED_FORMULA = re.compile(r"^'+[=+\-@\t\r]")


def neutralise(value: Any) -> Any:
    """A cell value safe from spreadsheet formula injection (OWASP): a string that starts with
    ``= + - @``, tab or CR, or with single quotes followed by one of them, gets one more leading quote.
    Other values are returned unchanged. :func:`unneutralise` undoes it exactly."""
    if isinstance(value, str) and value and (value.startswith(_FORMULA_START) or _QUOTED_FORMULA.match(value)):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    """Undo :func:`neutralise`: remove one leading quote from quotes followed by a formula character."""
    return value[1:] if _QUOTED_FORMULA.match(value) else value


Tables = Mapping[str, tuple[tuple[str, ...], Iterable[Iterable[Any]]]]
STREAM_ROWS = 2_000  # rows written between two chunks handed to the response


def stream_csv_zip(tables: Tables) -> Iterator[bytes]:
    """A ZIP of one CSV per table (UTF-8 with BOM, so spreadsheet programs show Chinese correctly), as
    chunks of bytes made while the rows are read: the first chunk goes out at once, memory stays flat."""
    pipe = Pipe()
    with zipfile.ZipFile(pipe, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (header, rows) in tables.items():
            with archive.open(f"{name}.csv", "w") as entry:
                text = io.TextIOWrapper(entry, encoding="utf-8", newline="")
                text.write("\ufeff")
                writer = _csv_writer(text, header)
                for n, row in enumerate(rows, start=1):
                    writer.writerow(_cells(row))
                    if n % STREAM_ROWS == 0:
                        text.flush()
                        yield pipe.take()
                text.flush()
                text.detach()
            yield pipe.take()
    yield pipe.take()


def write_csv_zip(tables: Tables) -> bytes:
    return b"".join(stream_csv_zip(tables))


def write_csv_dir(out_dir: Path, tables: Tables) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (header, rows) in tables.items():
        path = out_dir / f"{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = _csv_writer(out, header)
            writer.writerows(_cells(row) for row in rows)
        paths.append(path)
    return paths


def stream_xlsx_export(tables: Tables) -> Iterator[bytes]:
    """An XLSX workbook, one sheet per table, as chunks of bytes made while the rows are read
    (:func:`civicgrid.core.xlsxstream.stream_xlsx`), every value as text, neutralised."""
    return stream_xlsx({name: (tuple(neutralise(h) for h in header),
                               (["" if v is None else neutralise(str(v)) for v in row] for row in rows))
                        for name, (header, rows) in tables.items()})


def write_xlsx_file(tables: Tables, path: Path | str | IO[bytes]) -> None:
    if isinstance(path, (str, Path)):
        with open(path, "wb") as out:
            write_xlsx_file(tables, out)
        return
    for chunk in stream_xlsx_export(tables):
        path.write(chunk)


def write_xlsx(tables: Tables) -> bytes:
    return b"".join(stream_xlsx_export(tables))


def _csv_writer(out: Any, header: tuple[str, ...]) -> Any:
    # CRLF (RFC 4180): a field holding a CR or LF is then quoted, so it reads back as one field.
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    return writer


def _cells(row: Iterable[Any]) -> list[Any]:
    return ["" if v is None else neutralise(v) for v in row]


# --- a file held between a preview and its application ----------------------------------------------
STAGE_HOURS = 2
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _stage_dir() -> Path:
    from civicgrid.config.settings.paths import VAR_DIR, ensure_private_dir

    folder = Path(VAR_DIR) / "imports"
    ensure_private_dir(folder)
    return folder


def stage(upload: IO[bytes], *, filename: str, owner: Any) -> str:
    """Keep an uploaded file (private, 0600, under ``var/imports``) until it is applied, so that what is
    applied is exactly what was previewed. Returns a token only ``owner`` can use; files older than
    :data:`STAGE_HOURS` are removed on the way."""
    import secrets
    import time

    folder = _stage_dir()
    for old in folder.iterdir():
        if old.stat().st_mtime < time.time() - STAGE_HOURS * 3600:
            old.unlink(missing_ok=True)
    token = secrets.token_hex(16)
    suffix = Path(filename).suffix.lower()
    path = folder / f"{owner}-{token}{suffix}"
    with open(path, "xb") as out:
        path.chmod(0o600)
        if hasattr(upload, "chunks"):
            for chunk in upload.chunks():
                out.write(chunk)
        else:
            upload.seek(0)
            while chunk := upload.read(1024 * 1024):
                out.write(chunk)
    return token


def staged(token: str, *, owner: Any) -> Path | None:
    """The file staged under ``token`` by ``owner``, or None (unknown, expired, or someone else's)."""
    if not _TOKEN.match(token or ""):
        return None
    found = sorted(_stage_dir().glob(f"{owner}-{token}.*"))
    return found[0] if found else None


def unstage(token: str, *, owner: Any) -> None:
    path = staged(token, owner=owner)
    if path is not None:
        path.unlink(missing_ok=True)
