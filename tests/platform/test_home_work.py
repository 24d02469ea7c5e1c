"""Each role's home: the one "my work" list fed by every app's ``work_items`` hook, checked against counts
worked out here from the database; the figures of each app's ``glance``; the resident sees only their own
household; the hooks are checked at start-up."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.db.models import Q
from django.test import Client
from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.cases.models import Case
from civicgrid.cases.transitions import OPEN_STATES
from civicgrid.core.places import under
from civicgrid.core.plugins import LIFE_CRITICAL, glance_for, work_for
from civicgrid.emergency.models import LiveTask, MissedCheckIn, SweepVisit
from civicgrid.registry.models import Actor, Household
from civicgrid.relief.models import DeliveryStop, DeliveryTask, Need, RoundAllocation
from civicgrid.relief.work import pickup_totals
from tests.platform.factories import user
from tests.platform.home_support import build, client_home

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build()


def _counts(username: str) -> Counter[str]:
    found = user(username)
    counts: Counter[str] = Counter()
    for item in work_for(user=found, scope=scope_for(found)):
        counts[item.kind] += item.count
    return counts


def test_grid_member_work_matches_the_database(world) -> None:
    grid = user("grid")
    scope = scope_for(grid)
    paths = scope.area_paths
    now = timezone.now()
    items = work_for(user=grid, scope=scope)
    counts = _counts("grid")
    assert counts["cases.due"] == Case.objects.filter(under("place_path", paths), state__in=OPEN_STATES,
                                                      due_at__lt=now + timedelta(days=1)).count() >= 1
    assert counts["emergency.visit"] == SweepVisit.objects.filter(
        under("place_path", paths), sweep__closed_at__isnull=True).filter(
        Q(state="pending") | Q(state="not_home", revisit_at__lte=now)).count() > 0
    assert counts["emergency.missed_checkin"] == MissedCheckIn.objects.filter(
        under("isolation__place_path", paths), resolved_at__isnull=True).count() == 2
    assert counts["relief.need"] == Need.objects.filter(under("household__place_path", paths), status="open").count() == 2
    # life-critical first, then overdue
    assert items[0].urgency == LIFE_CRITICAL and items[0].kind == "relief.need"
    assert [i.urgency for i in items] == sorted(i.urgency for i in items)
    assert any(i.kind == "cases.due" and world.overdue_case.description in i.title for i in items)


def test_org_staff_sees_what_is_given_to_their_organisation(world) -> None:
    staff = user("orgstaff")
    org = staff.role.actor
    items = work_for(user=staff, scope=scope_for(staff))
    counts = _counts("orgstaff")
    assert counts["cases.dispatched"] == Case.objects.filter(handler=org, state="dispatched").count() >= 1
    tasks = [i for i in items if i.kind == "emergency.task"]
    assert world.org_task.title in [t.title for t in tasks]
    assert len(tasks) == LiveTask.objects.filter(actor=org, state="open", emergency__status="active").count()
    assert {t.url for t in tasks} == {f"/emergency/{world.emergency.pk}/"}
    assert counts["relief.given"] == DeliveryTask.objects.filter(organisation=org, status__in=["open", "claimed"]).count()
    client = Client()
    client.force_login(staff)
    for url in ("/emergency/now/", tasks[0].url):  # once a bare 403
        response = client.get(url)
        assert response.status_code == 200, url
        assert world.org_task.title_zh in response.content.decode() or world.org_task.title_en in response.content.decode()


def test_resident_sees_only_their_own_household(world) -> None:
    resident = user("resident")
    household = resident.role.household
    counts = _counts("resident")
    assert set(counts) <= {"cases.mine", "emergency.checkin", "relief.my_need", "alerts.ack"}
    assert counts["relief.my_need"] == Need.objects.filter(household=household).exclude(
        status__in=["delivered", "cancelled"]).count() == 2
    stop = DeliveryStop.objects.get(household=household)
    mine = [i for i in work_for(user=resident, scope=scope_for(resident)) if i.kind == "relief.my_need"]
    assert sum(stop.code in i.detail for i in mine) == 1  # the one-time code of the delivery on its way
    assert counts["emergency.checkin"] == 1
    assert counts["alerts.ack"] >= 1
    html = client_home(Client(), "resident")
    assert household.address in html
    others = Household.objects.filter(grid=household.grid).exclude(pk=household.pk)
    assert not any(h.address in html for h in others)
    assert "最脆弱" not in html and "Most vulnerable" not in html
    for menu in ('href="/households/"', 'href="/actors/"', 'href="/relief/tasks/"', 'href="/emergency/isolation/"'):
        assert menu not in html, menu
    assert 'href="/cases/new/"' in html  # report a problem
    assert "紧急状态" in html  # the emergency in force


def test_volunteer_sees_tasks_near_them_with_pickup_totals(world) -> None:
    volunteer = user("volunteer")
    scope = scope_for(volunteer)
    areas = list(Actor.objects.filter(pk__in=scope.actor_ids).values_list("service_area__path", flat=True))
    claimable = DeliveryTask.objects.filter(Q(organisation_id__in=scope.actor_ids) | (
        Q(organisation__isnull=True) & under("place_path", areas)), status="open").count()
    assert _counts("volunteer")["relief.near"] == claimable > 0
    glances = {g.key: g for g in glance_for(user=volunteer, scope=scope)}
    assert glances["relief.pickup"].value == str(claimable)
    assert any("Point" in line for line in glances["relief.pickup"].lines)
    assert glances["relief.made"].value == "0"


def test_pickup_totals_are_the_units_the_tasks_stops_bring(world) -> None:
    """Per point and item, the units of every stop of the tasks: counted here stop by stop (a stop brings its
    household's allocations with units in its task's round), against the one grouped query of the page."""
    tasks = DeliveryTask.objects.filter(status="open")
    expected: dict[tuple[str, str], int] = defaultdict(int)
    for stop in DeliveryStop.objects.filter(task__in=tasks).select_related("task__point"):
        for a in RoundAllocation.objects.filter(round_id=stop.task.round_id, household_id=stop.household_id,
                                                quantity__gt=0).select_related("item"):
            expected[(stop.task.point.name, f"{a.item.label} ({a.item.unit_label})")] += a.quantity
    got = {(point, label): n for point, lines in pickup_totals(tasks).items() for label, n in lines}
    assert got == expected and got
    assert pickup_totals(DeliveryTask.objects.none()) == {}


def test_director_sees_the_area_at_a_glance(world) -> None:
    director = user("director")
    scope = scope_for(director)
    glances = {g.key: g for g in glance_for(user=director, scope=scope)}
    assert {"emergency.status", "cases.overdue", "relief.critical", "alerts.reach"} <= set(glances)
    assert glances["cases.overdue"].value == str(Case.objects.filter(
        under("place_path", scope.area_paths), state__in=OPEN_STATES, due_at__lt=timezone.now()).count())
    assert glances["relief.critical"].value == str(Need.objects.filter(
        under("household__place_path", scope.area_paths), status="open", urgency="critical").count()) == "1"
    assert glances["emergency.status"].alarm
    html = client_home(Client(), "director")
    assert "一览" in html


@pytest.mark.parametrize("username", ["district", "director", "grid", "orgstaff", "volunteer", "resident"])
def test_every_home_renders_in_both_languages(world, username: str) -> None:
    for language in ("zh-hans", "en"):
        html = client_home(Client(), username, language)
        assert 'id="my-work"' in html


def test_work_hooks_are_checked_at_start_up() -> None:
    from django.apps import apps
    from django.core.exceptions import ImproperlyConfigured

    from civicgrid.core.plugins import AppPlugin, _check

    def wrong(user, scope):  # positional, not keyword-only
        return []

    with pytest.raises(ImproperlyConfigured, match="work_items"):
        _check(apps.get_app_config("home"), AppPlugin(urls=True, work_items=wrong))  # type: ignore[arg-type]


def test_every_apps_name_on_the_home_page_is_in_chinese_in_chinese() -> None:
    """The tabs of "my work" name each app: in Chinese, never its internal label ("volunteers" was shown)."""
    from django.utils import translation

    from civicgrid.core.plugins import plugins
    from civicgrid.home.views import _app_label

    with_work = [label for label, p in plugins().items() if p.work_items is not None]
    assert {"relief", "volunteers", "fund", "procurement"} <= set(with_work)
    with translation.override("zh-hans"):
        for label in with_work:
            name = str(_app_label(label))
            assert not re.search(r"[A-Za-z]", name), (label, name)
