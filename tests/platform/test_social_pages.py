"""The social app's pages and API as a user meets them: a refusal comes back with its reason next to its
field or as a message, nothing written; the API answers 400/403/404/409 with a ``detail``."""

from __future__ import annotations

import json

import pytest

from civicgrid.core.models import AuditLog
from civicgrid.social.models import Admission, Organisation
from tests.platform.relief_support import client_for
from tests.platform.social_support import (
    PUBLISHED,
    evidence,
    fresh_code,
    grid,
    hub_actor,
    in_force,
    registered,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_registering_with_a_wrong_check_character_shows_the_reason_on_the_field() -> None:
    client = client_for("director")
    bad = PUBLISHED[1][:-1] + ("A" if PUBLISHED[1][-1] != "A" else "B")
    before = AuditLog.objects.count()
    page = client.post("/organisations/register/", {"actor": hub_actor().pk, "credit_code": bad})
    assert page.status_code == 400
    assert "check character is wrong" in page.content.decode()
    assert not Organisation.objects.exists() and AuditLog.objects.count() == before
    page = client.post("/organisations/register/", {"actor": hub_actor().pk, "credit_code": fresh_code().lower()})
    assert page.status_code == 302  # lower case is the same code
    assert Organisation.objects.get().verification == "applied"


def test_verify_stage_and_admission_through_the_pages() -> None:
    organisation = registered(hub_actor())
    client = client_for("director")
    url = f"/organisations/{organisation.pk}/"
    from django.utils import timezone

    today = timezone.localdate().isoformat()
    client.post(url + "stage/", {"s-to_stage": "growing", "s-on": today, "s-reason": "early"})
    assert Organisation.objects.get(pk=organisation.pk).stage == "incubating"  # not verified: refused
    page = client.get(url)
    assert "Only a verified organisation" in page.content.decode()  # the reason, as a message
    client.post(url + "verification/", {"v-state": "verified", "v-reason": "papers checked"})
    evidence(organisation, rating=4, trainings=1)
    client.post(url + "stage/", {"s-to_stage": "growing", "s-on": today, "s-reason": "ready"})
    assert Organisation.objects.get(pk=organisation.pk).stage == "growing"
    emergency = in_force()
    staff = client_for("orgstaff")
    answer = staff.post(f"/organisations/admission/?emergency={emergency.pk}",
                        {"emergency": emergency.pk, "actor": hub_actor().pk, "grids": [grid().pk],
                         "service_kinds": ["delivery"]})
    assert answer.status_code == 302
    row = Admission.objects.get()
    assert staff.post(f"/organisations/admission/{row.pk}/decide/", {"decision": "admit"}).status_code == 403
    client.post(f"/organisations/admission/{row.pk}/decide/", {"decision": "refuse"})  # no reason: refused
    assert Admission.objects.get().status == "applied"
    client.post(f"/organisations/admission/{row.pk}/decide/", {"decision": "admit"})
    assert Admission.objects.get().status == "admitted"


def test_the_api_refuses_with_a_detail() -> None:
    organisation = registered(hub_actor(), verified=True)
    director = client_for("director")
    answer = director.post("/api/social/organisations", json.dumps({"actor_id": hub_actor().pk,
                                                                     "credit_code": fresh_code()}),
                           content_type="application/json")
    assert answer.status_code == 409 and "already in the register" in json.dumps(answer.json()["detail"])
    answer = director.post("/api/social/organisations", json.dumps({"actor_id": 987_654_321, "credit_code": "x"}),
                           content_type="application/json")
    assert answer.status_code == 400 and "credit_code" in answer.json()["detail"]
    answer = director.get(f"/api/social/organisations/{organisation.pk}")
    assert answer.status_code == 200 and answer.json()["verification"] == "verified"
    assert [h["to_state"] for h in answer.json()["verification_history"]] == ["verified", "applied"]
    staff = client_for("orgstaff")
    answer = staff.post(f"/api/social/organisations/{organisation.pk}/verification",
                        json.dumps({"state": "suspended", "reason": "mine"}), content_type="application/json")
    assert answer.status_code == 403 and answer.json()["detail"]
    emergency = in_force()
    answer = staff.post("/api/social/admissions", json.dumps({"emergency_id": emergency.pk, "actor_id": hub_actor().pk,
                                                              "grid_ids": [grid().pk], "service_kinds": ["delivery"]}),
                        content_type="application/json")
    assert answer.status_code == 200 and answer.json()[0]["status"] == "applied"
    decision = f"/api/social/admissions/{answer.json()[0]['id']}/decision"
    assert director.post(decision, json.dumps({"admit": True}), content_type="application/json").status_code == 200
    again = director.post(decision, json.dumps({"admit": False, "reason": "no"}), content_type="application/json")
    assert again.status_code == 409
    board = director.get("/api/social/board?kind=delivery").json()
    cell = next(c for c in board if c["grid_id"] == grid().pk)
    assert [o["actor_id"] for o in cell["organisations"]] == [hub_actor().pk]
