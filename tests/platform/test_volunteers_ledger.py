"""The hours ledger (append-only; hours typed by hand count after a second person's approval; every
confirmed delivery and sweep visit posted once) and the time bank (balanced, never overdrawn)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from civicgrid.core.errors import Conflict, Forbidden, Invalid
from civicgrid.core.models import AuditLog
from civicgrid.registry.models import Place
from civicgrid.relief import services as relief
from civicgrid.relief.models import DeliveryStop, DeliveryTask
from civicgrid.volunteers import selectors, services
from civicgrid.volunteers.models import HoursApproval, HoursEntry, TimeAccount, TimeTransfer
from tests.platform.relief_support import client_for, grid_households, lockdown
from tests.platform.volunteers_support import as_, register_volunteer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_hours_typed_by_hand_need_a_record_and_a_second_person() -> None:
    volunteer = register_volunteer()
    user, scope = as_("volunteer")
    today = timezone.localdate()
    before = (HoursEntry.objects.count(), AuditLog.objects.count())
    for bad in ({"note": ""}, {"hours": "0"}, {"hours": "25"}, {"hours": "abc"}, {"on": today + timedelta(days=1)}):
        args = {"hours": "2", "on": today, "note": "helped at the food bank", **bad}
        with pytest.raises(Invalid):
            services.hours_enter(user=user, scope=scope, volunteer_id=volunteer.pk, **args)
    assert (HoursEntry.objects.count(), AuditLog.objects.count()) == before  # nothing written
    entry = services.hours_enter(user=user, scope=scope, volunteer_id=volunteer.pk, hours="2.5", on=today,
                                 note="helped at the food bank")
    assert selectors.hours_total(volunteer) == 0  # not counted until approved
    # the volunteer may not approve their own hours (nor may whoever typed them)
    director, d_scope = as_("director")
    mine = services.hours_enter(user=director, scope=d_scope, volunteer_id=volunteer.pk, hours="1", on=today,
                                note="registration desk")
    with pytest.raises(Forbidden):
        services.hours_decide(user=director, scope=d_scope, entry_id=mine.pk, approved=True)
    with pytest.raises(Forbidden):
        services.hours_decide(user=user, scope=scope, entry_id=entry.pk, approved=True)
    with pytest.raises(Invalid):  # a rejection says why
        services.hours_decide(user=director, scope=d_scope, entry_id=entry.pk, approved=False)
    services.hours_decide(user=director, scope=d_scope, entry_id=entry.pk, approved=True)
    with pytest.raises(Conflict):
        services.hours_decide(user=director, scope=d_scope, entry_id=entry.pk, approved=False, reason="changed my mind")
    grid, g_scope = as_("grid")
    services.hours_decide(user=grid, scope=g_scope, entry_id=mine.pk, approved=False, reason="no such shift")
    assert selectors.hours_total(volunteer) == Decimal("2.5")
    assert [selectors.entry_state(e) for e in HoursEntry.objects.filter(volunteer=volunteer).order_by("id")] == \
        ["approved", "rejected"]


def test_the_ledger_is_append_only() -> None:
    volunteer = register_volunteer()
    user, scope = as_("volunteer")
    entry = services.hours_enter(user=user, scope=scope, volunteer_id=volunteer.pk, hours="1",
                                 on=timezone.localdate(), note="leaflets")
    entry.hours = Decimal("9")
    for act in (entry.save, entry.delete, lambda: HoursEntry.objects.filter(pk=entry.pk).update(hours=9),
                lambda: HoursEntry.objects.filter(pk=entry.pk).delete()):
        with pytest.raises(PermissionError):
            act()
    assert HoursEntry.objects.get(pk=entry.pk).hours == Decimal("1")
    with pytest.raises(PermissionError):
        TimeTransfer.objects.all().delete()
    with pytest.raises(PermissionError):
        HoursApproval.objects.all().update(approved=True)


def test_confirmed_deliveries_are_posted_once_by_the_job() -> None:
    volunteer = register_volunteer()
    lockdown(households=grid_households("C01-G01"), share=0.5)
    director, d_scope = as_("director")
    community = Place.objects.get(code__endswith="C01", level="community")
    relief.round_confirm(user=director, scope=d_scope, place_ids=[community.pk], item_codes=["t-food"], days=3,
                         policy="equity", seed=5)
    user, scope = as_("volunteer")
    task = DeliveryTask.objects.filter(place_path__startswith=community.path).order_by("id").first()
    relief.delivery_task_claim(user=user, scope=scope, task_id=task.pk)
    stops = list(DeliveryStop.objects.filter(task=task).order_by("id"))
    for stop in stops[:2]:
        user, scope = as_("volunteer")
        relief.delivery_stop_deliver(user=user, scope=scope, stop_id=stop.pk, code=stop.code)
    call_command("volunteers_post_hours")
    posted = HoursEntry.objects.filter(source="delivery", volunteer=volunteer)
    assert sorted(posted.values_list("source_id", flat=True)) == sorted(s.pk for s in stops[:2])
    call_command("volunteers_post_hours")  # idempotent
    assert posted.count() == 2
    assert selectors.hours_total(volunteer) == 2 * Decimal("0.50")
    # the volunteer's certificate page shows the counted hours
    page = client_for("volunteer").get(f"/volunteers/{volunteer.pk}/certificate/")
    assert page.status_code == 200 and b"1" in page.content and b"<svg" in page.content


def test_time_bank_transfers_balance_and_never_overdraw() -> None:
    volunteer = register_volunteer()
    director, scope = as_("director")
    grid_person = as_("grid")[0].role.person
    services.time_transfer(user=director, scope=scope, kind="earned", person_id=volunteer.person_id,
                           counterpart_id=None, minutes=90, note="care visit")
    services.time_transfer(user=director, scope=scope, kind="spent", person_id=volunteer.person_id,
                           counterpart_id=grid_person.pk, minutes=30, note="haircut")
    before = (TimeTransfer.objects.count(), list(TimeAccount.objects.values_list("pk", "balance")),
              AuditLog.objects.count())
    with pytest.raises(Conflict, match="Not enough credits"):
        services.time_transfer(user=director, scope=scope, kind="spent", person_id=volunteer.person_id,
                               counterpart_id=None, minutes=61, note="a long ride")
    with pytest.raises(Invalid):
        services.time_transfer(user=director, scope=scope, kind="spent", person_id=volunteer.person_id,
                               counterpart_id=volunteer.person_id, minutes=1, note="self")
    assert (TimeTransfer.objects.count(), list(TimeAccount.objects.values_list("pk", "balance")),
            AuditLog.objects.count()) == before
    mine = TimeAccount.objects.get(person_id=volunteer.person_id)
    assert mine.balance == 60
    # balanced: every balance is what came in minus what went out, and all balances sum to zero
    for account in TimeAccount.objects.all():
        came = account.incoming.aggregate(s=Sum("minutes"))["s"] or 0
        went = account.outgoing.aggregate(s=Sum("minutes"))["s"] or 0
        assert account.balance == came - went
    assert TimeAccount.objects.aggregate(s=Sum("balance"))["s"] == 0
    # the database refuses a negative personal balance too
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        TimeAccount.objects.filter(pk=mine.pk).update(balance=-1)


def test_sweep_visits_reached_by_a_volunteer_are_posted() -> None:
    from civicgrid.emergency import services as emergency
    from civicgrid.emergency.models import PlanTemplate, SweepVisit

    volunteer = register_volunteer()
    district, scope = as_("district")
    community = Place.objects.get(code__endswith="C01", level="community")
    plan = PlanTemplate.objects.order_by("id").first()
    e = emergency.emergency_activate(user=district, scope=scope, community=community, plan=plan).emergency
    emergency.sweep_start(user=district, scope=scope, emergency=e)
    visits = list(SweepVisit.objects.filter(sweep__emergency=e).order_by("id")[:3])
    me = as_("volunteer")[0]
    # two reached by the volunteer, one not at home: only confirmed visits earn hours
    for visit, state in zip(visits, ("safe", "needs_help", "not_home"), strict=True):
        SweepVisit.objects.filter(pk=visit.pk).update(state=state, visited_by=me, visited_at=timezone.now())
    assert services.hours_post_confirmed() == 2
    assert services.hours_post_confirmed() == 0
    assert sorted(HoursEntry.objects.filter(source="sweep", volunteer=volunteer).values_list("source_id", flat=True)) \
        == sorted(v.pk for v in visits[:2])


def test_the_api_lists_claims_records_and_decides() -> None:
    import json

    from tests.platform.volunteers_support import care_course, open_visit

    volunteer = register_volunteer()
    course = care_course()
    visit = open_visit()
    client = client_for("volunteer")
    listed = client.get("/api/volunteers/visits").json()
    assert visit.pk in [v["id"] for v in listed["claimable"]]
    refused = client.post(f"/api/volunteers/visits/{visit.pk}/claim")
    assert refused.status_code == 403 and "course" in json.dumps(refused.json())
    director, scope = as_("director")
    services.certificate_grant(user=director, scope=scope, volunteer_id=volunteer.pk, course_id=course.pk)
    assert client.post(f"/api/volunteers/visits/{visit.pk}/claim").json()["status"] == "claimed"
    done = client.post(f"/api/volunteers/visits/{visit.pk}/record", {"outcome": "well", "minutes": 60},
                       content_type="application/json")
    assert done.status_code == 200 and done.json()["status"] == "done"
    typed = client.post("/api/volunteers/hours", {"volunteer_id": volunteer.pk, "hours": "1.5",
                                                  "on": timezone.localdate().isoformat(), "note": "drill"},
                        content_type="application/json")
    assert typed.status_code == 201 and typed.json()["state"] == "waiting for approval"
    no_record = client.post("/api/volunteers/hours", {"volunteer_id": volunteer.pk, "hours": "1",
                                                      "on": timezone.localdate().isoformat(), "note": ""},
                            content_type="application/json")
    assert no_record.status_code == 400
    assert client.post(f"/api/volunteers/hours/{typed.json()['id']}/decide", {"approved": True},
                       content_type="application/json").status_code == 403  # not a coordinator
    decided = client_for("director").post(f"/api/volunteers/hours/{typed.json()['id']}/decide", {"approved": True},
                                          content_type="application/json")
    assert decided.status_code == 200 and decided.json()["state"] == "approved"
    mine = client.get("/api/volunteers/hours").json()
    assert sum(Decimal(e["hours"]) for e in mine if e["state"] != "waiting for approval") == Decimal("2.5")
    coverage = client_for("grid").get("/api/volunteers/coverage").json()
    assert coverage and {"grid", "vulnerable", "with_helper"} <= set(coverage[0])
