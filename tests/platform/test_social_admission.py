"""Admission to an emergency: organisations apply for named grids and services, a coordinator admits or
refuses each, and while an emergency is in force only admitted organisations claim work there (the relief
delivery claim asks the work guard). Bad input: a clear error, nothing written."""

from __future__ import annotations

import pytest

from civicgrid.accounts.roles import scope_for
from civicgrid.core.errors import Conflict, Forbidden, Invalid, NotFound
from civicgrid.core.plugins import work_refusal
from civicgrid.registry.models import Actor
from civicgrid.relief import services as relief
from civicgrid.relief.models import DeliveryTask
from civicgrid.social import services
from civicgrid.social.models import Admission
from tests.platform.factories import user
from tests.platform.relief_support import grid_households, lockdown
from tests.platform.social_support import (
    community,
    district,
    grid,
    hub_actor,
    in_force,
    registered,
    team_actor,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def _apply(username: str, actor: Actor, grids: list, kinds: list[str], emergency_id: int | None = None) -> list[Admission]:
    who = user(username)
    return services.admission_apply(user=who, scope=scope_for(who), emergency_id=emergency_id or in_force().pk,
                                    actor_id=actor.pk, grid_ids=[g.pk for g in grids], service_kinds=kinds)


def test_staff_apply_for_their_own_organisation_one_row_per_grid_and_service() -> None:
    registered(hub_actor(), verified=True)
    rows = _apply("orgstaff", hub_actor(), [grid("C01-G01"), grid("C01-G02")], ["delivery", "care_visit"])
    assert len(rows) == 4 and {r.status for r in rows} == {"applied"}
    again = _apply("orgstaff", hub_actor(), [grid("C01-G01")], ["delivery"])  # already there: kept as it is
    assert [r.pk for r in again] == [r.pk for r in rows if r.grid.code.endswith("G01") and r.service_kind == "delivery"]
    assert Admission.objects.count() == 4
    with pytest.raises(Forbidden):  # another organisation than their own
        registered(team_actor())
        _apply("orgstaff", team_actor(), [grid()], ["delivery"])


@pytest.mark.parametrize("case", ["grid elsewhere", "unknown kind", "no grid", "state body", "unregistered",
                                  "unknown actor", "unknown emergency"])
def test_bad_applications_are_refused_with_nothing_written(case: str) -> None:
    registered(hub_actor(), verified=True)
    emergency = in_force()
    actor, grids, kinds, emergency_id = hub_actor(), [grid()], ["delivery"], emergency.pk
    error: type[Exception] = Invalid
    if case == "grid elsewhere":
        grids = [grid("C02-G01")]
    elif case == "unknown kind":
        kinds = ["juggling"]
    elif case == "no grid":
        grids = []
    elif case == "state body":
        actor = Actor.objects.filter(sector="state").order_by("code").first()
    elif case == "unregistered":
        actor, error = team_actor(), Conflict
    elif case == "unknown actor":
        actor = Actor(pk=987_654_321)
    elif case == "unknown emergency":
        emergency_id, error = 987_654_321, NotFound
    with pytest.raises(error):
        _apply("district", actor, grids, kinds, emergency_id)
    assert not Admission.objects.exists()


def test_a_coordinator_admits_or_refuses_each_once() -> None:
    registered(hub_actor(), verified=True)
    first, second = _apply("orgstaff", hub_actor(), [grid("C01-G01"), grid("C01-G02")], ["delivery"])
    director = user("director")
    admitted = services.admission_decide(user=director, scope=scope_for(director), admission_id=first.pk, admit=True)
    assert admitted.status == "admitted" and admitted.decided_at is not None
    with pytest.raises(Conflict, match="already decided"):
        services.admission_decide(user=director, scope=scope_for(director), admission_id=first.pk, admit=False,
                                  reason="changed my mind")
    with pytest.raises(Invalid):  # refusing needs a reason
        services.admission_decide(user=director, scope=scope_for(director), admission_id=second.pk, admit=False)
    services.admission_decide(user=director, scope=scope_for(director), admission_id=second.pk, admit=False,
                              reason="enough hands in G02")
    assert list(Admission.objects.order_by("grid__code").values_list("status", flat=True)) == ["admitted", "refused"]
    staff = user("orgstaff")
    with pytest.raises(Forbidden):
        services.admission_decide(user=staff, scope=scope_for(staff), admission_id=second.pk, admit=True)
    with pytest.raises(NotFound):
        services.admission_decide(user=director, scope=scope_for(director), admission_id=987_654_321, admit=True)


def test_an_unverified_organisation_applies_but_is_not_admitted() -> None:
    registered(hub_actor())
    row = _apply("orgstaff", hub_actor(), [grid()], ["delivery"])[0]
    who, scope = district()
    with pytest.raises(Conflict, match="not verified"):
        services.admission_decide(user=who, scope=scope, admission_id=row.pk, admit=True)
    assert Admission.objects.get(pk=row.pk).status == "applied"


def test_the_guard_refuses_an_unadmitted_organisation_only_while_an_emergency_is_in_force() -> None:
    staff = user("orgstaff")
    g01 = grid("C01-G01")
    place = f"{g01.path}B001/"
    ask = dict(user=staff, scope=scope_for(staff), place_path=place, service_kind="delivery")
    assert work_refusal(**ask) is None  # normal mode: anyone serving the area claims
    registered(hub_actor(), verified=True)
    emergency = in_force()
    assert "not" in work_refusal(**ask)
    row = _apply("orgstaff", hub_actor(), [g01], ["delivery"])[0]
    assert work_refusal(**ask)  # applied is not admitted
    who, scope = district()
    services.admission_decide(user=who, scope=scope, admission_id=row.pk, admit=True)
    assert work_refusal(**ask) is None
    assert work_refusal(**{**ask, "service_kind": "care_visit"})  # admitted for deliveries only
    assert work_refusal(**{**ask, "place_path": f"{grid('C01-G02').path}B001/"})  # and only in G01
    assert work_refusal(**{**ask, "place_path": f"{grid('C02-G01').path}B001/"}) is None  # no emergency in C02
    # the state's own staff and residents claim for no organisation: never refused by admission
    grid_member = user("grid")
    assert work_refusal(**{**ask, "user": grid_member, "scope": scope_for(grid_member)}) is None
    # a suspended organisation is refused even where it was admitted
    services.organisation_verify(user=who, scope=scope, organisation_id=hub_actor().organisation.pk,
                                 state="suspended", reason="complaint upheld")
    assert work_refusal(**ask)
    assert emergency.status == "active"


def test_a_volunteer_of_an_unadmitted_team_cannot_claim_a_delivery_until_admitted() -> None:
    households = grid_households("C01-G01", limit=6)
    world = lockdown(households=households, share=1.0)
    who, scope = district()
    relief.round_confirm(user=who, scope=scope, place_ids=[world.point.place_id], item_codes=["t-food", "t-water"],
                         days=3, policy="equity", seed=1)
    task = DeliveryTask.objects.filter(place_path__startswith=grid("C01-G01").path, status="open").order_by("id").first()
    registered(team_actor(), verified=True)
    in_force()
    volunteer = user("volunteer")
    with pytest.raises(Forbidden, match="admitted"):
        relief.delivery_task_claim(user=volunteer, scope=scope_for(volunteer), task_id=task.pk)
    assert DeliveryTask.objects.get(pk=task.pk).status == "open"
    row = _apply("district", team_actor(), [grid("C01-G01")], ["delivery"])[0]
    services.admission_decide(user=who, scope=scope, admission_id=row.pk, admit=True)
    volunteer = user("volunteer")
    claimed = relief.delivery_task_claim(user=volunteer, scope=scope_for(volunteer), task_id=task.pk)
    assert claimed.status == "claimed" and claimed.claimed_by_id == volunteer.pk


def test_a_capital_actor_applies_without_a_register_entry() -> None:
    company = Actor.objects.filter(sector="capital", service_area=community()).order_by("code").first()
    row = _apply("district", company, [grid()], ["delivery"])[0]
    who, scope = district()
    assert services.admission_decide(user=who, scope=scope, admission_id=row.pk, admit=True).status == "admitted"


def test_home_work_lists_pending_applications_and_the_emergency_to_apply_for() -> None:
    from civicgrid.core.plugins import work_for

    registered(hub_actor(), verified=True)
    staff = user("orgstaff")
    emergency = in_force()
    kinds = [i.kind for i in work_for(user=staff, scope=scope_for(staff))]
    assert "social.apply" in kinds  # an emergency in force, no application yet
    _apply("orgstaff", hub_actor(), [grid("C01-G01"), grid("C01-G02")], ["delivery"], emergency.pk)
    assert "social.apply" not in [i.kind for i in work_for(user=staff, scope=scope_for(staff))]
    director = user("director")
    items = {i.kind: i for i in work_for(user=director, scope=scope_for(director))}
    pending = Admission.objects.filter(status="applied", grid__parent=community()).count()
    assert items["social.admissions"].count == pending == 2
