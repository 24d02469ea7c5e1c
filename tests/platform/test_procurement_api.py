"""The procurement API: the same refusals as the services (400 unknown organisation, 403 unverified or a
reviewer's conflict, 409 a milestone paid twice or over the appropriation), nothing written; and the relief app's
``deliveries_done`` counter, which milestones name, against a plain count."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.core.plugins import deliverable
from civicgrid.procurement import services
from civicgrid.procurement.models import Application, Appropriation, Milestone, Payment, Score
from civicgrid.registry.models import Post
from civicgrid.relief import services as relief
from civicgrid.relief.models import DeliveryStop, DeliveryTask
from tests.platform.factories import user
from tests.platform.procurement_support import close, organisation, setup
from tests.platform.relief_support import client_for, grid_households, lockdown

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def _post(username: str, path: str, body: dict) -> tuple[int, dict]:  # type: ignore[type-arg]
    response = client_for(username).post(f"/api/procurement{path}", data=json.dumps(body),
                                          content_type="application/json")
    return response.status_code, response.json()


def _apply_body(s) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return {"organisation_id": s.org.actor_id, "amount_fen": 300_000, "proposal": "we deliver"}


def test_applying_through_the_api_refuses_unknown_and_unverified_organisations() -> None:
    s = setup()
    status, body = _post("orgstaff", f"/calls/{s.call.pk}/applications", {**_apply_body(s), "organisation_id": 987654})
    assert status == 400 and "unknown organisation" in json.dumps(body)
    organisation(s.org.actor, "suspended")
    status, body = _post("orgstaff", f"/calls/{s.call.pk}/applications", _apply_body(s))
    assert status == 403 and "verified" in body["detail"]
    assert not Application.objects.filter(call=s.call).exists()
    organisation(s.org.actor, "verified")
    status, body = _post("orgstaff", f"/calls/{s.call.pk}/applications", _apply_body(s))
    assert status == 201 and body["amount_fen"] == 300_000
    status, _ = _post("orgstaff", f"/calls/{s.call.pk}/applications", {**_apply_body(s), "amount_fen": 0})
    assert status == 400  # the schema's bound, before any service


def test_a_reviewers_conflict_is_a_403_with_its_reason() -> None:
    s = setup()
    application = services.application_submit(user=s.staff, scope=scope_for(s.staff), call_id=s.call.pk,
                                              **{k: v for k, v in _apply_body(s).items() if k != "organisation_id"},
                                              organisation_id=s.org.actor_id)
    grid = user("grid")
    services.reviewer_name(user=s.district, scope=scope_for(s.district), call_id=s.call.pk, reviewer_id=grid.pk)
    Post.objects.create(person=grid.role.person, actor=s.org.actor, role="volunteer")
    marks = {"capacity": 1, "plan": 1, "value": 1, "local": 1}
    status, body = _post("grid", f"/applications/{application.pk}/score", {"marks": marks})
    assert status == 403 and "Conflict of interest" in body["detail"]
    assert not Score.objects.exists()


def test_paying_twice_or_beyond_the_appropriation_is_a_409() -> None:
    s = setup()
    application = services.application_submit(user=s.staff, scope=scope_for(s.staff), call_id=s.call.pk,
                                              organisation_id=s.org.actor_id, amount_fen=300_000, proposal="p")
    close(s.call)
    today = timezone.localdate()
    contract = services.call_award(user=s.district, scope=scope_for(s.district), call_id=s.call.pk,
                                   application_id=application.pk, arbiter_id=s.district.pk,
                                   ends_on=today + timedelta(days=9),
                                   milestones=[services.MilestoneSpec("a", 50, today, "deliveries_done", 1),
                                               services.MilestoneSpec("b", 50, today, "deliveries_done", 1)])
    first, second = contract.milestones.order_by("number")
    status, body = _post("district", f"/milestones/{first.pk}/decide", {"accept": True})
    assert status == 400 and "0 of 1" in json.dumps(body)  # no deliveries yet: an override needs its reason
    for m in (first, second):
        status, body = _post("district", f"/milestones/{m.pk}/decide", {"accept": True, "reason": "on paper"})
        assert status == 200 and body["overridden"] is True
    assert _post("district", f"/milestones/{first.pk}/pay", {})[0] == 201
    status, body = _post("district", f"/milestones/{first.pk}/pay", {})
    assert status == 409 and "already paid" in body["detail"]
    Appropriation.objects.filter(pk=s.appropriation.pk).update(spent_fen=F("committed_fen") - 1)
    status, body = _post("district", f"/milestones/{second.pk}/pay", {})
    assert status == 409 and "exceed the appropriation" in body["detail"]
    assert Payment.objects.filter(milestone__contract=contract).count() == 1
    assert Milestone.objects.get(pk=second.pk).status == "accepted"
    assert _post("orgstaff", f"/milestones/{second.pk}/pay", {})[0] == 403


def test_deliveries_done_counts_delivered_stops_in_place_period_and_organisation() -> None:
    world = lockdown(households=grid_households("C01-G01", limit=12))
    district = user("district")
    relief.round_confirm(user=district, scope=scope_for(district), place_ids=[world.point.place_id],
                         item_codes=["t-food"], days=3, policy="equity", seed=1)
    org = user("orgstaff").role.actor
    tasks = list(DeliveryTask.objects.filter(place_path__startswith=world.point.place.path).order_by("id"))
    DeliveryTask.objects.filter(pk__in=[t.pk for t in tasks[::2]]).update(organisation=org)
    now = timezone.now()
    stops = list(DeliveryStop.objects.filter(task__in=tasks).order_by("id"))
    for i, stop in enumerate(stops):
        if i % 3:
            DeliveryStop.objects.filter(pk=stop.pk).update(status="delivered", delivered_at=now - timedelta(days=i))
    count = deliverable("deliveries_done").count  # type: ignore[union-attr]
    start, end = now - timedelta(days=5), now
    place = world.point.place.path
    plain = [s for s in DeliveryStop.objects.filter(pk__in=[s.pk for s in stops]).select_related("task")
             if s.status == "delivered" and start <= s.delivered_at <= end]
    assert count(place_path=place, start=start, end=end, actor_id=None) == len(plain) > 0
    assert count(place_path=place, start=start, end=end, actor_id=org.pk) == \
        len([s for s in plain if s.task.organisation_id == org.pk])
    assert count(place_path="ZZ/", start=start, end=end, actor_id=None) == 0
