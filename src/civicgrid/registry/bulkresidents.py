"""The residents' pass of a registry import (:mod:`civicgrid.registry.bulkimport`), and the households' scores
it leaves the facts for.

:func:`check_and_write_residents` checks every resident row a chunk at a time (columns first, the per-row
checks for the rows they do not clear, then the chunk's checks against the database) and writes the rows as
it goes; it keeps a few small numbers per resident of a new household, from which
:func:`household_scores` computes the new households' vulnerability scores. Apart from the import's driver:
the biggest table, its checks and its writing read at once.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from civicgrid.core.bulk import IdBlock, mapping_in, present
from civicgrid.core.crypto import encrypt_many
from civicgrid.core.importing import RowError
from civicgrid.registry import fastcheck, importer
from civicgrid.registry.bulkrun import Chunk, ImportRun, existing_codes, in_order
from civicgrid.registry.models import Household, Resident
from civicgrid.registry.pinyin import name_initials

_FACTS = ("lives_alone", "chronic_illness", "pregnant", "limited_mobility", "language_barrier",
          "mental_health_needs")
_RESIDENT_COLUMNS = ["id", "code", "household_id", "name", "name_initials", "sex", "birth_date", "relation",
                     "id_number", "id_number_digest", "phone", "phone_digest", "disability_kind",
                     "disability_grade", *_FACTS]


def check_and_write_residents(run: ImportRun, tables: Mapping[str, Iterable[dict[str, str]]]) -> np.ndarray | None:
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


def _check_chunk(run: ImportRun, check: Any, chunk: Chunk, codes: list[str | None], numbers: list[str],
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
                else existing_codes(Resident, codes))
    for code in in_order(codes, existing):
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


def _write_residents(run: ImportRun, chunk: Chunk, ids: IdBlock, codes: list[Any], sexes: list[str],
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


def _taken_id_numbers(run: ImportRun, numbers: list[str], current: list[str]) -> set[str]:
    """Which of these (valid, normalised; '' for none) ID numbers a resident already holds, by their
    digests under every configured key (``current``: under the current key; rows not yet re-keyed still
    count)."""
    by_digest = {d: number for number, d in zip(numbers, current, strict=True) if number}
    for older in run.older:
        by_digest.update((older(number), number) for number in numbers if number)
    return {by_digest[d] for d in present(Resident, "id_number_digest", list(by_digest))}


def household_scores(facts: np.ndarray, income: list[str]) -> dict[str, np.ndarray]:
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
