"""A registry import of new records, streamed (issue 15: a district of a million households).

:func:`import_new` reads each table once, row by row (from :func:`civicgrid.core.importing.stream_tables`
or from lists), checks every row as :mod:`civicgrid.registry.importer` does (the same per-row functions,
the same messages), and writes the rows of the big tables (households, residents, people, posts) as it
goes with the database's bulk path (:func:`civicgrid.core.bulk.copy_rows`: ``COPY`` on PostgreSQL),
in the caller's transaction. All or nothing still holds: once a bad row is found nothing more is
written, every later row is still checked, and the caller's transaction is rolled back by the
:class:`~civicgrid.core.importing.ImportRejected` raised at the end with the report (the first rows of
it, every bad row counted).

The two big tables (households, residents) are read :data:`BATCH` rows at a time as columns, and each chunk is
cleared column by column (:mod:`civicgrid.registry.fastcheck`: a pass per column instead of a call per value);
a row it does not clear (a bad value, or a good one in another form: ``是``, ``男``, a space) goes through the
importer's per-row checks, in file order, then the chunk's checks against the database as one batch, as
always: the report is the per-row path's, row for row and message for message
(``tests/platform/test_import_fastcheck.py``). Python's cyclic collector is paused meanwhile
(:func:`civicgrid.core.bulk.collector_paused`).

Memory stays bounded by what must be remembered across rows, not by the file: the codes seen (for
duplicates and references), the ID numbers seen, and a few small numbers per resident for the
households' vulnerability scores. Households are written last, from a spool file, once their scores
are known (residents may be written first: the foreign key is checked at commit).

A first load into an empty registry on PostgreSQL (the households' and residents' tables hold no row and
nobody is reading them) builds those tables' indexes and the residents' foreign key after the rows are in
(:func:`civicgrid.core.loadindexes.built_after`: the tables are locked until the import commits); the
ID numbers and codes already written are then found in memory rather than through the (not yet built)
indexes, and the new rows' keys are counted on from their sequences (``IdBlock(exclusive=True)``), so the
check loop sends no query while the rows stream to the server: the same rows, the same report.

The audit is one summarising event (the bulk rule of :mod:`civicgrid.core.audit`): the counts, a
digest of every new record's id and a SHA-256 of the rows as read (``input_sha256``: each table's name,
then each row's cells in the file's column order, tab-separated, one line per row; the same for a CSV,
ZIP or XLSX of the same content).
"""

from __future__ import annotations

import hashlib
import pickle
import tempfile
from array import array
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from itertools import islice
from operator import itemgetter
from typing import IO, Any

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from civicgrid.core import audit
from civicgrid.core.bulk import (
    CopyWriter,
    IdBlock,
    collector_paused,
    copy_rows,
    mapping_in,
    present,
)
from civicgrid.core.crypto import digester, encrypt_many, field_keys
from civicgrid.core.importing import ImportRejected, RowError, TableRows, limits
from civicgrid.core.loadindexes import built_after
from civicgrid.core.places import common_ancestor
from civicgrid.core.scoping import Scope
from civicgrid.engine import registry_format as fmt
from civicgrid.registry import fastcheck, importer, roster
from civicgrid.registry.events import RegistryEvent
from civicgrid.registry.models import Actor, Household, Person, Place, Post, Resident
from civicgrid.registry.pinyin import name_initials
from civicgrid.registry.spreadsheet import column_decoder, row_decoder

BATCH = 20_000  # rows checked against the database and written at a time
_FACTS = ("lives_alone", "chronic_illness", "pregnant", "limited_mobility", "language_barrier",
          "mental_health_needs")
_HOUSEHOLD_COLUMNS = ["id", "code", "building_id", "grid_id", "place_path", "address", "housing_type",
                      "income_status", "contact_phone", "contact_phone_digest"]
_SCORE_COLUMNS = ["size", "vulnerability_score", "vulnerability_weight", "vulnerability_rule",
                  "vulnerability_summary"]
_RESIDENT_COLUMNS = ["id", "code", "household_id", "name", "name_initials", "sex", "birth_date", "relation",
                     "id_number", "id_number_digest", "phone", "phone_digest", "disability_kind",
                     "disability_grade", *_FACTS]


_STATUS = {"": "normal", **{code: code for code in fastcheck.INCOME}}


class _Report(list):  # type: ignore[type-arg]
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


class _Import:
    def __init__(self, scope: Scope):
        self.scope = scope
        self.errors, self.outside = _Report(), _Report()
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

    def chunks(self, tables: Mapping[str, Iterable[dict[str, str]]], table: str) -> Iterator[_Chunk]:
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
                yield _Chunk(first, header, records, decode)
                first += len(records)
            return
        header = list(fmt.TABLES[table])
        get = itemgetter(*header)
        for rows in _batched(iter(source)):
            update(("\n".join("\t".join(r.values()) for r in rows) + "\n").encode())
            chunk = _Chunk(first, header, [get(r) for r in rows], decode)
            for column, at in chunk.decoded.items():  # decoded in the caller's rows too, as row by row
                values = chunk.columns[column]
                for i in at:
                    rows[i][column] = values[i]
            yield chunk
            first += len(rows)


def _batched(rows: Iterator[Any]) -> Iterator[list[Any]]:
    while batch := list(islice(rows, BATCH)):
        yield batch


class _Chunk:
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


def import_new(*, user: Any, scope: Scope, tables: Mapping[str, Iterable[dict[str, str]]]) -> dict[str, int]:
    """Check and write every row of ``tables`` as new records; raise ImportRejected (the caller's
    transaction then writes nothing) with every bad row, or with every row outside the importer's area
    when all rows are valid. Returns the rows created per table."""
    run = _Import(scope)
    # a first load into an empty registry: its indexes built after the rows are in (core.loadindexes)
    with collector_paused(), built_after([Household, Resident]) as run.first_load:
        cleaned, places = _check_and_write(run, scope, tables)
    run.ids["Household"] = np.frombuffer(run.household_ids, dtype=np.int64)
    _write_others(run, cleaned, places)
    if run.existing_households:
        from civicgrid.registry.services import household_vulnerability_refresh

        household_vulnerability_refresh(household_ids=run.existing_households)
    counts = {table: len(getattr(cleaned, table)) if table in ("places", "actors", "people", "posts")
              else run.counts[table] for table in fmt.TABLES}
    audit.record_bulk(user=user, event=RegistryEvent.REGISTRY_IMPORTED, model=Household, ids=[],
                      id_groups={name: np.asarray(ids, dtype=np.int64) for name, ids in run.ids.items()},
                      counts={**counts, "input_sha256": run.digest.hexdigest()},
                      place_path=common_ancestor(sorted(run.paths)) or scope.place_path(),
                      summary="registry import")
    return counts


def _check_and_write(run: _Import, scope: Scope, tables: Mapping[str, Iterable[dict[str, str]]]
                     ) -> tuple[importer.Cleaned, dict[str, Place]]:
    """Every row checked (ImportRejected with the report if one is bad), then the places, residents and
    households written; returns the cleaned small tables and the places by code, for the rest."""
    places_before = _all_places()
    place_rows = [row for _n, row in run.rows(tables, "places")]
    cleaned = importer.Cleaned()
    levels = importer._places(place_rows, run.errors, cleaned)  # noqa: SLF001 - the importer's own check
    places = dict(places_before)
    if run.writing:
        created = create_places(cleaned.places, places)
        run.ids["Place"] = [p.pk for p in created]
        run.paths.update(p.path for p in created)
    run.counts["places"] = len(cleaned.places)
    spool, income = _households(run, tables, levels, places)
    with CopyWriter() as run.writer:
        facts = _residents(run, tables)
    run.household_index, run.household_codes = {}, {}  # no later table refers to households
    scores = _scores(facts, income) if facts is not None else None
    del income, facts
    actor_rows = [row for _n, row in run.rows(tables, "actors")]
    cleaned.actors = []
    actor_codes = importer._actors(actor_rows, run.errors, cleaned, levels)  # noqa: SLF001
    people_rows = [row for _n, row in run.rows(tables, "people")]
    referenced = {r["resident_code"] for r in people_rows if r["resident_code"]}
    # the residents written so far are in the database; the file's codes are kept only once a row was bad
    known_residents = set(mapping_in(Resident.objects.all(), field="code", values=referenced, key="code", value="id"))
    known_residents |= referenced & run.resident_codes
    person_codes = importer._people(people_rows, run.errors, cleaned, known_residents)  # noqa: SLF001
    run.resident_codes = set()
    post_rows = [row for _n, row in run.rows(tables, "posts")]
    importer._posts(post_rows, run.errors, cleaned, person_codes, actor_codes, levels)  # noqa: SLF001
    if not scope.unrestricted:
        try:
            roster.refuse_outside(scope, {"places": place_rows, "actors": actor_rows, "posts": post_rows}, cleaned,
                                  places_before)
        except ImportRejected as refused:
            run.outside.extend(refused.errors)
            run.outside.total += refused.total - len(refused.errors)
    if run.errors.total:
        raise ImportRejected(list(run.errors), total=run.errors.total)
    if run.outside.total:
        raise ImportRejected(list(run.outside), total=run.outside.total)
    with CopyWriter() as run.writer:
        _write_households(run, spool, scores)
    return cleaned, places


def _all_places() -> dict[str, Place]:
    return {p.code: p for p in Place.objects.all().only("id", "code", "path", "level", "parent_id")}


def create_places(rows: list[dict[str, Any]], places: dict[str, Place]) -> list[Place]:
    """Create the checked place rows level by level (a parent before its children); ``places`` (code ->
    place) gains them. Returns the new places."""
    created: list[Place] = []
    for level in fmt.PLACE_LEVELS:
        batch = []
        for row in (r for r in rows if r["level"] == level):
            parent = places.get(row["parent_code"]) if row["parent_code"] else None
            batch.append(Place(code=row["code"], name=row["name"], level=level, parent=parent,
                               geometry=row["geometry"], path=(parent.path if parent else "") + row["code"] + "/"))
        for place in Place.objects.bulk_create(batch, batch_size=2000):
            places[place.code] = place
            created.append(place)
    return created


# --- households ------------------------------------------------------------------------------------
def _households(run: _Import, tables: Mapping[str, Iterable[dict[str, str]]], levels: dict[str, str],
                places: dict[str, Place]) -> tuple[IO[bytes], list[str]]:
    """Check every household row; keep the writable ones in a spool file (written once the scores are
    known). Returns the spool and each new household's income status (by its index).

    Rows are cleared column by column (:func:`fastcheck.households`); the others go through the importer's
    per-row checks, in file order, so the report is theirs."""
    check = importer._Checker("households", run.errors)  # noqa: SLF001
    seen: dict[str, int] = {}
    income: list[str] = []
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by _write_households
    ids = IdBlock(Household, exclusive=run.first_load)
    none: set[str] = set()  # codes already in the registry are looked up a chunk at a time
    inside: dict[str, bool] = {}  # building code -> inside the importer's area

    for chunk in run.chunks(tables, "households"):
        cols, first = chunk.columns, chunk.first
        clear = fastcheck.households(cols, seen=seen, levels=levels)
        # one str object per status (kept for every household until the scores): not one per cell read
        statuses = [_STATUS.get(v, v) for v in cols["income_status"]]
        phones = list(cols["contact_phone"])
        outside = np.zeros(len(chunk), dtype=bool)
        if not run.scope.unrestricted:
            for code in set(cols["building_code"]) - inside.keys():
                building = places.get(code)
                inside[code] = building is None or levels.get(code) != "building" or run.inside(building.path)
            outside = ~np.fromiter(map(inside.__getitem__, cols["building_code"]), dtype=bool, count=len(chunk))
        for i in np.flatnonzero(~clear | outside).tolist():
            n = first + i
            if not clear[i]:
                r = chunk.row(i)
                check.new_code(n, r["code"], seen, none)
                row = importer.household_fields(check, n, r, levels)
                statuses[i], phones[i] = row["income_status"], row["contact_phone"]
            if outside[i]:
                run.outside.append(RowError("households", n, "building_code", cols["building_code"][i],
                                            str(_("outside your area"))))
        codes = cols["code"]
        seen.update((c, first + i) for i, c in enumerate(codes) if clear[i])
        # on a first load the table held nothing and households are written at the end: none is there yet
        for code in _in_order(codes, set() if run.first_load else _existing(Household, codes)):
            check.fail(first + codes.index(code), "code", code, _("already in the registry"))
        if not run.writing:
            continue
        new_ids = ids.take(len(chunk))
        at = len(income)
        run.household_index.update(zip(codes, range(at, at + len(chunk)), strict=True))
        run.household_ids.extend(new_ids)
        income.extend(statuses)
        buildings = [places[c] for c in cols["building_code"]]
        run.paths.update({b.path for b in buildings})
        rows = list(zip(new_ids, codes, [b.pk for b in buildings], [b.parent_id for b in buildings],
                        [b.path for b in buildings], cols["address"], cols["housing_type"], statuses,
                        encrypt_many(phones), list(map(run.keyed, phones)), strict=True))
        pickle.dump(rows, spool, protocol=pickle.HIGHEST_PROTOCOL)
    ids.close()
    run.household_codes = seen
    run.counts["households"] = len(seen)
    spool.seek(0)
    return spool, income


def _existing(model: type[Any], codes: Iterable[str | None]) -> set[str]:
    """Which of ``codes`` are already in ``model``'s table."""
    return present(model, "code", [c for c in codes if c])


def _in_order(codes: list[Any], found: set[str]) -> list[str]:
    """``found`` in the order of their first row in ``codes`` (the report's order, whatever the query's)."""
    return sorted(found, key=codes.index)


# --- residents -------------------------------------------------------------------------------------
def _residents(run: _Import, tables: Mapping[str, Iterable[dict[str, str]]]) -> np.ndarray | None:
    """Check and write every resident row; returns the facts the new households' scores need, one row
    per resident of a new household (None once a row is bad).

    A chunk's rows are cleared column by column (:func:`fastcheck.residents`); the others go through the
    importer's per-row checks in file order, then the chunk's checks against the database (as one batch
    always did), so the report is the per-row path's, row for row."""
    check = importer._Checker("residents", run.errors)  # noqa: SLF001
    seen: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    ids = IdBlock(Resident, exclusive=run.first_load)
    run.ids["Resident"] = array("q")
    facts: list[np.ndarray] = []  # per chunk: household index, birth day, grade, the six flags
    none: set[str] = set()

    for chunk in run.chunks(tables, "residents"):
        cols, first = chunk.columns, chunk.first
        clear, days, grades = fastcheck.residents(cols, seen=seen, seen_ids=seen_ids, today=date.today())
        codes: list[str | None] = list(cols["code"])
        births, numbers, phones = list(cols["birth_date"]), list(cols["id_number"]), list(cols["phone"])
        sexes = cols["sex"]
        flags = [[v == "1" for v in cols[f]] for f in _FACTS]
        for i in np.flatnonzero(~clear).tolist():  # the per-row checks, as row by row
            n, r = first + i, chunk.row(i)
            codes[i] = check.new_code(n, r["code"], seen, none)
            row = importer.resident_fields(check, n, r)
            if row["id_number"]:
                if row["id_number"] in seen_ids:
                    check.fail(n, "id_number", r["id_number"],
                               _("duplicate ID number: also on row %(row)s") % {"row": seen_ids[row["id_number"]]})
                else:
                    seen_ids[row["id_number"]] = n
            if sexes[i] != row["sex"]:
                sexes = sexes if sexes is not cols["sex"] else list(sexes)
                sexes[i] = row["sex"]
            birth = row["birth_date"]
            births[i] = birth.isoformat() if birth else ""
            days[i] = birth.toordinal() - fastcheck.EPOCH_ORDINAL if birth else 0
            numbers[i], phones[i], grades[i] = row["id_number"], row["phone"], row["disability_grade"]
            for k, f in enumerate(_FACTS):
                flags[k][i] = row[f]
        seen.update((c, first + i) for i, c in enumerate(cols["code"]) if clear[i])
        seen_ids.update((v, first + i) for i, v in enumerate(numbers) if clear[i] and v)
        _check_chunk(run, check, chunk, codes, numbers, seen, seen_ids)
        if not run.writing:
            continue
        _write_residents(run, chunk, ids, codes, sexes, births, days, numbers, phones, grades, flags, facts)
    ids.close()
    seen_ids.clear()  # no longer needed: its memory back before the scores
    run.counts["residents"] = len(seen)
    run.resident_codes = set() if run.writing else seen.keys()  # when writing, people look them up instead
    del seen
    run.ids["Resident"] = np.frombuffer(run.ids["Resident"], dtype=np.int64)
    if not run.writing:
        return None
    return np.concatenate(facts) if facts else np.zeros((0, 9), dtype=np.int32)


def _check_chunk(run: _Import, check: Any, chunk: _Chunk, codes: list[str | None], numbers: list[str],
                 seen: dict[str, int], seen_ids: dict[str, int]) -> None:
    """A chunk's checks against the database and the households: codes already there, unknown households,
    households outside the importer's area, ID numbers already held (``numbers``: normalised, '' for none).

    On a first load the registry held nothing when the import began and nobody else writes it until it ends
    (core.loadindexes): what the tables hold is what this import wrote, residents' rows below
    ``run.written_below`` and no household yet (they are written last), so these are answered from memory,
    with no query waiting for the rows being sent."""
    cols, first = chunk.columns, chunk.first
    households = cols["household_code"]
    known = run.household_codes
    others: dict[str, int] = {}
    if not run.first_load:
        others = mapping_in(Household.objects.all(), field="code", key="code", value="id",
                            values=set(households) - known.keys())
    run.others = others
    paths = (mapping_in(Household.objects.all(), field="code", key="code", value="place_path", values=others)
             if others and not run.scope.unrestricted else {})
    below = run.written_below
    existing = ({c for c in codes if c and seen.get(c, below) < below} if run.first_load
                else _existing(Resident, codes))
    for code in _in_order(codes, existing):
        check.fail(first + codes.index(code), "code", code, _("already in the registry"))
    run.id_digests = list(map(run.keyed, numbers))
    if run.first_load:  # the numbers this import wrote (the ID digests are not indexed until it ends)
        taken = {v for v in numbers if seen_ids.get(v, below) < below}
    else:
        taken = _taken_id_numbers(run, numbers, run.id_digests)
    flagged = [i for i, code in enumerate(households) if code not in known and (code not in others or code in paths)]
    if taken:
        flagged = sorted({*flagged, *(i for i, v in enumerate(numbers) if v in taken)})
    for i in flagged:
        n, code = first + i, households[i]
        if code not in known and code not in others:
            check.fail(n, "household_code", code, _("unknown household code"))
        elif code in paths and not run.inside(paths[code]):
            run.outside.append(RowError("residents", n, "household_code", code, str(_("outside your area"))))
        if numbers[i] in taken:
            check.fail(n, "id_number", cols["id_number"][i], _("this ID number is already in the registry"))


def _write_residents(run: _Import, chunk: _Chunk, ids: IdBlock, codes: list[Any], sexes: list[str],
                     births: list[str], days: np.ndarray, numbers: list[str], phones: list[str],
                     grades: list[int | None], flags: list[list[bool]], facts: list[np.ndarray]) -> None:
    cols, size = chunk.columns, len(chunk)
    new_ids = ids.take(size)
    run.ids["Resident"].extend(new_ids)
    index, others = run.household_index, run.others
    at = [index.get(code, -1) for code in cols["household_code"]]
    ids_of, household_ids = run.household_ids, []
    for a, code in zip(at, cols["household_code"], strict=True):
        if a < 0:
            household_ids.append(others[code])
            run.existing_households.add(others[code])
        else:
            household_ids.append(ids_of[a])
    names = cols["name"]
    initials = dict(zip(uniq := list(set(names)), map(name_initials, uniq), strict=True))
    rows = list(zip(new_ids, codes, household_ids, names, map(initials.__getitem__, names), sexes, births,
                    cols["relation"], encrypt_many(numbers), run.id_digests, encrypt_many(phones),
                    map(run.keyed, phones), cols["disability_kind"], grades, *flags, strict=True))
    run.writer.write(Resident, _RESIDENT_COLUMNS, rows)
    run.written_below = chunk.first + size
    mine = np.asarray(at) >= 0
    block = np.empty((int(mine.sum()), 9), dtype=np.int32)
    block[:, 0] = np.asarray(at)[mine]
    block[:, 1] = days[mine] + fastcheck.EPOCH_ORDINAL
    block[:, 2] = np.array([g or 0 for g in grades], dtype=np.int32)[mine]
    for k in range(len(_FACTS)):
        block[:, 3 + k] = np.array(flags[k], dtype=np.int32)[mine]
    facts.append(block)


def _taken_id_numbers(run: _Import, numbers: list[str], current: list[str]) -> set[str]:
    """Which of these (valid, normalised; '' for none) ID numbers a resident already holds, by their
    digests under every configured key (``current``: under the current key; rows not yet re-keyed still
    count)."""
    by_digest = {d: number for number, d in zip(numbers, current, strict=True) if number}
    for older in run.older:
        by_digest.update((older(number), number) for number in numbers if number)
    return {by_digest[d] for d in present(Resident, "id_number_digest", list(by_digest))}


def _scores(facts: np.ndarray, income: list[str]) -> dict[str, np.ndarray]:
    """The configured rule's scores of the new households (by index 0..n-1) from their residents' facts,
    a slice of households at a time (the rule's tables for a million households at once would double
    the import's memory)."""
    from civicgrid.registry.services import _vulnerability

    facts = facts[np.argsort(facts[:, 0], kind="stable")]
    n, step, today = len(income), 100_000, date.today()
    starts = np.arange(0, n + step, step)
    bounds = np.searchsorted(facts[:, 0], np.minimum(starts, n))
    out = {"size": np.zeros(n, dtype=np.int64), "score": np.zeros(n), "weight": np.zeros(n),
           "rule_version": np.empty(n, dtype=object), "summary": np.empty(n, dtype=object)}
    epoch = date(1970, 1, 1).toordinal()
    for k, start in enumerate(starts[:-1]):
        if start >= n:
            break
        stop = min(n, start + step)
        part = facts[bounds[k]:bounds[k + 1]]
        grade = pd.array(part[:, 2], dtype="Int64")
        grade[part[:, 2] == 0] = pd.NA
        residents = pd.DataFrame({"household": part[:, 0], "birth_date": (part[:, 1].astype("int64") - epoch)
                                  .astype("datetime64[D]"), "disability_grade": grade,
                                  **{f: part[:, 3 + i].astype(bool) for i, f in enumerate(_FACTS)}})
        households = pd.DataFrame({"household": np.arange(start, stop), "income_status": income[start:stop]})
        scores = _vulnerability(residents, households, today)
        for column, values in out.items():
            values[start:stop] = scores[column].to_numpy()
    return out


# --- writing the rest ------------------------------------------------------------------------------
def _write_households(run: _Import, spool: IO[bytes], scores: dict[str, np.ndarray] | None) -> None:
    assert scores is not None
    size, score, weight = scores["size"], scores["score"], scores["weight"]
    rule, summary = scores["rule_version"], scores["summary"]

    at = 0
    with spool:
        while True:
            try:
                part = pickle.load(spool)  # noqa: S301 - our own spool file, written above
            except EOFError:
                break
            rows = [(*row, int(size[i]), float(score[i]), float(weight[i]), str(rule[i]), str(summary[i]))
                    for i, row in enumerate(part, start=at)]
            at += len(part)
            run.writer.write(Household, _HOUSEHOLD_COLUMNS + _SCORE_COLUMNS, rows)


def _write_others(run: _Import, cleaned: importer.Cleaned, places: dict[str, Place]) -> None:
    """Actors (few: through the ORM), people and posts (one per volunteer: the bulk path)."""
    actors = Actor.objects.bulk_create(
        [Actor(code=r["code"], name=r["name"], sector=r["sector"], kind=r["kind"],
               service_area=places[r["service_area_code"]], capacities=r["capacities"],
               contact_phone=r["contact_phone"]) for r in cleaned.actors], batch_size=2000)
    run.ids["Actor"] = [a.pk for a in actors]
    run.paths.update(places[r["service_area_code"]].path for r in cleaned.actors)
    residents = mapping_in(Resident.objects.all(), field="code", key="code", value="id",
                           values=(r["resident_code"] for r in cleaned.people if r["resident_code"]))
    person_ids = IdBlock(Person).take(len(cleaned.people))
    phones = encrypt_many([r["phone"] for r in cleaned.people])
    copy_rows(Person, ["id", "code", "name", "phone", "phone_digest", "resident_id"],
              ((pk, r["code"], r["name"], phone, run.keyed(r["phone"]), residents.get(r["resident_code"]))
               for pk, r, phone in zip(person_ids, cleaned.people, phones, strict=True)))
    run.ids["Person"] = person_ids
    people = mapping_in(Person.objects.all(), field="code", key="code", value="id",
                        values={r["person_code"] for r in cleaned.posts})
    actor_ids = mapping_in(Actor.objects.all(), field="code", key="code", value="id",
                           values={r["actor_code"] for r in cleaned.posts})
    post_ids = IdBlock(Post).take(len(cleaned.posts))
    copy_rows(Post, ["id", "person_id", "actor_id", "role", "is_key", "place_id"],
              ((pk, people[r["person_code"]], actor_ids[r["actor_code"]], r["role"], r["is_key"],
                places[r["place_code"]].pk if r["place_code"] else None)
               for pk, r in zip(post_ids, cleaned.posts, strict=True)))
    run.ids["Post"] = post_ids
