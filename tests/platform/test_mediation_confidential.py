"""Mediation is confidential: the parties' names and phones are encrypted at rest, and only the case's
mediator and its community's director see the parties (and the dispute, the sessions and the agreement).
Every other role, grid members and the district included, sees no party data on the pages, in the API, in
the exports, and the audit log holds none. The follow-up visit becomes a work item when its time comes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.core.errors import Conflict, Forbidden, Invalid
from civicgrid.core.models import AuditLog
from civicgrid.core.plugins import work_for
from civicgrid.mediation import services
from civicgrid.mediation.models import MediationCase, Party
from civicgrid.registry.models import Place
from tests.platform.factories import user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
NAME_A, NAME_B = "欧阳调解甲", "司马调解乙"
PHONE_A, PHONE_B = "13900001234", "13800005678"
SUMMARY = "欧阳家与司马家因漏水赔偿发生争执"
SECRET_TEXTS = (NAME_A, NAME_B, PHONE_A, PHONE_B, "139****1234", "138****5678", SUMMARY, "赔偿两千元")


def _case(mediator_name: str | None = "grid", now=None) -> MediationCase:
    director = user("director")
    scope = scope_for(director)
    grid = Place.objects.get(pk=user("resident").role.household.grid_id)
    case = services.case_open(user=director, scope=scope, category="neighbour", place=grid, summary=SUMMARY,
                              mediator=user(mediator_name) if mediator_name else None, now=now)
    services.party_add(user=director, scope=scope, case=case, side="applicant", name=NAME_A, phone=PHONE_A)
    services.party_add(user=director, scope=scope, case=case, side="respondent", name=NAME_B, phone=PHONE_B)
    services.session_record(user=director, scope=scope, case=case, note=f"{NAME_A}要求赔偿两千元")
    services.agreement_record(user=director, scope=scope, case=case, text="司马家赔偿两千元", now=now)
    return case


def _get(username: str, url: str) -> tuple[int, str]:
    client = Client()
    client.force_login(user(username))
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, body.decode()


def test_names_and_phones_are_encrypted_at_rest() -> None:
    case = _case()
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, phone FROM mediation_party WHERE case_id = %s", [case.pk])
        stored = " ".join(v for row in cursor.fetchall() for v in row)
    assert NAME_A not in stored and PHONE_A not in stored
    assert sorted(Party.objects.filter(case=case).values_list("name", flat=True)) == sorted([NAME_A, NAME_B])


def test_only_the_mediator_and_the_director_see_the_parties() -> None:
    watched = _case(mediator_name=None)  # no mediator: only the director; the grid member sees it in their grid
    mediated = _case(mediator_name="grid")
    for username in ("director", "grid"):  # the director of the community; the mediator of `mediated`
        status, page = _get(username, f"/mediation/{mediated.pk}/")
        assert status == 200 and NAME_A in page and PHONE_B in page and SUMMARY in page, username
        detail = json.loads(_get(username, f"/api/mediation/cases/{mediated.pk}")[1])
        assert detail["confidential"] is False and {p["name"] for p in detail["parties"]} == {NAME_A, NAME_B}
    seen = [("grid", watched), ("district", watched), ("district", mediated)]
    for username, case in seen:
        for url in (f"/mediation/{case.pk}/", "/mediation/", f"/api/mediation/cases/{case.pk}", "/api/mediation/cases",
                    "/mediation/export.csv"):
            status, body = _get(username, url)
            assert status == 200, (username, url)
            assert not [t for t in SECRET_TEXTS if t in body], (username, url)
        assert case.code in _get(username, "/mediation/export.csv")[1]  # the case itself is listed
        detail = json.loads(_get(username, f"/api/mediation/cases/{case.pk}")[1])
        assert detail["confidential"] is True and detail["parties"] == [] and detail["summary"] == ""
    # roles without the resource at all
    for username in ("orgstaff", "volunteer", "resident"):
        assert _get(username, f"/mediation/{mediated.pk}/")[0] == 403
        assert _get(username, f"/api/mediation/cases/{mediated.pk}")[0] == 403


def test_others_may_not_act_and_the_audit_log_holds_no_party_data() -> None:
    case = _case(mediator_name=None)
    grid, district = user("grid"), user("district")
    for u in (grid, district):
        with pytest.raises(Forbidden):
            services.party_add(user=u, scope=scope_for(u), case=case, side="other", name="某人")
    rows = AuditLog.objects.filter(model="mediation.MediationCase", object_id=str(case.pk))
    assert {r.event for r in rows} >= {"mediation.opened", "mediation.party_added", "mediation.session_recorded",
                                       "mediation.agreement_recorded"}
    logged = json.dumps([[r.object_repr, r.old, r.new] for r in rows], ensure_ascii=False)
    assert not [t for t in SECRET_TEXTS if t in logged]
    for username in ("district", "director"):  # the audit page, and the registry's export
        status, page = _get(username, "/audit/?event=mediation.party_added")
        assert status == 200 and case.code in page and not [t for t in SECRET_TEXTS if t in page]
    client = Client()
    client.force_login(district)
    exported = client.post("/registry/export/", {"format": "zip"})
    assert exported.status_code == 200
    body = b"".join(exported.streaming_content) if exported.streaming else exported.content
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        text = "".join(archive.read(n).decode("utf-8-sig") for n in archive.namelist())
    assert not [t for t in SECRET_TEXTS if t in text]


def test_the_mediator_is_of_the_community_and_an_agreement_needs_two_parties() -> None:
    director = user("director")
    scope = scope_for(director)
    grid = Place.objects.get(pk=user("resident").role.household.grid_id)
    with pytest.raises(Invalid):
        services.case_open(user=director, scope=scope, category="neighbour", place=grid, summary="x",
                           mediator=user("volunteer"))
    with pytest.raises(Invalid):
        services.case_open(user=director, scope=scope, category="neighbour", place=grid, summary="x",
                           follow_up_days=0)
    case = services.case_open(user=director, scope=scope, category="family", place=grid, summary="x")
    with pytest.raises(Conflict):
        services.agreement_record(user=director, scope=scope, case=case, text="协议")


def test_the_follow_up_visit_becomes_a_work_item_when_its_time_comes() -> None:
    t0 = timezone.now() - timedelta(days=40)
    case = _case(mediator_name="grid", now=t0)
    assert case.follow_up_days == 30
    assert services.followups_mark_due(now=t0 + timedelta(days=29)) == []
    kinds = {i.kind for i in work_for(user=user("grid"), scope=scope_for(user("grid")))}
    assert "mediation.follow_up" not in kinds
    assert [c.pk for c in services.followups_mark_due(now=t0 + timedelta(days=30, minutes=1))] == [case.pk]
    for name in ("grid", "director"):
        items = work_for(user=user(name), scope=scope_for(user(name)))
        assert any(i.kind == "mediation.follow_up" and str(case.pk) in i.url for i in items), name
    assert not any(i.kind.startswith("mediation") for i in work_for(user=user("district"), scope=scope_for(user("district"))))
    director = user("director")
    services.followup_record(user=director, scope=scope_for(director), case=case, note="协议已履行")
    case.refresh_from_db()
    assert (case.state, case.follow_up_state) == ("closed", "done")
