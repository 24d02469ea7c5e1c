"""Issue 15: the registry import streamed from files, written with the database's bulk path, still all
or nothing with every bad row reported, one summarising audit event with counts and digests."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import random
from pathlib import Path

import numpy as np
import pytest
from cryptography.fernet import Fernet

from civicgrid.core.audit import grouped_ids_digest, ids_digest
from civicgrid.core.crypto import encrypt_many, field_keys
from civicgrid.core.importing import (
    ImportRejected,
    console_limits,
    limits,
    read_tables,
    stream_tables,
)
from civicgrid.core.models import AuditLog
from civicgrid.core.scoping import PLATFORM
from civicgrid.engine.registry_format import TABLES
from civicgrid.registry.models import Household, Resident
from civicgrid.registry.pinyin import _in_context, name_initials
from civicgrid.registry.services import household_vulnerability_refresh, registry_import
from tests.platform.test_import import _fingerprint, _new_community_tables

pytestmark = pytest.mark.django_db


def _write(folder: Path, tables: dict[str, list[dict[str, str]]], encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        with (folder / f"{name}.csv").open("w", encoding=encoding, newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(TABLES[name]))
            writer.writeheader()
            writer.writerows(rows)
    return folder


def _input_digest(tables: dict[str, list[dict[str, str]]]) -> str:
    """Independently: each table's name, then each row's cells tab-separated, in the import's order."""
    h = hashlib.sha256()
    for name in TABLES:
        h.update(f"\x1e{name}\n".encode())
        h.update("".join("\t".join(r[c] for c in TABLES[name]) + "\n" for r in tables.get(name, [])).encode())
    return h.hexdigest()


def test_a_streamed_folder_lands_whole_with_one_event(tmp_path: Path) -> None:
    tables = _new_community_tables(households=900)
    folder = _write(tmp_path / "files", tables)
    before = _fingerprint()
    counts = registry_import(user=None, scope=PLATFORM,
                             tables=stream_tables(folder, expected=TABLES, limits=console_limits()))
    after = _fingerprint()
    assert counts["households"] == after[1] - before[1] == 900
    assert counts["residents"] == after[2] - before[2] == len(tables["residents"])
    assert after[6] - before[6] == 1  # one audit row for the whole import
    event = AuditLog.objects.filter(event="registry.imported").order_by("-id").first()
    assert event is not None and event.action == "bulk"
    assert event.new["input_sha256"] == _input_digest(tables)
    new_ids = [f"Household:{pk}" for pk in Household.objects.filter(code__startswith="N").values_list("pk", flat=True)]
    new_ids += [f"Resident:{pk}" for pk in Resident.objects.filter(code__startswith="N").values_list("pk", flat=True)]
    assert event.new["records"] >= len(new_ids)
    # What the bulk path wrote reads back as the ORM reads it: decrypted, digested, initials, scores.
    sample = random.Random(3).sample(tables["residents"], 60)
    stored = {r.code: r for r in Resident.objects.filter(code__in=[s["code"] for s in sample])}
    for row in sample:
        resident = stored[row["code"]]
        assert (resident.id_number, resident.phone, resident.name) == (row["id_number"], row["phone"], row["name"])
        assert resident.name_initials == _in_context(row["name"])
        if row["id_number"]:
            from civicgrid.core.crypto import digest

            assert Resident.objects.get(id_number_digest=digest(row["id_number"])).code == row["code"]
    households = list(Household.objects.filter(code__startswith="N").order_by("code")[:40])
    written = {h.pk: (h.size, h.vulnerability_score, h.vulnerability_summary, h.vulnerability_rule) for h in households}
    household_vulnerability_refresh(household_ids=list(written))  # the services' own computation, from the rows
    again = {h.pk: (h.size, h.vulnerability_score, h.vulnerability_summary, h.vulnerability_rule)
             for h in Household.objects.filter(pk__in=list(written))}
    assert written == again
    phone = next(r for r in tables["households"] if r["contact_phone"])
    assert Household.objects.get(code=phone["code"]).contact_phone == phone["contact_phone"]


@pytest.mark.usefixtures("english")
def test_a_streamed_folder_with_bad_rows_writes_nothing_and_reports_them_all(tmp_path: Path) -> None:
    tables = _new_community_tables(households=900)
    residents = tables["residents"]
    residents[30]["birth_date"] = "1990-02-30"  # row 32
    residents[40]["id_number"] = residents[50]["id_number"]  # row 42 repeats row 52's number
    residents[40]["birth_date"] = residents[50]["birth_date"]
    residents[-1]["household_code"] = "NOWHERE"  # the last row
    tables["households"][-1]["housing_type"] = "castle"
    folder = _write(tmp_path / "bad", tables)
    before = _fingerprint()
    with pytest.raises(ImportRejected) as caught:
        registry_import(user=None, scope=PLATFORM, tables=stream_tables(folder, expected=TABLES, limits=console_limits()))
    found = {(e.table, e.row, e.column) for e in caught.value.errors}
    assert found == {("residents", 32, "birth_date"), ("residents", 52, "id_number"),
                     ("residents", len(residents) + 1, "household_code"),
                     ("households", len(tables["households"]) + 1, "housing_type")}, found
    assert "row 42" in next(e.reason for e in caught.value.errors if e.column == "id_number")
    assert _fingerprint() == before


def test_the_report_counts_every_bad_row_and_lists_the_first(tmp_path: Path) -> None:
    tables = _new_community_tables(households=600)
    for row in tables["residents"]:
        row["sex"] = "?"
    folder = _write(tmp_path / "all-bad", tables)
    with pytest.raises(ImportRejected) as caught:
        registry_import(user=None, scope=PLATFORM, tables=stream_tables(folder, expected=TABLES, limits=console_limits()))
    assert caught.value.total == len(tables["residents"])
    assert len(caught.value.errors) == limits()["errors"] < caught.value.total
    assert [e.row for e in caught.value.errors] == list(range(2, 2 + len(caught.value.errors)))


def test_streamed_gbk_and_utf16_files_read_as_utf8(tmp_path: Path) -> None:
    tables = _new_community_tables(households=120)
    plain = _write(tmp_path / "utf8", tables)
    # a file whose first 64 KB are ASCII and whose Chinese comes later: decided on the whole file
    late_rows = [dict(r) for r in _new_community_tables(households=2400)["households"]]
    for i, row in enumerate(late_rows[:-1]):
        row["address"] = f"Flat {i}"
    late = {"households": late_rows}
    expected = {t: list(rows) for t, rows in stream_tables(plain, expected=TABLES).items()}
    for encoding in ("gbk", "utf-16"):
        folder = _write(tmp_path / encoding, tables, encoding=encoding)
        assert {t: list(rows) for t, rows in stream_tables(folder, expected=TABLES).items()} == expected
    assert expected == read_tables(plain, expected=TABLES)
    folder = _write(tmp_path / "late", late, encoding="gbk")
    assert (folder / "households.csv").read_bytes()[: 64 * 1024].isascii()  # the test means something
    streamed = {t: list(rows) for t, rows in stream_tables(folder, expected=TABLES).items()}
    assert streamed["households"] == late_rows


def test_the_row_cap_still_holds_for_a_streamed_upload(tmp_path: Path) -> None:
    tables = _new_community_tables(households=300)
    folder = _write(tmp_path / "big", tables)
    before = _fingerprint()
    with pytest.raises(ImportRejected) as caught:
        registry_import(user=None, scope=PLATFORM,
                        tables=stream_tables(folder, expected=TABLES, limits={**console_limits(), "rows": 500}))
    assert caught.value.status == 413
    assert _fingerprint() == before


def test_encrypt_many_makes_fernet_tokens() -> None:
    values = ["", "x", "0" * 15, "0" * 16, "0" * 17, "110101199003077777", "13912345678", "张三丰" * 7,
              *(str(random.randint(10**10, 10**11)) for _ in range(500))]
    tokens = encrypt_many(values)
    fernet = Fernet(field_keys()[0].encode())  # cryptography's own Fernet, independent of the batch code
    assert [fernet.decrypt(t.encode()).decode() if t else "" for t in tokens] == values
    assert tokens[0] == "" and len(set(tokens[1:])) == len(tokens) - 1
    again = encrypt_many(values[5:6] * 2)
    assert again[0] != again[1]  # a fresh IV each time
    key = base64.urlsafe_b64decode(field_keys()[0])
    raw = base64.urlsafe_b64decode(tokens[5])
    assert raw[0] == 0x80 and hmac.compare_digest(raw[-32:], hmac.digest(key[:16], raw[:-32], "sha256"))


def test_the_grouped_digest_is_the_plain_digest() -> None:
    rng = np.random.default_rng(1)
    groups = {"Household": rng.choice(10**9, 3000, replace=False), "Resident": np.arange(1, 5000),
              "Place": np.array([1, 10, 100, 9, 99, 1000]), "Post": np.array([], dtype=np.int64)}
    ids = [f"{name}:{pk}" for name, pks in groups.items() for pk in pks.tolist()]
    assert grouped_ids_digest(groups) == (len(ids), ids_digest(ids))


def test_pinyin_initials_per_character_equal_pypinyin_in_context() -> None:
    from civicgrid.engine.synth import generate_community

    names = set(generate_community(households=3000, seed=5).residents["name"])
    names |= {"曾国藩", "单于", "长安", "重庆", "李 Amy", "解放军", "朝阳", "乐乐", "行长"}
    assert {n: name_initials(n) for n in names} == {n: _in_context.__wrapped__(n) for n in names}
