"""Column-wise clearing of a streamed registry import's rows (issue 15: a district of a million households).

A chunk of a table arrives as one list of cells per column. The functions here return, for each row, whether
the per-row checks of :mod:`civicgrid.registry.importer` would accept it **unchanged**: every value present
where required, in its normal form (``1990-01-02``, ``M``, ``0``/``1``, an ID number of 17 ASCII digits and its
GB 11643 check character, a phone without spaces), with no repeat of a code or ID number in the chunk or among
the rows before it. A cleared row is written as read, without a call per value.

Clearing may only err one way: a row it does not clear goes through the per-row checks, which decide and word
the report, so a value that is fine but written another way (``是``, ``m``, a full-width digit, a space) costs
time, never a different result. Hence the tests here are strictly narrower than the per-row rules (RE2's ``[0-9]``
where Python's ``\\d`` also takes other scripts' digits). ``tests/platform/test_import_fastcheck.py`` compares
the two paths on files with every kind of bad row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from civicgrid.engine import registry_format as fmt

Column = Sequence[str]

_ZERO, _NINE = ord("0"), ord("9")
_ID_WEIGHTS = np.array((7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2), dtype=np.int64)
_ID_CHECK = np.array([ord(c) for c in "10X98765432"], dtype=np.uint32)
# validation._PHONE with ASCII digits only (Python's \d also matches other scripts' digits: those rows go per row)
_PHONE = r"^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$"
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_GRADES = frozenset(("1", "2", "3", "4"))
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
FLAGS = ("lives_alone", "chronic_illness", "pregnant", "limited_mobility", "language_barrier", "mental_health_needs")
INCOME = ("normal", "low_income", "dibao", "tekun")


def lengths(column: Column) -> np.ndarray:
    return np.fromiter(map(len, column), dtype=np.int64, count=len(column))


def _chars(column: Column, width: int) -> np.ndarray:
    """The code points of each value as an (n, width) array (a longer value cut, a shorter one padded with 0):
    meaningful only where the value's length is ``width``, which the callers test."""
    if not len(column):
        return np.zeros((0, width), dtype=np.uint32)
    return np.array(column, dtype=f"<U{width}").view(np.uint32).reshape(len(column), width)


def _digits(chars: np.ndarray) -> np.ndarray:
    return np.asarray(((chars >= _ZERO) & (chars <= _NINE)).all(axis=1))


def _number(chars: np.ndarray) -> np.ndarray:
    out = np.zeros(len(chars), dtype=np.int64)
    for k in range(chars.shape[1]):
        out = out * 10 + (chars[:, k].astype(np.int64) - _ZERO)
    return out


def present(column: Column) -> np.ndarray:
    return lengths(column) > 0


def among(column: Column, allowed: frozenset[str] | tuple[str, ...]) -> np.ndarray:
    """Each value is one of ``allowed`` (one set test for the whole column when all are)."""
    if set(column) <= set(allowed):
        return np.ones(len(column), dtype=bool)
    allowed = frozenset(allowed)
    return np.fromiter((v in allowed for v in column), dtype=bool, count=len(column))


def dates(column: Column, *, today: date) -> tuple[np.ndarray, np.ndarray]:
    """(cleared, days since 1970-01-01): ``YYYY-MM-DD`` of a real day from 1900 to ``today``
    (validation.parse_date's rule)."""
    n = len(column)
    chars = _chars(column, 10)
    dash = (chars[:, 4] == ord("-")) & (chars[:, 7] == ord("-"))
    shape = (lengths(column) == 10) & dash & _digits(chars[:, [0, 1, 2, 3, 5, 6, 8, 9]])
    year, month, day = _number(chars[:, 0:4]), _number(chars[:, 5:7]), _number(chars[:, 8:10])
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    last = _DAYS_IN_MONTH[np.where(month_ok, month, 0)] + ((month == 2) & leap)
    key = year * 10_000 + month * 100 + day
    ok = (shape & month_ok & (day >= 1) & (day <= last) & (year >= 1900)
          & (key <= today.year * 10_000 + today.month * 100 + today.day))
    days = np.zeros(n, dtype=np.int64)
    if ok.any():
        days[ok] = np.array(np.asarray(column, dtype=object)[ok].tolist(), dtype="datetime64[D]").astype(np.int64)
    return ok, days


def id_numbers(column: Column, births: Column) -> np.ndarray:
    """Empty, or 17 ASCII digits and the right GB 11643-1999 check character (digit or upper-case X), whose birth
    date is the row's (``births`` already cleared by :func:`dates`: then the ID number's date is a real one)."""
    size = lengths(column)
    chars = _chars(column, 18)
    body = chars[:, :17]
    check = _ID_CHECK[(((body.astype(np.int64) - _ZERO) * _ID_WEIGHTS).sum(axis=1)) % 11]
    birth = _chars(births, 10)
    same_day = ((chars[:, 6:10] == birth[:, 0:4]).all(axis=1) & (chars[:, 10:12] == birth[:, 5:7]).all(axis=1)
                & (chars[:, 12:14] == birth[:, 8:10]).all(axis=1))
    valid = (size == 18) & _digits(body) & (chars[:, 17] == check) & same_day
    return (size == 0) | valid


def phones(column: Column) -> np.ndarray:
    """Empty, or a mobile or landline number as validation.validate_phone accepts it, without spaces."""
    if not len(column):
        return np.zeros(0, dtype=bool)
    matched = pc.match_substring_regex(pa.array(column, type=pa.string()), _PHONE).to_numpy(zero_copy_only=False)
    return (lengths(column) == 0) | matched


def grades(kinds: Column, column: Column) -> tuple[np.ndarray, list[int | None]]:
    """(cleared, grade): both empty, or a known kind with a grade 1-4 written as one digit."""
    kind_known = among(kinds, fmt.DISABILITY_KINDS)
    none = (lengths(kinds) == 0) & (lengths(column) == 0)
    digit = among(column, _GRADES)
    grade = [int(v) if v in _GRADES else None for v in column]
    return none | (kind_known & digit), grade


def unique_new(keys: Sequence[str], seen: Mapping[str, int], *, counted: np.ndarray) -> np.ndarray:
    """Rows whose key (where ``counted``) is neither repeated within ``keys`` nor in ``seen``."""
    picked = [k for k, c in zip(keys, counted.tolist(), strict=True) if c] if not counted.all() else list(keys)
    if len(set(picked)) == len(picked) and seen.keys().isdisjoint(picked):
        return np.ones(len(keys), dtype=bool)
    counts: dict[str, int] = {}
    for k in picked:
        counts[k] = counts.get(k, 0) + 1
    return np.fromiter(((not c) or (counts[k] == 1 and k not in seen)
                        for k, c in zip(keys, counted.tolist(), strict=True)), dtype=bool, count=len(keys))


def residents(cols: Mapping[str, list[str]], *, seen: Mapping[str, int], seen_ids: Mapping[str, int],
              today: date) -> tuple[np.ndarray, np.ndarray, list[int | None]]:
    """(cleared rows, birth days since 1970, disability grades) of a chunk of residents (choice labels decoded)."""
    ok = present(cols["code"]) & present(cols["name"])
    ok &= among(cols["sex"], fmt.SEXES) & among(cols["relation"], fmt.RELATIONS)
    born, days = dates(cols["birth_date"], today=today)
    ok &= born & id_numbers(cols["id_number"], cols["birth_date"]) & phones(cols["phone"])
    for flag in FLAGS:
        ok &= among(cols[flag], ("0", "1", ""))
    graded, grade = grades(cols["disability_kind"], cols["disability_grade"])
    ok &= graded
    ok &= unique_new(cols["code"], seen, counted=np.ones(len(ok), dtype=bool))
    ids = cols["id_number"]
    # a row not cleared may still hold a valid number once normalised (" 1101...x"): compare those forms too,
    # so that a repeat between a cleared row and another row is left to the per-row checks, in file order
    keys = [v if cleared else v.strip().upper() for v, cleared in zip(ids, ok.tolist(), strict=True)] \
        if not ok.all() else ids
    ok &= unique_new(keys, seen_ids, counted=lengths(keys) > 0)
    return ok, days, grade


def households(cols: Mapping[str, list[str]], *, seen: Mapping[str, int], levels: Mapping[str, str]) -> np.ndarray:
    """The cleared rows of a chunk of households (choice labels decoded)."""
    buildings = {code: levels.get(code) == "building" for code in set(cols["building_code"])}
    ok = np.fromiter(map(buildings.__getitem__, cols["building_code"]), dtype=bool, count=len(cols["code"]))
    ok &= present(cols["code"]) & present(cols["address"]) & among(cols["housing_type"], fmt.HOUSING_TYPES)
    ok &= among(cols["income_status"], (*INCOME, "")) & phones(cols["contact_phone"])
    ok &= unique_new(cols["code"], seen, counted=np.ones(len(ok), dtype=bool))
    return ok
