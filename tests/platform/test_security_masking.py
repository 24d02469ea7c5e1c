"""Issue 11, finding 3: a masked ID number must not be rebuildable from what the same role sees.

An attacker holding a role without identity clearance (the demo's district official) collects every
view of a resident: the API record, the registry export and the audit log. Knowing every region code
in the registry (more than an outsider would) and the GB 11643-1999 check character, they enumerate
the 18-character ID numbers consistent with all of it. Before the fix the mask kept the region's
first 3 characters and the last 4, and the full birth date sat beside it: the candidates came down
to one. Now they must stay many.

Also finding 13: the resident form does not confirm that an ID number exists outside the user's area.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, timedelta

import pytest
from django.test import Client

from civicgrid.accounts.roles import scope_for
from civicgrid.registry.models import Household, Resident

pytestmark = pytest.mark.django_db
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
SAMPLE = 25


def _check(first17: str) -> str:
    return CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def _client(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="civicgrid-demo")
    return client


def _birth_dates(seen: dict[str, set[str]], today: date) -> list[date]:
    """Birth dates consistent with every birth date / age the role was shown."""
    shown = {v for v in seen["birth_date"] if v and "*" not in v}
    if shown:
        return [date.fromisoformat(v) for v in shown]
    ages = {int(a) for a in seen["age"]}
    start, end = date(1900, 1, 1), today
    days = []
    d = start
    while d <= end:
        age = today.year - d.year - ((today.month, today.day) < (d.month, d.day))
        if not ages or age in ages:
            days.append(d)
        d += timedelta(days=1)
    return days


def _candidates(masks: set[str], sexes: set[str], births: list[date], regions: list[str]) -> set[str]:
    [mask] = masks  # every view shows the same mask
    assert len(mask) == 18
    out = set()
    for region in regions:
        for born in births:
            head = region + born.strftime("%Y%m%d")
            if any(m != "*" and m != c for m, c in zip(mask[:14], head, strict=True)):
                continue
            # positions 14-16: sequence digits (16 odd for men); 17: the check character
            options = [[mask[i]] if mask[i] != "*" else list("0123456789") for i in (14, 15, 16)]
            for a in options[0]:
                for b in options[1]:
                    for c in options[2]:
                        if sexes and (int(c) % 2 == 1) != ("M" in sexes):
                            continue
                        first17 = head + a + b + c
                        check = _check(first17)
                        if mask[17] in ("*", check):
                            out.add(first17 + check)
    return out


def test_masked_ids_cannot_be_rebuilt_from_what_a_role_without_clearance_sees(community) -> None:  # type: ignore[no-untyped-def]
    client = _client("district")  # the demo's role without identity clearance
    truth = community.residents.set_index("code")["id_number"].to_dict()
    regions = sorted({v[:6] for v in truth.values() if v})
    api_rows = client.get("/api/registry/residents").json()
    sample = [r for r in api_rows if r["id_number"]][:SAMPLE]
    assert len(sample) == SAMPLE
    seen: dict[str, dict[str, set[str]]] = {
        r["code"]: {"mask": {r["id_number"]}, "birth_date": {r["birth_date"]}, "age": {str(r["age"])} if "age" in r else set(),
                    "sex": {r["sex"]}} for r in sample}

    export = client.post("/registry/export/", {"format": "zip"})
    assert export.status_code == 200
    with zipfile.ZipFile(io.BytesIO(export.getvalue())) as archive:
        rows = csv.DictReader(io.StringIO(archive.read("residents.csv").decode("utf-8-sig")))
        for row in rows:
            if row["code"] in seen:
                seen[row["code"]]["mask"].add(row["id_number"])
                seen[row["code"]]["birth_date"].add(row["birth_date"])
    # an audited edit puts the resident's values in the log the same role reads
    director = Client()
    director.login(username="director", password="civicgrid-demo")
    first = Resident.objects.get(code=sample[0]["code"])
    from django.contrib.auth import get_user_model

    from civicgrid.registry import services

    services.resident_update(user=get_user_model().objects.get(username="director"), scope=scope_for(get_user_model().objects.get(username="director")), resident=first,
                             name=first.name + "·")
    services.resident_delete(user=get_user_model().objects.get(username="director"), scope=scope_for(get_user_model().objects.get(username="director")),
                             resident=Resident.objects.get(code=sample[1]["code"]))
    audit = client.get("/api/registry/audit").json()
    audited = set()
    for entry in audit:
        for values in (entry["old"], entry["new"]):
            if values and values.get("code") in seen:
                audited.add(values["code"])
                seen[values["code"]]["birth_date"].add(str(values.get("birth_date", "")))
                if values.get("id_number"):
                    seen[values["code"]]["mask"].add(values["id_number"])
    assert sample[1]["code"] in audited  # the deletion's audit row was read

    today = date.today()
    counts = []
    for code, views in seen.items():
        candidates = _candidates(views["mask"], views["sex"], _birth_dates(views, today), regions)
        assert truth[code] in candidates  # the enumeration is sound
        counts.append(len(candidates))
    print("candidates per resident:", sorted(counts), "regions:", len(regions))
    # one region code alone leaves ~33 candidates (366 days / 11 check characters)
    assert min(counts) >= 20 * len(regions) // 2, counts
    assert sorted(counts)[len(counts) // 2] >= 30 * len(regions), counts


def test_the_resident_form_does_not_confirm_an_id_number_outside_the_users_area(community) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    from civicgrid.accounts.roles import scope_for
    from civicgrid.core.scoping import scoped

    grid_user = get_user_model().objects.get(username="grid")
    scope = scope_for(grid_user)
    mine = scoped(Household.objects.all(), scope).order_by("pk").first()
    inside = scoped(Resident.objects.exclude(id_number_digest=""), scope).order_by("pk").first()
    outside = Resident.objects.exclude(id_number_digest="").exclude(
        pk__in=scoped(Resident.objects.all(), scope).values("pk")).order_by("pk").first()
    assert mine is not None and inside is not None and outside is not None
    client = _client("grid")

    def post(id_number: str, birth: date) -> str:
        response = client.post(f"/households/{mine.pk}/residents/add/", {
            "name": "测试", "sex": "F", "birth_date": birth.isoformat(), "relation": "other",
            "id_number": id_number, "phone": ""})
        assert response.status_code == 200  # the form again, with the error
        return response.content.decode()

    before = Resident.objects.count()
    elsewhere = post(outside.id_number, outside.birth_date)
    here = post(inside.id_number, inside.birth_date)
    assert Resident.objects.count() == before
    assert "already registered" in here or "已登记" in here  # in the user's own area: say so
    assert "already registered" not in elsewhere and "已登记" not in elsewhere
    assert "cannot be registered here" in elsewhere or "无法在此登记" in elsewhere


def test_the_file_sms_outbox_keeps_no_phone_or_text_in_plaintext(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import stat

    from civicgrid.alerts.channels import FileSmsGateway

    outbox = tmp_path / "sms" / "outbox.jsonl"
    gateway = FileSmsGateway(outbox)
    gateway.send(to="13812345678", text="今晚检修电梯，请走楼梯。")
    raw = outbox.read_text(encoding="utf-8")
    assert "13812345678" not in raw and "检修电梯" not in raw
    assert "138****5678" in raw  # enough for an operator to tell messages apart
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o600
    [message] = gateway.messages()
    assert (message["to"], message["text"]) == ("13812345678", "今晚检修电梯，请走楼梯。")


def test_an_id_change_the_mask_hides_is_still_audited() -> None:
    from django.contrib.auth import get_user_model

    from civicgrid.core.models import AuditLog
    from civicgrid.registry import services

    director = get_user_model().objects.get(username="director")
    resident = Resident.objects.exclude(id_number_digest="").filter(
        household__place_path__startswith=director.role.place.path).order_by("-pk").first()
    assert resident is not None
    old = resident.id_number
    # the same person registered in another region, same last 4 characters: the masks are equal
    new = next(area + old[6:17] + old[17] for area in (f"{n:06d}" for n in range(110101, 659999))
               if area != old[:6] and _check(area + old[6:17]) == old[17])
    assert new != old and new[-4:] == old[-4:]
    services.resident_update(user=director, scope=scope_for(director), resident=resident, id_number=new)
    row = AuditLog.objects.filter(model="registry.Resident", object_id=str(resident.pk), action="update").latest("id")
    assert "id_number" in row.new and row.new["id_number"] == "*" * 14 + old[-4:]
