"""Issue 10 §5, privacy by need: a volunteer sees what a delivery needs (the name to ask for, the address,
a way to call that is logged and ends with the task), never income status or health."""

from __future__ import annotations

import pytest
from django.utils import timezone

from civicgrid.core.errors import Forbidden
from civicgrid.core.models import AuditLog
from civicgrid.registry.models import Place, Resident
from civicgrid.relief import services
from civicgrid.relief.models import AllocationRound, DeliveryTask
from tests.platform.relief_support import World, client_for, grid_households, lockdown, login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def claimed() -> tuple[DeliveryTask, World]:
    households = grid_households("C01-G01")
    world = lockdown(households=households, share=1.0)
    user, scope = login("director")
    community = Place.objects.get(code__endswith="C01", level="community")
    round_: AllocationRound = services.round_confirm(user=user, scope=scope, place_ids=[community.pk],
                                                     item_codes=["t-food", "t-water"], days=3, policy="equity", seed=5)
    volunteer, vscope = login("volunteer")
    task = DeliveryTask.objects.filter(round=round_).order_by("id").first()
    assert task is not None
    services.delivery_task_claim(user=volunteer, scope=vscope, task_id=task.pk)
    return task, world


def _head(household_id: int) -> str:
    residents = list(Resident.objects.filter(household_id=household_id).order_by("id"))
    heads = [r for r in residents if r.relation == "head"]
    return (heads or residents)[0].name


def test_the_task_shows_name_address_and_a_logged_call_while_claimed(claimed) -> None:
    task, _ = claimed
    client = client_for("volunteer")
    page = client.get(f"/relief/tasks/{task.pk}/").content.decode()
    stop = task.stops.select_related("household").order_by("household__code").first()
    assert _head(stop.household_id) in page and stop.household.address in page
    assert f"/relief/tasks/{task.pk}/stops/{stop.pk}/call/" in page
    assert client.get(f"/relief/tasks/{task.pk}/stops/{stop.pk}/call/").status_code == 405  # no call on a GET
    # a household without any phone answers with a message; give this one a phone
    stop.household.contact_phone = "13800001234"
    stop.household.save()
    before = AuditLog.objects.filter(event="relief.stop_called").count()
    call = client.post(f"/relief/tasks/{task.pk}/stops/{stop.pk}/call/")
    assert call.status_code == 200 and 'href="tel:13800001234"' in call.content.decode()
    logged = AuditLog.objects.filter(event="relief.stop_called").order_by("-id")
    assert logged.count() == before + 1
    entry = logged.first()
    assert entry.user.username == "volunteer" and entry.new["household"] == stop.household.code
    assert "13800001234" not in str(entry.new) and "13800001234" not in str(entry.old)
    # the way to call ends with the task
    volunteer, vscope = login("volunteer")
    services.delivery_task_release(user=volunteer, scope=vscope, task_id=task.pk)
    again = client.post(f"/relief/tasks/{task.pk}/stops/{stop.pk}/call/")
    assert again.status_code in {403, 404}
    with pytest.raises((Forbidden, Exception)):
        services.delivery_stop_call(user=volunteer, scope=vscope, task_id=task.pk, stop_id=stop.pk)
    assert AuditLog.objects.filter(event="relief.stop_called").count() == before + 1
    assert f"/stops/{stop.pk}/call/" not in client.get(f"/relief/tasks/{task.pk}/").content.decode()


def test_a_volunteer_never_sees_income_status_or_health(claimed) -> None:
    task, _ = claimed
    stop = task.stops.select_related("household").first()
    household = stop.household
    household.income_status = "dibao"
    household.save()
    Resident.objects.filter(household=household).update(chronic_illness=True)
    volunteer = client_for("volunteer")
    page = volunteer.get(f"/households/{household.pk}/").content.decode()
    assert page.count(household.address) >= 1 and 'id="need-to-know"' in page
    for hidden in ("<th>Income status</th>", "Minimum living allowance", "Vulnerability", "chronic illness",
                   "Needs attention"):
        assert hidden not in page, hidden
    api = volunteer.get(f"/api/registry/households/{household.pk}").json()
    assert api["income_status"] is None and api["vulnerability_score"] is None
    staff = client_for("grid").get(f"/households/{household.pk}/").content.decode()
    assert "Minimum living allowance" in staff and "chronic illness" in staff
    assert client_for("grid").get(f"/api/registry/households/{household.pk}").json()["income_status"] == "dibao"
    listing = volunteer.get("/households/").content.decode()
    assert "Vulnerability" not in listing
    assert timezone.now()  # (the fixture's round ran at the current time)
