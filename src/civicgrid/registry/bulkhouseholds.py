"""The households' pass of a registry import (:mod:`civicgrid.registry.bulkimport`): checked first, written last.

Every household row is checked a chunk at a time (:func:`check_households`) and the writable ones are kept in
a spool file; they are written (:func:`write_households`) once their vulnerability scores are known, which
needs their residents (:mod:`civicgrid.registry.bulkresidents`). Apart from the import's driver so that the
households' columns, checks and spool read at once.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterable, Mapping
from typing import IO

import numpy as np
from django.utils.translation import gettext as _

from civicgrid.core.bulk import IdBlock
from civicgrid.core.crypto import encrypt_many
from civicgrid.core.importing import RowError
from civicgrid.registry import fastcheck, importer
from civicgrid.registry.bulkrun import ImportRun, existing_codes, in_order
from civicgrid.registry.models import Household, Place

_HOUSEHOLD_COLUMNS = ["id", "code", "building_id", "grid_id", "place_path", "address", "housing_type",
                      "income_status", "contact_phone", "contact_phone_digest"]
_SCORE_COLUMNS = ["size", "vulnerability_score", "vulnerability_weight", "vulnerability_rule",
                  "vulnerability_summary"]
_STATUS = {"": "normal", **{code: code for code in fastcheck.INCOME}}


def check_households(run: ImportRun, tables: Mapping[str, Iterable[dict[str, str]]], levels: dict[str, str],
                     places: dict[str, Place]) -> tuple[IO[bytes], list[str]]:
    """Check every household row; keep the writable ones in a spool file (written once the scores are
    known). Returns the spool and each new household's income status (by its index).

    Rows are cleared column by column (:func:`fastcheck.households`); the others go through the importer's
    per-row checks, in file order, so the report is theirs."""
    check = importer._Checker("households", run.errors)  # noqa: SLF001
    seen: dict[str, int] = {}
    income: list[str] = []
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by write_households
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
        for code in in_order(codes, set() if run.first_load else existing_codes(Household, codes)):
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


def write_households(run: ImportRun, spool: IO[bytes], scores: dict[str, np.ndarray] | None) -> None:
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
