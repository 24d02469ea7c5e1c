"""The readers of CSV files and ZIP archives of them, as byte streams: encodings, budgets, zip-bomb checks.

Private to :mod:`civicgrid.core.importing` (its :func:`~civicgrid.core.importing.read_tables` and
:func:`~civicgrid.core.importing.stream_tables` are the public API); apart from it so that the public
module reads as what an import does, and this one as how a file's bytes become records.

A file is read as it streams, never held as raw text: :func:`csv_table` parses one CSV (its encoding
sniffed from its first bytes, read again as GB18030 if a UTF-8 guess meets an invalid byte later on),
:func:`csv_records` yields its records one by one. A ZIP member is read through :class:`_Capped`, which
charges every decompressed byte to the :class:`~civicgrid.core.importlimits.Budget`: a zip bomb stops at
the limit, whatever its headers say.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import zipfile
from collections.abc import Callable, Generator
from pathlib import Path
from typing import IO, Any

from django.utils.translation import gettext as _

from civicgrid.core.exporting import unneutralise
from civicgrid.core.importlimits import Budget, file_error, limits


def as_file(source: Any) -> IO[bytes]:
    if isinstance(source, str | Path):
        return open(source, "rb")  # noqa: SIM115 - closed by read_tables
    return source  # type: ignore[no-any-return]


def upload_size(handle: IO[bytes]) -> int | None:
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


def reopener(handle: IO[bytes]) -> Callable[[], IO[bytes]]:
    """Each call reads ``handle`` from its start again."""

    def reopen() -> IO[bytes]:
        handle.seek(0)
        return _buffered(handle)

    return reopen


class _Capped(io.RawIOBase):
    """A plain read-only stream over any file-like ``inner`` (an upload, a ZIP member), charging every
    byte to the budget when it is decompressed data (``budget`` given)."""

    def __init__(self, inner: IO[bytes], budget: Budget | None = None, name: str = ""):
        self.inner, self.budget, self.name = inner, budget, name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        if self.budget is not None:
            self.budget.expand(len(data), self.name)
        buffer[: len(data)] = data
        return len(data)


def _buffered(inner: IO[bytes], budget: Budget | None = None, name: str = "") -> IO[bytes]:
    return io.BufferedReader(_Capped(inner, budget, name), buffer_size=256 * 1024)


def file_opener(path: Path) -> Callable[[], IO[bytes]]:
    def open_file() -> IO[bytes]:
        return path.open("rb")  # closed by the reader (csv_records)

    return open_file


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


def whole_encoding(open_bytes: Callable[[], IO[bytes]], table: str, budget: Budget) -> str:
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


def csv_table(open_bytes: Callable[[], IO[bytes]], table: str, budget: Budget) -> tuple[list[str], list[list[str]]]:
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
    raise file_error(table, _("Cannot read the file's text encoding: save it as CSV UTF-8 (or GBK/GB18030, or "
                              "Unicode text)."))


def _parse_csv(stream: IO[bytes], encoding: str, table: str, budget: Budget) -> tuple[list[str], list[list[str]]]:
    records = csv_records(stream, encoding, table, budget)
    header = next(records, [])
    return (header, list(records))


def csv_records(stream: IO[bytes], encoding: str, table: str, budget: Budget | None) -> Generator[list[str], None, None]:
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
        raise file_error(table, _("Not a readable CSV file (%(reason)s); a cell may be longer than %(limit)s "
                                  "characters.") % {"reason": exc, "limit": f"{cap:,}"}) from None
    finally:
        text.detach().close()  # the stream this call was handed (a reopened upload keeps its own handle)


def zip_tables(handle: IO[bytes], name: str, budget: Budget) -> dict[str, tuple[list[str], list[list[str]]]]:
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise file_error(name, _("This is not a readable ZIP file (it may be damaged or incomplete).")) from None
    with archive:
        members = [i for i in archive.infolist() if i.filename.lower().endswith(".csv")
                   and not Path(i.filename).name.startswith(".") and not i.is_dir()]
        if len(archive.infolist()) > budget.limits["zip_members"]:
            raise file_error(name, _("The archive holds more than %(limit)s files.")
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
                out[Path(info.filename).stem] = csv_table(opener, Path(info.filename).stem, budget)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError,
                    RuntimeError):
                raise file_error(name, _("This is not a readable ZIP file (it may be damaged or incomplete).")) \
                    from None
        return out


def zip_members(handle: IO[bytes], name: str, budget: Budget) -> list[tuple[str, Callable[[], IO[bytes]]]]:
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise file_error(name, _("This is not a readable ZIP file (it may be damaged or incomplete).")) from None
    if len(archive.infolist()) > budget.limits["zip_members"]:
        raise file_error(name, _("The archive holds more than %(limit)s files.")
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
                raise file_error(name, _("This is not a readable ZIP file (it may be damaged or incomplete).")) \
                    from None
        return open_member

    return [(Path(i.filename).stem, opener(i)) for i in members]
