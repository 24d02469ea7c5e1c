"""Door-to-door sweeps: one visit per household grouped by grid, vulnerable first; the three outcomes;
progress per grid against counts worked out here; the page's queries do not grow with the households;
volunteers given visits see those households."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.cases.models import Case
from civicgrid.core.plugins import need_sink
from civicgrid.emergency import services
from civicgrid.emergency.models import PlanTemplate, SweepVisit
from civicgrid.emergency.selectors import sweeps as sw
from civicgrid.registry.models import Household
from civicgrid.relief.need_sink import ReliefNeedSink
from tests.platform.factories import user

pytestmark = pytest.mark.django_db


@pytest.fixture
def sweep():
    director = user("director")
    emergency = services.emergency_activate(user=director, scope=scope_for(director), community=director.role.place,
                                            plan=PlanTemplate.objects.get(code="epidemic_lockdown")).emergency
    return services.sweep_start(user=director, scope=scope_for(director), emergency=emergency)


def test_one_visit_per_household_grouped_by_grid(sweep) -> None:
    community = sweep.emergency.community
    households = {h.pk: h for h in Household.objects.filter(place_path__startswith=community.path)}
    visits = list(sweep.visits.all())
    assert sweep.n_households == len(visits) == len(households)
    assert {v.household_id for v in visits} == set(households)
    assert all(v.grid_id == households[v.household_id].grid_id for v in visits)
    assert all(v.vulnerable == (households[v.household_id].vulnerability_score >= settings.CIVICGRID_VULNERABLE_SCORE) for v in visits)
    again = services.sweep_start(user=user("director"), scope=scope_for(user("director")), emergency=sweep.emergency)
    assert again.pk == sweep.pk and SweepVisit.objects.filter(sweep=sweep).count() == len(visits)
    with pytest.raises(PermissionDenied):
        services.sweep_start(user=user("grid"), scope=scope_for(user("grid")), emergency=sweep.emergency)


def test_grid_list_puts_the_vulnerable_first(sweep) -> None:
    grid_member = user("grid")
    grid = user("resident").role.household.grid
    scope = scope_for(grid_member)
    listed = list(sw.visits_to_do(scope=scope, sweep=sweep, grid=grid))
    expected = sorted(Household.objects.filter(grid=grid), key=lambda h: (-h.vulnerability_score, h.pk))
    assert [v.household_id for v in listed] == [h.pk for h in expected]
    assert {p.grid_id for p in sw.sweep_progress(scope=scope, sweep=sweep)} == {grid.pk}  # their grid only


def test_outcomes_and_progress(sweep) -> None:
    grid_member, grid = user("grid"), user("resident").role.household.grid
    scope = scope_for(grid_member)
    now = timezone.now()
    first, second, third = list(sw.visits_to_do(scope=scope, sweep=sweep, grid=grid))[:3]
    services.sweep_visit_record(user=grid_member, scope=scope_for(grid_member), visit=first, outcome="safe", now=now)
    with pytest.raises(ValidationError) as no_need:
        services.sweep_visit_record(user=grid_member, scope=scope_for(grid_member), visit=second, outcome="needs_help", now=now)
    assert "need" in no_need.value.message_dict
    helped = services.sweep_visit_record(user=grid_member, scope=scope_for(grid_member), visit=second, outcome="needs_help", need="药品快用完了",
                                         now=now)
    kind, ref = helped.filed.split(":")  # a need naming no relief item becomes a grid case
    case = Case.objects.get(pk=int(ref))
    assert kind == "case" and case.category.code == "living_needs" and case.household_id == second.household_id
    assert case.source == f"sweep:{sweep.pk}:{second.pk}"
    away = services.sweep_visit_record(user=grid_member, scope=scope_for(grid_member), visit=third, outcome="not_home", now=now)
    assert away.revisit_at == now + timedelta(hours=4)
    assert third.pk not in {v.pk for v in sw.visits_to_do(scope=scope, sweep=sweep, grid=grid, now=now)}
    assert third.pk in {v.pk for v in sw.visits_to_do(scope=scope, sweep=sweep, grid=grid,
                                                      now=now + timedelta(hours=5))}
    with pytest.raises(ValidationError):
        services.sweep_visit_record(user=grid_member, scope=scope_for(grid_member), visit=first, outcome="not_home", now=now)
    services.sweep_visit_record(user=grid_member, scope=scope_for(grid_member), visit=third, outcome="safe", now=now + timedelta(hours=5))
    third.refresh_from_db()
    assert (third.state, third.attempts) == ("safe", 2)
    (row,) = sw.sweep_progress(scope=scope, sweep=sweep)
    n = Household.objects.filter(grid=grid).count()
    n_vulnerable = Household.objects.filter(grid=grid, vulnerability_score__gte=settings.CIVICGRID_VULNERABLE_SCORE).count()
    reached_vulnerable = sum(1 for v in (first, second, third) if v.vulnerable)
    assert (row.total, row.safe, row.needs_help, row.not_home, row.pending) == (n, 2, 1, 0, n - 3)
    assert (row.vulnerable, row.vulnerable_reached) == (n_vulnerable, reached_vulnerable)
    outside = SweepVisit.objects.filter(sweep=sweep).exclude(grid=grid).first()
    with pytest.raises(ObjectDoesNotExist):
        services.sweep_visit_record(user=grid_member, scope=scope_for(grid_member), visit=outside, outcome="safe")


def test_needs_naming_a_relief_item_go_to_relief(sweep) -> None:
    # The emergency-to-relief contract: without it a sweep quietly files a grid case instead of a need.
    assert isinstance(need_sink(), ReliefNeedSink), "relief must provide the need-sink hook"
    from civicgrid.relief.models import Item, Need

    Item.objects.create(code="test-rice", name="Rice", name_zh="大米", category="food", unit="bag")
    grid_member, grid = user("grid"), user("resident").role.household.grid
    visit = next(iter(sw.visits_to_do(scope=scope_for(grid_member), sweep=sweep, grid=grid)))
    recorded = services.sweep_visit_record(user=grid_member, scope=scope_for(grid_member), visit=visit, outcome="needs_help", need="缺米",
                                           item="test-rice", quantity=2)
    kind, ref = recorded.filed.split(":")
    need = Need.objects.get(pk=int(ref))
    assert kind == "need" and (need.household_id, need.item.code, need.quantity) == (visit.household_id,
                                                                                      "test-rice", 2)
    assert "缺米" in need.note
    client = Client(headers={"accept-language": "en"})
    client.force_login(grid_member)
    following = next(iter(sw.visits_to_do(scope=scope_for(grid_member), sweep=sweep, grid=grid)))
    assert 'value="test-rice"' in client.get(f"/emergency/visits/{following.pk}/").content.decode()


def test_visit_page_flow_on_a_phone(sweep) -> None:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user("grid"))
    page = client.get(f"/emergency/sweeps/{sweep.pk}/")
    assert page.status_code == 200
    first, second = list(page.context["page"])[:2]
    assert 'id="visit-list"' in page.content.decode()
    response = client.post(f"/emergency/visits/{first.pk}/", {"outcome": "safe"})
    assert response.status_code == 302 and response["Location"] == f"/emergency/visits/{second.pk}/"
    missing = client.post(f"/emergency/visits/{second.pk}/", {"outcome": "needs_help", "need": ""})
    assert missing.status_code == 400 and 'id="field-need"' in missing.content.decode()


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_sweep_pages_use_a_fixed_number_of_queries(sweep, django_assert_max_num_queries) -> None:
    director, grid_member = Client(headers={"accept-language": "en"}), Client(headers={"accept-language": "en"})
    director.force_login(user("director"))
    grid_member.force_login(user("grid"))
    grid = user("resident").role.household.grid
    overview = f"/emergency/sweeps/{sweep.pk}/"
    with django_assert_max_num_queries(12):
        director.get(overview)
    with django_assert_max_num_queries(14):
        grid_member.get(overview)
    before = _queries(director, f"{overview}?grid={grid.pk}")
    # record a third of the grid's visits: the page must not run more queries for more history
    for visit in list(sw.visits_to_do(scope=scope_for(user("grid")), sweep=sweep, grid=grid))[::3]:
        services.sweep_visit_record(user=user("grid"), scope=scope_for(user("grid")), visit=visit, outcome="not_home")
    assert _queries(director, f"{overview}?grid={grid.pk}") == before
    assert _queries(director, f"{overview}?grid={grid.pk}&page=2") <= before


def test_volunteers_see_the_households_given_to_them(sweep) -> None:
    grid_member, volunteer = user("grid"), user("volunteer")
    grid = user("resident").role.household.grid
    assert not scope_for(volunteer).household_ids
    with pytest.raises(ValidationError):  # only registered volunteers take visits
        services.sweep_assign(user=grid_member, scope=scope_for(grid_member), sweep=sweep, grid=grid, person=grid_member.role.person, count=2)
    assert services.sweep_assign(user=grid_member, scope=scope_for(grid_member), sweep=sweep, grid=grid, person=volunteer.role.person, count=2) == 2
    given = set(SweepVisit.objects.filter(sweep=sweep, assignee=volunteer.role.person).values_list("household_id",
                                                                                                   flat=True))
    fresh = get_user_model().objects.get(pk=volunteer.pk)  # the scope is cached per user object
    assert scope_for(fresh).household_ids == given
    visit = SweepVisit.objects.filter(sweep=sweep, assignee=volunteer.role.person).first()
    services.sweep_visit_record(user=fresh, scope=scope_for(fresh), visit=visit, outcome="safe")
    other = SweepVisit.objects.filter(sweep=sweep, assignee__isnull=True, grid=grid).first()
    with pytest.raises(ObjectDoesNotExist):
        services.sweep_visit_record(user=fresh, scope=scope_for(fresh), visit=other, outcome="safe")
