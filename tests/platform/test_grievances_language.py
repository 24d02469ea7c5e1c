"""The complaint and mediation pages with something on them (a paused and decided complaint, an upheld
appeal, a sensitive complaint, a mediation with parties and an agreement, a year of demo figures), opened by
each role that reaches them, wholly in Chinese and wholly in English: the language walker's own check
(tests/platform/test_language.py), on pages its walk from the menu would find empty."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.grievances import services as grievances
from civicgrid.grievances.demo import demo_load
from civicgrid.mediation import services as mediation
from civicgrid.registry.models import Person, Place
from tests.platform.factories import user
from tests.platform.test_language import LANGUAGES, _codes, _data_values, _walk

pytestmark = pytest.mark.django_db


def _world() -> list[str]:
    demo_load(households=700, seed=1)
    resident, grid, director, district = (user(n) for n in ("resident", "grid", "director", "district"))
    t0 = timezone.now() - timedelta(days=10)
    g = grievances.grievance_file(user=resident, scope=scope_for(resident), kind="decision", subject_ref="车位",
                                  description="意见", now=t0)
    grievances.grievance_act(user=grid, scope=scope_for(grid), grievance=g, action="pause",
                             reason="awaiting_complainant", note="等材料", now=t0 + timedelta(hours=1))
    grievances.grievance_act(user=grid, scope=scope_for(grid), grievance=g, action="resume", now=t0 + timedelta(days=1))
    grievances.grievance_act(user=grid, scope=scope_for(grid), grievance=g, action="close", note="已答复",
                             now=t0 + timedelta(days=2))
    appeal = grievances.grievance_appeal(user=resident, scope=scope_for(resident), grievance=g, reason="不服",
                                         now=t0 + timedelta(days=3))
    grievances.appeal_decide(user=director, scope=scope_for(director), appeal=appeal, outcome="upheld",
                             decision="重新办理", now=t0 + timedelta(days=4))
    answered = grievances.grievance_file(user=resident, scope=scope_for(resident), kind="other", subject_ref="公告栏",
                                         description="意见", now=t0)
    grievances.grievance_act(user=grid, scope=scope_for(grid), grievance=answered, action="close", note="已更新",
                             now=t0 + timedelta(days=1))
    person = Person.objects.get(pk=grid.role.person_id)
    sensitive = grievances.grievance_file(user=resident, scope=scope_for(resident), kind="grid_member",
                                          subject_ref=person.code, description="索要好处")
    place = Place.objects.get(pk=resident.role.household.grid_id)
    case = mediation.case_open(user=director, scope=scope_for(director), category="neighbour", place=place,
                               summary="漏水", mediator=grid)
    for side, name in (("applicant", "甲某"), ("respondent", "乙某")):
        mediation.party_add(user=director, scope=scope_for(director), case=case, side=side, name=name, phone="13700000000")
    mediation.session_record(user=director, scope=scope_for(director), case=case, note="陈述")
    mediation.agreement_record(user=director, scope=scope_for(director), case=case, text="修复")
    assert district
    return [f"/grievances/{g.pk}/", f"/grievances/{answered.pk}/", f"/grievances/{sensitive.pk}/",
            "/grievances/", "/grievances/new/", "/grievances/rates/", "/grievances/?state=closed",
            f"/mediation/{case.pk}/", "/mediation/", "/mediation/new/"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_complaint_and_mediation_pages_are_in_each_language(language: str) -> None:
    urls = _world()
    data, codes = _data_values(), _codes(language)
    opened_any = 0
    for name in ("resident", "grid", "director", "district"):
        client = Client(raise_request_exception=False)
        client.force_login(user(name))
        reachable = [u for u in urls if client.get(u).status_code == 200]
        opened, report = _walk(client, language, data, codes, urls=reachable)
        opened_any += len(opened)
        assert report == {}, (name, report)
    assert opened_any > 20
