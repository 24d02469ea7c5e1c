"""Mediation through its pages (a director opens a case, adds the parties, records a session and the
agreement, a party signs) and its demo year (deterministic, shaped by each community's growth profile)."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from civicgrid.mediation.models import MediationCase, Party
from civicgrid.registry.models import Place
from tests.platform.factories import user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_a_director_runs_a_mediation_through_the_pages() -> None:
    client = Client()
    client.force_login(user("director"))
    grid = Place.objects.get(pk=user("resident").role.household.grid_id)
    assert client.get("/mediation/new/").status_code == 200
    bad = client.post("/mediation/new/", {"category": "neighbour", "place": grid.pk, "summary": "", "follow_up_days": 30})
    assert bad.status_code == 200 and not MediationCase.objects.exists()
    response = client.post("/mediation/new/", {"category": "neighbour", "place": grid.pk, "summary": "漏水纠纷",
                                               "mediator": user("grid").pk, "follow_up_days": 30})
    case = MediationCase.objects.get()
    assert response.status_code == 302 and case.mediator == user("grid")
    act = f"/mediation/{case.pk}/act/"
    assert client.post(act, {"action": "agreement", "text": "协议"}).status_code == 409  # no parties yet
    for side, name in (("applicant", "甲方某"), ("respondent", "乙方某")):
        assert client.post(act, {"action": "party", "side": side, "name": name, "phone": "13700000000"}).status_code == 302
    assert client.post(act, {"action": "session", "note": "双方陈述"}).status_code == 302
    assert client.post(act, {"action": "agreement", "text": "乙方修复管道"}).status_code == 302
    party = Party.objects.filter(case=case).first()
    assert client.post(act, {"action": "sign", "party": party.pk}).status_code == 302
    assert client.post(act, {"action": "sign", "party": party.pk}).status_code == 409
    case.refresh_from_db()
    assert case.state == "agreed" and case.follow_up_state == "scheduled"
    page = client.get(f"/mediation/{case.pk}/").content.decode()
    assert "乙方修复管道" in page and "甲方某" in page


def test_the_demo_year_is_deterministic_and_follows_the_profiles() -> None:
    from civicgrid.engine.social_growth import growth_profiles
    from civicgrid.mediation.demo import demo_load

    def fingerprint() -> list[tuple]:
        return list(MediationCase.objects.order_by("code").values_list("code", "category", "opened_at", "state"))

    with transaction.atomic():
        demo_load(households=700, seed=3)
        first = fingerprint()
        transaction.set_rollback(True)
    demo_load(households=700, seed=3)
    assert fingerprint() == first and len(first) > 5
    assert demo_load(households=700, seed=3) == ["mediation: cases already present"]
    codes = sorted(Place.objects.filter(level="community").values_list("code", flat=True))
    assert [growth_profiles(codes)[c].style for c in codes[:2]] == ["hub", "fused"]
    assert Party.objects.filter(case__state__in=["agreed", "closed"], signed_at__isnull=True).count() == 0
