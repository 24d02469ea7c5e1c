"""The bookkeeping of a registry import (:mod:`civicgrid.registry.bulkimport`) that every pass shares.

:class:`ImportRun` holds one import's state (the report of bad rows, the SHA-256 of the rows as read, the new
records' ids, the codes later tables refer to) and reads a table row by row (:meth:`ImportRun.rows`) or
:data:`BATCH` rows at a time as columns (:meth:`ImportRun.chunks`, :class:`Chunk`). Apart from the passes
(:mod:`~civicgrid.registry.bulkhouseholds`, :mod:`~civicgrid.registry.bulkresidents`) so that each of them
reads as its checks and writes only.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from operator import itemgetter
from typing import Any

from civicgrid.core.bulk import present
from civicgrid.core.crypto import digester, field_keys
from civicgrid.core.importing import RowError, TableRows, limits
from civicgrid.core.scoping import Scope
from civicgrid.engine import registry_format as fmt
from civicgrid.registry.spreadsheet import column_decoder, row_decoder

BATCH = 20_000  # rows checked against the database and written at a time


class Report(list):  # type: ignore[type-arg]
    """The bad rows: every one counted, the first ``limits()["errors"]`` kept (the importer's checks
    append to it as to a list)."""

    def __init__(self) -> None:
        super().__init__()
        self.cap, self.total = limits()["errors"], 0

    def append(self, error: RowError) -> None:
        self.total += 1
        if len(self) < self.cap:
            super().append(error)

    def extend(self, errors: Iterable[RowError]) -> None:
        for e in errors:
            self.append(e)


class ImportRun:
    """One import's state across its passes: the report, the digest of the rows read, the new records' ids
    and what later tables must know of earlier ones."""

    def __init__(self, scope: Scope):
        self.scope = scope
        self.errors, self.outside = Report(), Report()
        self.digest = hashlib.sha256()
        # the keyed digests of validated ID numbers and phones (already in normal form); older keys only
        # while keys are being rotated
        self.keyed = digester(normalised=True)
        self.older = [digester(key=k, normalised=True) for k in range(1, len(field_keys()))]
        self.counts = {table: 0 for table in fmt.TABLES}
        self.ids: dict[str, Any] = {}  # model name -> the new records' ids (a list or an array)
        self.paths: set[str] = set()  # where the new records lie (for the audit event's place)
        self.household_index: dict[str, int] = {}  # code -> index of the new household (file order)
        self.household_ids = array("q")  # by that index
        self.household_codes: Any = {}  # every new household code of the file (written or not)
        self.existing_households: set[int] = set()  # households already in the registry that gain residents
        self.resident_codes: Any = set()
        self.writer: Any = None  # the CopyWriter of the table being written
        # a first load (core.loadindexes): the registry held no resident when it began and nobody else
        # writes it until it ends, so what the table holds is what this import wrote: residents' rows
        # below ``written_below``
        self.first_load = False
        self.written_below = 2
        self.others: dict[str, int] = {}  # a residents' chunk: code -> id of households already in the registry
        self.id_digests: list[str] = []  # a residents' chunk: each row's ID number's keyed digest

    @property
    def writing(self) -> bool:
        """Whether to go on writing: not after the first bad row (it will all be rolled back)."""
        return not (self.errors.total or self.outside.total)

    def inside(self, path: str) -> bool:
        return self.scope.unrestricted or any(path.startswith(a) for a in self.scope.area_paths)

    def rows(self, tables: Mapping[str, Iterable[dict[str, str]]], table: str) -> Iterator[tuple[int, dict[str, str]]]:
        """(spreadsheet row number, row with choice labels decoded) of ``table``, hashed as read."""
        decode, update = row_decoder(table), self.digest.update
        update(f"\x1e{table}\n".encode())
        lines: list[str] = []
        for n, row in enumerate(tables.get(table, ()), start=2):
            lines.append("\t".join(row.values()))
            if len(lines) == 4096:
                update(("\n".join(lines) + "\n").encode())
                lines = []
            decode(row)
            yield n, row
        update(("\n".join(lines) + "\n").encode() if lines else b"")

    def chunks(self, tables: Mapping[str, Iterable[dict[str, str]]], table: str) -> Iterator[Chunk]:
        """``table``'s rows :data:`BATCH` at a time, column by column, hashed as read (as :meth:`rows`)."""
        update = self.digest.update
        update(f"\x1e{table}\n".encode())
        source = tables.get(table, ())
        decode = column_decoder(table)
        first = 2
        if isinstance(source, TableRows):  # a file: its records, in its column order
            header = list(source.header)
            for records in _batched(source.records()):
                update(("\n".join(map("\t".join, records)) + "\n").encode())
                yield Chunk(first, header, records, decode)
                first += len(records)
            return
        header = list(fmt.TABLES[table])
        get = itemgetter(*header)
        for rows in _batched(iter(source)):
            update(("\n".join("\t".join(r.values()) for r in rows) + "\n").encode())
            chunk = Chunk(first, header, [get(r) for r in rows], decode)
            for column, at in chunk.decoded.items():  # decoded in the caller's rows too, as row by row
                values = chunk.columns[column]
                for i in at:
                    rows[i][column] = values[i]
            yield chunk
            first += len(rows)


def _batched(rows: Iterator[Any]) -> Iterator[list[Any]]:
    while batch := list(islice(rows, BATCH)):
        yield batch


class Chunk:
    """Consecutive rows of one table as columns (choice labels decoded); ``first`` is the first row's number."""

    def __init__(self, first: int, header: list[str], records: list[Any], decode: Any):
        self.first, self.header = first, header
        self.columns: dict[str, list[str]] = {name: list(values) for name, values in
                                              zip(header, zip(*records, strict=True), strict=True)}
        self.decoded = {column: at for column in header if (at := decode(column, self.columns[column]))}

    def __len__(self) -> int:
        return len(self.columns[self.header[0]])

    def row(self, i: int) -> dict[str, str]:
        """Row ``i`` as the per-row checks take it."""
        return {name: self.columns[name][i] for name in self.header}


def existing_codes(model: type[Any], codes: Iterable[str | None]) -> set[str]:
    """Which of ``codes`` are already in ``model``'s table."""
    return present(model, "code", [c for c in codes if c])


def in_order(codes: list[Any], found: set[str]) -> list[str]:
    """``found`` in the order of their first row in ``codes`` (the report's order, whatever the query's)."""
    return sorted(found, key=codes.index)
