"""Home isolation: registering, daily check-ins by the resident or the grid member, missed check-ins
flagged (with an injected 'today') and told to the grid member, needs filed, fevers reported."""

from __future__ import annotations

import io
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.management import call_command
from django.db.models import F
from django.test import Client
from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.alerts.models import Notice
from civicgrid.cases.models import Case
from civicgrid.core.models import AuditLog
from civicgrid.emergency import services
from civicgrid.emergency.models import CheckIn, Isolation, MissedCheckIn
from civicgrid.emergency.services import isolation as isolation_services
from civicgrid.emergency.services.common import grid_member_users
from civicgrid.registry.models import Resident
from tests.platform.factories import user

pytestmark = pytest.mark.django_db


@pytest.fixture
def isolated():
    resident = Resident.objects.filter(household=user("resident").role.household).first()
    start = timezone.localdate() - timedelta(days=3)
    return services.isolation_start(user=user("grid"), scope=scope_for(user("grid")), resident=resident, start_date=start,
                                    end_date=start + timedelta(days=13), reason="close contact")


def test_registering_is_checked(isolated) -> None:
    with pytest.raises(ValidationError):  # overlapping
        services.isolation_start(user=user("grid"), scope=scope_for(user("grid")), resident=isolated.resident, start_date=isolated.end_date,
                                 end_date=isolated.end_date + timedelta(days=2))
    with pytest.raises(ValidationError):
        services.isolation_start(user=user("grid"), scope=scope_for(user("grid")), resident=isolated.resident, start_date=date(2030, 1, 10),
                                 end_date=date(2030, 1, 1))
    outside = Resident.objects.exclude(household__grid=isolated.household.grid).first()
    with pytest.raises(ObjectDoesNotExist):
        services.isolation_start(user=user("grid"), scope=scope_for(user("grid")), resident=outside, start_date=date(2030, 1, 1),
                                 end_date=date(2030, 1, 14))
    with pytest.raises(PermissionDenied):  # residents check in; they do not register isolations
        services.isolation_start(user=user("resident"), scope=scope_for(user("resident")), resident=isolated.resident, start_date=date(2030, 1, 1),
                                 end_date=date(2030, 1, 14))
    assert AuditLog.objects.filter(model="emergency.Isolation", object_id=str(isolated.pk)).exists()


def test_checkins_by_resident_and_grid_member(isolated) -> None:
    today = timezone.localdate()
    own = services.checkin_record(user=user("resident"), scope=scope_for(user("resident")), isolation=isolated, day=today, temperature="36.6",
                                  symptoms=[])
    assert (own.temperature, own.for_resident) == (Decimal("36.6"), False)
    corrected = services.checkin_record(user=user("resident"), scope=scope_for(user("resident")), isolation=isolated, day=today, temperature=36.9)
    assert corrected.pk == own.pk and CheckIn.objects.filter(isolation=isolated).count() == 1
    by_member = services.checkin_record(user=user("grid"), scope=scope_for(user("grid")), isolation=isolated, day=today - timedelta(days=1),
                                        temperature="36.5")
    assert by_member.for_resident
    for bad in ("45", "warm", "33.9"):
        with pytest.raises(ValidationError) as refused:
            services.checkin_record(user=user("resident"), scope=scope_for(user("resident")), isolation=isolated, day=today, temperature=bad)
        assert "temperature" in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.checkin_record(user=user("resident"), scope=scope_for(user("resident")), isolation=isolated, day=today + timedelta(days=1),
                                temperature="36.5")
    with pytest.raises(ValidationError):
        services.checkin_record(user=user("resident"), scope=scope_for(user("resident")), isolation=isolated, day=today, temperature="36.5",
                                symptoms=["hiccups"])
    with pytest.raises(ObjectDoesNotExist):  # volunteers without this household
        services.checkin_record(user=user("volunteer"), scope=scope_for(user("volunteer")), isolation=isolated, day=today, temperature="36.5")


def test_fever_and_needs_reach_the_grid_member(isolated) -> None:
    today = timezone.localdate()
    checkin = services.checkin_record(user=user("resident"), scope=scope_for(user("resident")), isolation=isolated, day=today, temperature="38.2",
                                      symptoms=["cough", "fever"], needs="降压药快吃完了")
    assert Notice.objects.filter(user=user("grid"), source=f"isolation:{isolated.pk}:{today.isoformat()}:fever").exists()
    kind, ref = checkin.filed.split(":")
    case = Case.objects.get(pk=int(ref))
    assert kind == "case" and case.household == isolated.household and case.description == "降压药快吃完了"
    assert case.reporter == user("resident")


def test_missed_checkins_are_flagged_once_and_told(isolated) -> None:
    start = isolated.start_date
    services.checkin_record(user=user("resident"), scope=scope_for(user("resident")), isolation=isolated, day=start, temperature="36.5")
    today = start + timedelta(days=3)  # start+1 and start+2 were missed
    flagged = services.isolation_flag_missed(today=today)
    assert sorted(m.day for m in flagged if m.isolation_id == isolated.pk) == [start + timedelta(days=1),
                                                                               start + timedelta(days=2)]
    notice = Notice.objects.get(user=user("grid"), source=f"missed:{isolated.pk}:{(start + timedelta(days=2)).isoformat()}")
    assert notice.link == f"/emergency/isolation/{isolated.pk}/"
    assert not [m for m in services.isolation_flag_missed(today=today) if m.isolation_id == isolated.pk]
    # a late check-in settles the missed day
    services.checkin_record(user=user("grid"), scope=scope_for(user("grid")), isolation=isolated, day=start + timedelta(days=1), temperature="36.7")
    open_days = set(MissedCheckIn.objects.filter(isolation=isolated, resolved_at__isnull=True).values_list("day",
                                                                                                       flat=True))
    assert open_days == {start + timedelta(days=2)}
    out = io.StringIO()
    call_command("emergency_flag_missed", stdout=out)  # today, on the real clock: yesterday and before
    assert "missed check-in(s) flagged" in out.getvalue()
    # after the end no day is flagged beyond it
    later = services.isolation_flag_missed(today=isolated.end_date + timedelta(days=10))
    assert max(m.day for m in later if m.isolation_id == isolated.pk) == isolated.end_date


def _days_to_flag_by_reading_everything(today: date) -> set[tuple[int, date]]:
    """The reference: every isolation of the window read with all its check-ins and flags (the job's first
    version, which read 1 M rows a minute in a district lockdown), its unsettled days worked out one by one."""
    out = set()
    for iso in Isolation.objects.filter(start_date__lt=today, end_date__gte=today - timedelta(days=isolation_services.MAX_DAYS)):
        done = set(iso.checkins.values_list("day", flat=True)) | set(iso.missed.values_list("day", flat=True))
        last = min(iso.end_date, today - timedelta(days=1))
        out |= {(iso.pk, iso.start_date + timedelta(days=i)) for i in range((last - iso.start_date).days + 1)
                if iso.start_date + timedelta(days=i) not in done}
    return out


def test_the_job_flags_exactly_the_days_nobody_settled(monkeypatch) -> None:
    """Random isolations (begun before, today or later; ended long ago, lately or not yet), random check-ins
    (some on today, some on days flagged already) and flags: the job, counting settled days in the database,
    flags exactly the days the reference finds by reading everything, in batches, and a second run none."""
    rng = random.Random(7)
    today = timezone.localdate() + timedelta(days=3000)  # clear of every other isolation in the database
    now = timezone.now()
    residents = list(Resident.objects.select_related("household").order_by("id")[:41])
    for r in residents[:40]:
        start = today + timedelta(days=rng.randint(-80, 2))
        iso = Isolation.objects.create(resident=r, household=r.household, place_path=r.household.place_path,
                                       start_date=start, end_date=start + timedelta(days=rng.randint(0, 20)))
        span = (iso.end_date - start).days + 1
        checked = set(rng.sample(range(span), rng.randint(0, span)))
        for d in range(span):
            day = start + timedelta(days=d)
            if d in checked and day <= today:
                CheckIn.objects.create(isolation=iso, day=day, temperature="36.6", at=now)
            if day < today and rng.random() < 0.2:  # flagged already: then checked in late, or never
                MissedCheckIn.objects.create(isolation=iso, day=day, flagged_at=now)
    # and one whose check-in today must not stand for the day before it, which nobody checked in
    r = residents[40]
    iso = Isolation.objects.create(resident=r, household=r.household, place_path=r.household.place_path,
                                   start_date=today - timedelta(days=3), end_date=today + timedelta(days=5))
    for day in (today - timedelta(days=3), today - timedelta(days=2), today):
        CheckIn.objects.create(isolation=iso, day=day, temperature="36.6", at=now)
    expected = _days_to_flag_by_reading_everything(today)
    assert (iso.pk, today - timedelta(days=1)) in expected
    assert expected and len({pk for pk, _day in expected}) > 5  # the random world has work for the job
    monkeypatch.setattr(isolation_services, "MISSED_BATCH", 4)
    assert MissedCheckIn.objects.filter(isolation__start_date__gte=today - timedelta(days=80)).exclude(
        isolation__checkins__day=F("day")).exists()  # some days were flagged and never checked in
    flagged = services.isolation_flag_missed(today=today)
    assert sorted((m.isolation_id, m.day) for m in flagged) == sorted(expected)
    assert _days_to_flag_by_reading_everything(today) == set()
    assert isolation_services._unsettled(today) == []  # the count now finds every day settled
    assert services.isolation_flag_missed(today=today) == []
    # each flag audited; each isolation flagged told once to its grid members (last day flagged)
    assert AuditLog.objects.filter(event="emergency.checkin_missed",
                                   object_id__in=[str(m.pk) for m in flagged]).count() == len(flagged)
    last = {}
    for m in flagged:
        last[m.isolation_id] = max(last.get(m.isolation_id, m.day), m.day)
    members = {iso.pk: set(grid_member_users({iso.household.grid_id}).values_list("pk", flat=True))
               for iso in Isolation.objects.filter(pk__in=last).select_related("household")}
    told = set(Notice.objects.filter(source__startswith="missed:").values_list("user_id", "source"))
    assert told >= {(u, f"missed:{pk}:{day.isoformat()}") for pk, day in last.items() for u in members[pk]}
    assert any(members.values())


def test_isolation_pages(isolated) -> None:
    resident = Client(headers={"accept-language": "en"})
    resident.force_login(user("resident"))
    listing = resident.get("/emergency/isolation/").content.decode()
    assert isolated.resident.name in listing and 'id="isolation-form"' not in listing
    response = resident.post(f"/emergency/isolation/{isolated.pk}/", {
        "day": timezone.localdate().isoformat(), "temperature": "36.8", "symptoms": ["cough"], "needs": ""})
    assert response.status_code == 302
    bad = resident.post(f"/emergency/isolation/{isolated.pk}/", {"day": timezone.localdate().isoformat(),
                                                                 "temperature": "48"})
    assert bad.status_code == 400 and 'id="field-temperature"' in bad.content.decode()
    member = Client(headers={"accept-language": "en"})
    member.force_login(user("grid"))
    page = member.post("/emergency/isolation/", {"resident": "NOBODY", "start_date": "2030-01-01",
                                                 "end_date": "2030-01-14"})
    assert page.status_code == 400 and "No resident with this name, code" in page.content.decode()
    other = Resident.objects.filter(household__grid=isolated.household.grid).exclude(pk=isolated.resident_id).first()
    response = member.post("/emergency/isolation/", {"resident": other.code, "start_date": "2030-01-01",
                                                     "end_date": "2030-01-14"})
    assert response.status_code == 302
