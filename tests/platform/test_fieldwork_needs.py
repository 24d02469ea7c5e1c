"""Issue 10 §5, needs: filter and sort by urgency; a life-critical need (filed as critical, or for a
life-critical item such as insulin) alerts the grid member and the director as it is filed, once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from civicgrid.alerts.models import Notice
from civicgrid.relief import services
from civicgrid.relief.models import Item, Need
from tests.platform.factories import user
from tests.platform.relief_support import catalogue, client_for, grid_households, key, login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def items() -> dict[str, Item]:
    return catalogue()


def _file(household, item, urgency="normal", minutes_ago=0):
    grid, scope = login("grid")
    filing = services.need_file(user=grid, scope=scope, household_id=household.pk, item=item, quantity=1, key=key(),
                                urgency=urgency, now=timezone.now() - timedelta(minutes=minutes_ago))
    return filing.need


def _alerted(need: Need) -> set[str]:
    return set(Notice.objects.filter(source=f"need:{need.pk}:critical").values_list("user__username", flat=True))


def test_a_life_critical_need_alerts_grid_member_and_director_once(items) -> None:
    h = grid_households(limit=4)
    critical = _file(h[0], items["medicine"], urgency="critical")
    assert _alerted(critical) == {"grid", "director"}
    notice = Notice.objects.get(source=f"need:{critical.pk}:critical", user=user("director"))
    assert notice.link == f"/relief/needs/{critical.pk}/" and "药品" in notice.title_zh and h[0].code in notice.title_en
    insulin = _file(h[1], items["insulin"], urgency="normal")  # the item is life-critical in the catalogue
    assert _alerted(insulin) == {"grid", "director"}
    _file(h[1], items["insulin"], urgency="critical")  # merged into the same need: no second alert
    assert Notice.objects.filter(source=f"need:{insulin.pk}:critical").count() == 2
    ordinary = _file(h[2], items["water"], urgency="urgent")
    assert _alerted(ordinary) == set()
    escalated = _file(h[2], items["water"], urgency="critical")  # merged and now life-critical: alert
    assert escalated.pk == ordinary.pk and _alerted(escalated) == {"grid", "director"}


def test_needs_list_filters_and_sorts_by_urgency(items) -> None:
    h = grid_households(limit=5)
    normal_old = _file(h[0], items["water"], "normal", minutes_ago=50)
    urgent = _file(h[1], items["food"], "urgent", minutes_ago=40)
    insulin = _file(h[2], items["insulin"], "normal", minutes_ago=30)
    critical = _file(h[3], items["medicine"], "critical", minutes_ago=20)
    normal_new = _file(h[4], items["food"], "normal", minutes_ago=10)
    client = client_for("grid")
    page = client.get("/relief/needs/").content.decode()  # most urgent first by default
    order = [int(n) for n in re.findall(r'href="/relief/needs/(\d+)/"', page)]
    mine = [n for n in order if n in {x.pk for x in (normal_old, urgent, insulin, critical, normal_new)}]
    assert mine == [insulin.pk, critical.pk, urgent.pk, normal_old.pk, normal_new.pk]
    only = client.get("/relief/needs/", {"urgency": "critical"}).content.decode()
    shown = {int(n) for n in re.findall(r'href="/relief/needs/(\d+)/"', only)}
    assert shown == set(Need.objects.filter(urgency="critical").values_list("pk", flat=True)) and critical.pk in shown
    newest = client.get("/relief/needs/", {"sort": "newest"}).content.decode()
    newest_order = [int(n) for n in re.findall(r'href="/relief/needs/(\d+)/"', newest)]
    assert newest_order.index(normal_new.pk) < newest_order.index(normal_old.pk)
    assert 'name="urgency"' in page and 'name="sort"' in page
