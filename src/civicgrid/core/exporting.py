"""Writing exports: a ZIP of CSV files or an XLSX workbook, one table each, streamed or whole; and the
quoting that keeps an exported cell from running as a spreadsheet formula.

Apart from the import (:mod:`civicgrid.core.importing`): exports read the database and write files, imports
the other way round. They share only the quoting rule: exported cells that a spreadsheet would run as
formulas (starting with ``= + - @``, tab or CR) are prefixed with a single quote (OWASP "CSV injection"),
and the importer removes exactly one such quote from a value that starts with quotes followed by one of
those characters. So export then import gives back the original value, always: a value that itself starts
with ``'=`` is exported as ``''=`` (see :func:`neutralise` and :func:`unneutralise`). The one cost: a
hand-made file whose cell starts with ``'=`` imports without that quote, as a spreadsheet would show it.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from civicgrid.core.xlsxstream import Pipe, stream_xlsx

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
