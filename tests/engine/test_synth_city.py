"""The chunked city writer (issue 15): the files do not depend on the chunk size, and they hold a valid
registry (unique codes and ID numbers across blocks, references that resolve)."""

from __future__ import annotations

import csv
from pathlib import Path

from civicgrid.engine.registry_format import TABLES
from civicgrid.engine.synth import write_city

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _rows(folder: Path, table: str) -> list[dict[str, str]]:
    with (folder / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_chunked_output_equals_unchunked(tmp_path: Path) -> None:
    small, whole = tmp_path / "small", tmp_path / "whole"
    a = write_city(small, households=2_600, seed=9, block_households=500, chunk_households=500)
    b = write_city(whole, households=2_600, seed=9, block_households=500, chunk_households=10**9)
    assert a == b
    for table in TABLES:
        assert (small / f"{table}.csv").read_bytes() == (whole / f"{table}.csv").read_bytes(), table
    other = write_city(tmp_path / "other", households=2_600, seed=10, block_households=500)
    assert (tmp_path / "other" / "residents.csv").read_bytes() != (whole / "residents.csv").read_bytes()
    assert other["households"] == 2_600


def test_the_city_is_a_valid_registry(tmp_path: Path) -> None:
    counts = write_city(tmp_path, households=3_000, seed=2, block_households=700, chunk_households=1_400)
    tables = {t: _rows(tmp_path, t) for t in TABLES}
    assert {t: len(rows) for t, rows in tables.items()} == counts
    assert list(tables["residents"][0]) == list(TABLES["residents"])
    for table in ("households", "residents", "actors", "people"):
        codes = [r["code"] for r in tables[table]]
        assert len(set(codes)) == len(codes), table
    ids = [r["id_number"] for r in tables["residents"]]
    assert len(set(ids)) == len(ids)  # unique across blocks
    for number in ids[:: 97]:  # GB 11643-1999 check character, written out here
        assert number[17] == "10X98765432"[sum(int(d) * w for d, w in zip(number[:17], ID_WEIGHTS, strict=True)) % 11]
    households = {r["code"] for r in tables["households"]}
    assert {r["household_code"] for r in tables["residents"]} == households  # every household has residents
    buildings = {r["code"] for r in tables["places"] if r["level"] == "building"}
    assert {r["building_code"] for r in tables["households"]} <= buildings
    residents = {r["code"] for r in tables["residents"]}
    assert {r["resident_code"] for r in tables["people"] if r["resident_code"]} <= residents
    people, actors = {r["code"] for r in tables["people"]}, {r["code"] for r in tables["actors"]}
    assert all(r["person_code"] in people and r["actor_code"] in actors for r in tables["posts"])
    heads = [r for r in tables["residents"] if r["relation"] == "head"]
    assert len(heads) == len(households)
