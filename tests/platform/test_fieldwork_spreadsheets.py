"""Issue 10 §5, spreadsheets: a template with headers in the user's language, Chinese value labels
accepted wherever codes are, an import that updates (new / changed / unchanged, previewed, then
applied whole), and an XLSX export in the user's language."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from civicgrid.accounts.roles import scope_for
from civicgrid.core.exporting import write_xlsx
from civicgrid.core.importing import ImportRejected
from civicgrid.core.models import AuditLog
from civicgrid.engine.registry_format import TABLES
from civicgrid.registry import selectors
from civicgrid.registry.models import Household, Resident
from civicgrid.registry.services import registry_import, registry_import_plan
from tests.platform.factories import user

pytestmark = pytest.mark.django_db


def _client(name: str, language: str = "zh-hans") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    assert client.login(username=name, password="civicgrid-demo")
    client.cookies["django_language"] = language
    return client


def _sheets(content: bytes) -> dict[str, list[list[Any]]]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def _director_tables() -> dict[str, list[dict[str, str]]]:
    """The director's area in the exchange format, as plain rows (what a monthly roster starts from)."""
    scope = scope_for(user("director"))
    return {t: [{c: "" if v is None else str(v) for c, v in zip(header, row, strict=True)} for row in rows]
            for t, (header, rows) in selectors.registry_tables(scope=scope).items()}


def _hand_diff(before: dict[str, list[dict[str, str]]], after: dict[str, list[dict[str, str]]],
               table: str) -> dict[str, int]:
    """New / changed / unchanged rows of one table by code, compared as text: the test's own truth."""
    old = {r["code"]: r for r in before[table]}
    out = {"new": 0, "changed": 0, "unchanged": 0}
    for row in after[table]:
        if row["code"] not in old:
            out["new"] += 1
        elif row != old[row["code"]]:
            out["changed"] += 1
        else:
            out["unchanged"] += 1
    return out


def test_template_has_chinese_headers_and_english_in_english_mode() -> None:
    zh = _sheets(_client("director").get("/registry/import/template.xlsx").content)
    assert set(zh) == {"地点", "住户", "居民", "治理主体", "人员", "岗位"}
    assert zh["住户"][0] == ["户编码", "楼栋编码", "地址", "住房类型", "收入状况", "联系电话"]
    assert zh["居民"][0][:6] == ["居民编码", "户编码", "姓名", "性别", "出生日期", "与户主关系"]
    en = _sheets(_client("director", "en").get("/registry/import/template.xlsx").content)
    assert en["Households"][0] == ["Household code", "Building code", "Address", "Housing type", "Income status",
                                   "Contact phone"]
    assert not any(re.search(r"[a-z]_[a-z]", str(h)) for sheet in (*zh.values(), *en.values()) for h in sheet[0])
    assert _client("grid").get("/registry/import/template.xlsx").status_code == 403


def test_chinese_headers_and_value_labels_are_read_as_codes() -> None:
    tables = _director_tables()
    building = next(p for p in tables["places"] if p["level"] == "building")["code"]
    zh_rows = {
        "住户": (["户编码", "楼栋编码", "地址", "住房类型", "收入状况", "联系电话"],
               [["ZH-H1", building, "幸福路1号", "商品房", "低保", ""],
                ["ZH-H2", building, "幸福路2号", "公租房", "特困", ""]]),
        "居民": (["居民编码", "户编码", "姓名", "性别", "出生日期", "与户主关系", "身份证号", "电话", "独居",
                "残疾类别", "残疾等级（1-4级）", "慢性病", "孕期", "行动不便", "语言障碍", "心理健康需求"],
               [["ZH-R1", "ZH-H1", "王小明", "男", "1950-03-01", "户主", "", "", "是", "", "", "否", "否", "否",
                 "否", "否"],
                ["ZH-R2", "ZH-H1", "李红", "女", "1952-07-09", "配偶", "", "", "否", "肢体", "2", "是", "否", "否",
                 "否", "否"]]),
    }
    from civicgrid.core.importing import read_tables
    from civicgrid.registry import spreadsheet

    aliases, columns = spreadsheet.header_aliases()
    tables_read = read_tables(io.BytesIO(write_xlsx(zh_rows)), filename="roster.xlsx", expected=TABLES,
                              table_aliases=aliases, column_aliases=columns)
    registry_import(user=user("director"), scope=scope_for(user("director")), tables=tables_read, update=True)
    h1, h2 = Household.objects.get(code="ZH-H1"), Household.objects.get(code="ZH-H2")
    assert (h1.housing_type, h1.income_status) == ("commodity", "dibao")
    assert (h2.housing_type, h2.income_status) == ("public_rental", "tekun")
    r1, r2 = Resident.objects.get(code="ZH-R1"), Resident.objects.get(code="ZH-R2")
    assert (r1.sex, r1.relation, r1.lives_alone) == ("M", "head", True)
    assert (r2.sex, r2.relation, r2.disability_kind, r2.disability_grade) == ("F", "spouse", "physical", 2)


def test_an_unknown_label_is_reported_on_its_row() -> None:
    tables = _director_tables()
    resident = dict(tables["residents"][0], sex="未知")
    with pytest.raises(ImportRejected) as caught:
        registry_import_plan(scope=scope_for(user("director")), tables={"residents": [resident]})
    assert [(e.table, e.row, e.column) for e in caught.value.errors] == [("residents", 2, "sex")]


def test_update_import_counts_match_a_hand_diff_and_apply_whole() -> None:
    before = _director_tables()
    after = {t: [dict(r) for r in rows] for t, rows in before.items()}
    households, residents = after["households"], after["residents"]
    households[0]["address"] += " 2单元"
    households[1]["income_status"] = "dibao" if households[1]["income_status"] != "dibao" else "normal"
    households[2]["housing_type"] = "公租房" if households[2]["housing_type"] != "public_rental" else "商品房"
    residents[0]["name"] = "周新名"
    residents[5]["phone"] = "13912345678"
    building = households[0]["building_code"]
    households.append({"code": "NEW-H1", "building_code": building, "address": "新楼1号", "housing_type": "commodity",
                       "income_status": "normal", "contact_phone": ""})
    residents.append(dict(residents[0], code="NEW-R1", household_code="NEW-H1", name="赵新", id_number="",
                          phone="", relation="head"))
    expected = {t: _hand_diff(before, after, t) for t in ("households", "residents")}
    # the label 公租房 is the code public_rental: the hand diff counts it changed, as the importer must
    assert expected["households"] == {"new": 1, "changed": 3, "unchanged": len(before["households"]) - 3}

    director = user("director")
    plan = registry_import_plan(scope=scope_for(director), tables={t: [dict(r) for r in rows] for t, rows in after.items()})
    for table in ("households", "residents"):
        assert plan[table].counts() == expected[table], table
    assert {c.record.code: sorted(c.fields) for c in plan["households"].changed} == {
        households[0]["code"]: ["address"], households[1]["code"]: ["income_status"],
        households[2]["code"]: ["housing_type"]}
    assert plan["places"].counts()["new"] == plan["places"].counts()["changed"] == 0

    audit_before = AuditLog.objects.count()
    result = registry_import(user=director, scope=scope_for(director), tables=after, update=True)
    assert result["households"] == expected["households"]
    assert AuditLog.objects.count() == audit_before + 1
    event = AuditLog.objects.latest("id")
    assert event.event == "registry.imported" and event.new["households"] == expected["households"]
    assert Household.objects.get(code=households[0]["code"]).address.endswith("2单元")
    renamed = Resident.objects.get(code=residents[0]["code"])
    assert renamed.name == "周新名" and renamed.name_initials == "zxm"
    assert Resident.objects.get(code=residents[5]["code"]).phone == "13912345678"
    assert Resident.objects.get(code="NEW-R1").household.code == "NEW-H1"
    again = registry_import_plan(scope=scope_for(director), tables=_director_tables())
    assert all(tp.counts()["new"] == tp.counts()["changed"] == 0 for tp in again.values())


@pytest.mark.usefixtures("english")
def test_update_outside_the_area_is_refused_and_nothing_written() -> None:
    director = user("director")
    inside = scope_for(director).area_paths
    foreign = Household.objects.exclude(place_path__startswith=tuple(inside)[0]).select_related("building").first()
    assert foreign is not None
    row = {"code": foreign.code, "building_code": foreign.building.code, "address": "改了", "housing_type": "commodity",
           "income_status": "normal", "contact_phone": ""}
    with pytest.raises(ImportRejected) as caught:
        registry_import(user=director, scope=scope_for(director), tables={"households": [row]}, update=True)
    assert {e.reason for e in caught.value.errors} == {"outside your area"}
    assert Household.objects.get(pk=foreign.pk).address == foreign.address


def test_preview_then_apply_through_the_page() -> None:
    before = _director_tables()
    before["households"][0]["address"] += " 东门"
    client = _client("director", "en")
    book = io.BytesIO(write_xlsx({t: (TABLES[t], [[r[c] for c in TABLES[t]] for r in rows])
                                  for t, rows in before.items()}))
    book.name = "roster.xlsx"
    audit_before = AuditLog.objects.count()
    page = client.post("/registry/import/", {"file": book})
    assert page.status_code == 200, page.content[:2000]
    html = page.content.decode()
    assert 'id="import-preview"' in html and "东门" in html
    assert AuditLog.objects.count() == audit_before  # a preview writes nothing
    token = re.search(r'name="token" value="([0-9a-f]+)"', html).group(1)  # type: ignore[union-attr]
    plan = re.search(r'name="plan" value="([0-9a-f]+)"', html).group(1)  # type: ignore[union-attr]
    other = _client("district", "en").post("/registry/import/", {"apply": "1", "token": token, "plan": plan})
    assert other.status_code == 409  # someone else's staged file is not theirs to apply
    done = client.post("/registry/import/", {"apply": "1", "token": token, "plan": plan})
    assert done.status_code == 200 and 'id="import-applied"' in done.content.decode()
    assert Household.objects.get(code=before["households"][0]["code"]).address.endswith("东门")
    assert AuditLog.objects.count() == audit_before + 1
    assert client.post("/registry/import/", {"apply": "1", "token": token, "plan": plan}).status_code == 409


def test_xlsx_export_in_chinese_round_trips_unchanged() -> None:
    content = _client("director").post("/registry/export/", {"format": "xlsx", "confirm_unmasked": "on"}).getvalue()
    sheets = _sheets(content)
    assert sheets["住户"][0][:3] == ["户编码", "楼栋编码", "地址"]
    values = {row[3] for row in sheets["住户"][1:]}
    assert values <= {"商品房", "老旧小区", "安置房", "公租房", "自建房"}
    assert {row[3] for row in sheets["居民"][1:]} <= {"男", "女"}
    from civicgrid.core.importing import read_tables
    from civicgrid.registry import spreadsheet

    aliases, columns = spreadsheet.header_aliases()
    with translation.override("zh-hans"):
        tables = read_tables(io.BytesIO(content), filename="x.xlsx", expected=TABLES, table_aliases=aliases,
                             column_aliases=columns)
    plan = registry_import_plan(scope=scope_for(user("director")), tables=tables)
    assert {t: (tp.counts()["new"], tp.counts()["changed"]) for t, tp in plan.items()} == {t: (0, 0) for t in TABLES}


def test_export_page_says_whether_identities_are_masked() -> None:
    from civicgrid.accounts.models import Role

    Role.objects.filter(user__username="grid").update(identity_clearance=False)
    client = _client("grid", "en")
    grid = client.get("/registry/export/").content.decode()
    assert re.search(r'id="export-masking">[^<]*masked', grid)
    masked = _sheets(client.post("/registry/export/", {"format": "xlsx"}).getvalue())
    ids = [row[6] for row in masked["Residents"][1:] if row[6]]
    assert ids and all(str(i).startswith("*" * 14) for i in ids)
    director = _client("director", "en").get("/registry/export/").content.decode()
    assert re.search(r'id="export-masking">[^<]*in full', director)
