"""Home isolation: registering, daily check-ins by the resident or the grid member, missed check-ins
flagged (with an injected 'today') and told to the grid member, needs filed, fevers reported."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.alerts.models import Notice
from civicgrid.cases.models import Case
from civicgrid.core.models import AuditLog
from civicgrid.emergency import services
from civicgrid.emergency.models import CheckIn, MissedCheckIn
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
