"""Imports land whole or not at all, with a report of every bad row."""

from __future__ import annotations

import csv
import hashlib
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

from civicgrid.core.importing import ImportRejected, read_tables
from civicgrid.core.models import AuditLog
from civicgrid.core.scoping import PLATFORM
from civicgrid.engine.registry_format import TABLES
from civicgrid.registry.models import Actor, Household, Person, Place, Post, Resident
from civicgrid.registry.services import registry_import
from civicgrid.registry.spreadsheet import COLUMN_LABELS

pytestmark = pytest.mark.django_db
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _id_with_area(id_number: str, area: str) -> str:
    """The same person re-registered in another area: new area code, check character recomputed
    (GB 11643-1999, written out here independently of the application)."""
    body = area + id_number[6:17]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def _new_community_tables(households: int = 4000) -> dict[str, list[dict[str, str]]]:
    """A generated registry that does not collide with the session's: new codes, new ID numbers."""
    from civicgrid.cli import community_rows
    from civicgrid.engine.synth import generate_community

    tables = community_rows(generate_community(households=households, seed=99, households_per_community=350))
    for row in tables["households"]:
        row["code"] = "N" + row["code"]
    for row in tables["residents"]:
        row["code"], row["household_code"] = "N" + row["code"], "N" + row["household_code"]
        row["id_number"] = _id_with_area(row["id_number"], "110101")
    for row in tables["actors"]:
        row["code"] = "N" + row["code"]
    for row in tables["people"]:
        row["code"] = "N" + row["code"]
        row["resident_code"] = "N" + row["resident_code"] if row["resident_code"] else ""
    for row in tables["posts"]:
        row["person_code"], row["actor_code"] = "N" + row["person_code"], "N" + row["actor_code"]
    return tables


def _fingerprint() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Place, Household, Resident, Actor, Person, Post, AuditLog))


@pytest.mark.usefixtures("english")  # the reasons are in the user's language
def test_ten_thousand_rows_with_a_few_bad_ones_are_rejected_whole() -> None:
    tables = _new_community_tables()
    residents = tables["residents"]
    assert len(residents) >= 10_000
    residents[3]["birth_date"] = "1990-02-30"  # spreadsheet row 5
    residents[10]["id_number"] = residents[20]["id_number"]  # row 12 duplicates row 22
    residents[20]["birth_date"] = residents[10]["birth_date"] = residents[20]["birth_date"]
    residents[500]["sex"] = "X"  # row 502
    tables["households"][7]["building_code"] = "D01-S01-C09-G99-B999"  # row 9: unknown building
    before = _fingerprint()
    with pytest.raises(ImportRejected) as caught:
        registry_import(user=None, scope=PLATFORM, tables=tables)
    found = {(e.table, e.row, e.column) for e in caught.value.errors}
    assert found == {
        ("residents", 5, "birth_date"),
        ("residents", 22, "id_number"),
        ("residents", 502, "sex"),
        ("households", 9, "building_code"),
    }, found
    duplicate = next(e for e in caught.value.errors if e.column == "id_number")
    assert "row 12" in duplicate.reason
    assert _fingerprint() == before


def test_a_clean_file_lands_whole_with_one_summarising_audit_event() -> None:
    tables = _new_community_tables(households=300)
    before = _fingerprint()
    places_before = set(Place.objects.values_list("pk", flat=True))
    counts = registry_import(user=None, scope=PLATFORM, tables=tables)
    after = _fingerprint()
    assert after[1] - before[1] == len(tables["households"]) == counts["households"]
    assert after[2] - before[2] == len(tables["residents"])
    # One summarising event (the bulk rule), with the counts and a digest of every new record's id.
    event = AuditLog.objects.filter(event="registry.imported").order_by("-id").first()
    assert event is not None and event.action == "bulk"
    assert event.new["households"] == len(tables["households"]) and event.new["residents"] == len(tables["residents"])
    new_ids = [f"Household:{pk}" for pk in Household.objects.filter(
        code__in=[r["code"] for r in tables["households"]]).values_list("pk", flat=True)]
    new_ids += [f"Resident:{pk}" for pk in Resident.objects.filter(
        code__in=[r["code"] for r in tables["residents"]]).values_list("pk", flat=True)]
    new_ids += [f"Place:{pk}" for pk in set(Place.objects.values_list("pk", flat=True)) - places_before]
    for table, model in (("actors", Actor), ("people", Person)):
        new_ids += [f"{model.__name__}:{pk}" for pk in model.objects.filter(
            code__in=[r["code"] for r in tables.get(table, [])]).values_list("pk", flat=True)]
    new_ids += [f"Post:{pk}" for pk in Post.objects.filter(
        person__code__in=[r["person_code"] for r in tables.get("posts", [])]).values_list("pk", flat=True)]
    digest = hashlib.sha256("\n".join(sorted(new_ids)).encode()).hexdigest()
    assert event.new["records"] == len(new_ids) and event.new["ids_sha256"] == digest
    # ... and no row per record
    assert not AuditLog.objects.filter(model="registry.Resident", object_repr__in=[
        r["name"] for r in tables["residents"]]).exists()
    # Every new household got a vulnerability score from the configured rule.
    assert not Household.objects.filter(code__startswith="N", vulnerability_rule="").exists()


@pytest.mark.usefixtures("english")  # the reasons are in the user's language
def test_wrong_column_and_unknown_table_are_reported(tmp_path: Path) -> None:
    (tmp_path / "households.csv").write_text("code,bulding_code,address,housing_type,income_status,contact_phone\n")
    (tmp_path / "pets.csv").write_text("name\nrex\n")
    with pytest.raises(ImportRejected) as caught:
        read_tables(tmp_path, expected=TABLES)
    reasons = {(e.table, e.column): e.reason for e in caught.value.errors}
    assert ("households", "building_code") in reasons and "missing" in reasons[("households", "building_code")]
    assert ("households", "bulding_code") in reasons
    assert any(e.table == "pets" for e in caught.value.errors)


def _zip(tables: dict[str, list[dict[str, str]]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, rows in tables.items():
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=list(TABLES[name]))
            writer.writeheader()
            writer.writerows(rows)
            archive.writestr(f"{name}.csv", out.getvalue())
    return buffer.getvalue()


def test_web_import_shows_the_report_and_writes_nothing() -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    tables = _new_community_tables(households=300)
    tables["residents"][0]["birth_date"] = "yesterday"
    client = Client()
    client.login(username="director", password="civicgrid-demo")
    before = _fingerprint()
    response = client.post("/registry/import/", {"file": SimpleUploadedFile("r.zip", _zip(tables))})
    assert response.status_code == 422
    body = response.content.decode()
    with translation.override("zh-hans"):  # the column by its name in the page's language (Chinese)
        column = str(COLUMN_LABELS["residents"]["birth_date"])
    assert "yesterday" in body and f">{column}<" in body
    assert _fingerprint() == before


def test_xlsx_import_reads_the_same_rows(tmp_path: Path) -> None:
    from civicgrid.core.exporting import write_xlsx

    tables = _new_community_tables(households=50)
    as_lists = {n: (TABLES[n], [[r[c] for c in TABLES[n]] for r in rows]) for n, rows in tables.items()}
    path = tmp_path / "registry.xlsx"
    path.write_bytes(write_xlsx(as_lists))
    read = read_tables(path, expected=TABLES)
    assert read == tables


def test_export_then_import_round_trips(tmp_path: Path) -> None:
    """What the CLI exports, a fresh database imports to the same export (identities in full)."""
    env_db = tmp_path / "fresh"
    first, second = tmp_path / "first", tmp_path / "second"
    run = lambda *a, var: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "civicgrid.cli", *a], capture_output=True, text=True, check=False,
        env={**__import__("os").environ, "CIVICGRID_VAR_DIR": str(var), "CIVICGRID_DATABASE_URL": ""})
    synth = run("synth", "--households", "400", "--seed", "5", "--out", str(tmp_path / "synth"), var=env_db)
    assert synth.returncode == 0, synth.stderr
    imported = run("import", str(tmp_path / "synth"), var=env_db)
    assert imported.returncode == 0, imported.stderr
    assert run("export", "--out", str(first), var=env_db).returncode == 0
    imported_again = run("import", str(first), var=tmp_path / "fresh2")
    assert imported_again.returncode == 0, imported_again.stderr
    assert run("export", "--out", str(second), var=tmp_path / "fresh2").returncode == 0
    for name in TABLES:
        assert (first / f"{name}.csv").read_text() == (second / f"{name}.csv").read_text(), name
    # and the first export holds what the generator wrote
    synth_households = (tmp_path / "synth" / "households.csv").read_text().splitlines()
    assert sorted(synth_households) == sorted((first / "households.csv").read_text().splitlines())


def test_cli_import_prints_every_bad_row(tmp_path: Path) -> None:
    out = tmp_path / "bad"
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "civicgrid.cli", *a], capture_output=True, text=True, check=False,
        env={**__import__("os").environ, "CIVICGRID_VAR_DIR": str(tmp_path / "var"), "CIVICGRID_DATABASE_URL": ""})
    assert run("synth", "--households", "100", "--seed", "3", "--out", str(out)).returncode == 0
    lines = (out / "residents.csv").read_text().splitlines()
    cells = lines[2].split(",")
    cells[4] = "2001-13-01"
    lines[2] = ",".join(cells)
    (out / "residents.csv").write_text("\n".join(lines) + "\n")
    result = run("import", str(out))
    assert result.returncode == 1
    assert "residents row 3, column 'birth_date', value '2001-13-01'" in result.stderr
    assert "nothing was written" in result.stderr


def test_an_import_longer_than_the_databases_parameter_limit_lands() -> None:
    """Issue 15: residents referencing more households than one SQL statement takes parameters (SQLite's
    limit, lowered here to 999 so a small file crosses it) used to fail with "too many SQL variables"."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the parameter limit lowered here is SQLite's own (PostgreSQL's is 65,535)")
    import sqlite3

    connection.ensure_connection()
    raw = connection.connection
    old = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    try:
        tables = _new_community_tables(households=1200)
        assert len({r["household_code"] for r in tables["residents"]}) > 999
        counts = registry_import(user=None, scope=PLATFORM, tables=tables)
    finally:
        raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, old)
    assert counts["households"] == 1200
    assert Resident.objects.filter(code__startswith="N").count() == len(tables["residents"])
