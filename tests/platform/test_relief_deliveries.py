"""Deliveries: claims (one holder, a cap, expiry without sleeping), receipt by one-time code, failures back to
the queue, and the households a task gives access to - nothing more."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.accounts.services import role_assign
from civicgrid.core.errors import Conflict, Invalid
from civicgrid.core.scoping import PLATFORM, Scope
from civicgrid.registry.models import Actor, Place, Post
from civicgrid.relief import selectors, services
from civicgrid.relief.models import (
    AllocationRound,
    DeliveryAttempt,
    DeliveryStop,
    DeliveryTask,
    Need,
    RoundAllocation,
)
from tests.platform.relief_support import World, client_for, grid_households, lockdown, login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def round_() -> tuple[AllocationRound, World]:
    """A confirmed equity round over three grids (one building each) of community C01, the volunteer team's."""
    households = [h for g in ("C01-G01", "C01-G02", "C01-G03") for h in grid_households(g)]
    world = lockdown(households=households, share=0.6)
    user, scope = login("director")
    community = Place.objects.get(code__endswith="C01", level="community")
    return services.round_confirm(user=user, scope=scope, place_ids=[community.pk], item_codes=["t-food", "t-water"],
                                  days=3, policy="equity", seed=5), world


def _second_volunteer(username: str = "volunteer2", community: str = "C01") -> tuple[Any, Scope]:
    post = Post.objects.filter(role="volunteer", actor__service_area__code__endswith=community).exclude(
        person__role__user__username="volunteer").order_by("id").first()
    role_assign(user=None, scope=PLATFORM, username=username, password="civicgrid-demo", role="volunteer", person=post.person)
    return login(username)


def _households(task: DeliveryTask) -> set[int]:
    return set(task.stops.values_list("household_id", flat=True))


def test_a_volunteer_claims_a_task_of_their_team_and_nobody_else_can(
        round_: tuple[AllocationRound, World],
) -> None:
    round, _ = round_
    volunteer, scope = login("volunteer")
    team_area = Actor.objects.get(pk__in=scope.actor_ids).service_area.path
    claimable = list(DeliveryTask.objects.filter(round=round))
    assert claimable and all(t.place_path.startswith(team_area) for t in claimable)
    listed = {t["id"] for t in client_for("volunteer").get("/api/relief/tasks").json()["claimable"]}
    assert listed == {t.pk for t in claimable}
    task = claimable[0]
    response = client_for("volunteer").post(f"/api/relief/tasks/{task.pk}/claim")
    assert response.status_code == 200
    assert {s["household_id"] for s in response.json()["stop_list"]} == _households(task)
    _second_volunteer()
    again = client_for("volunteer2").post(f"/api/relief/tasks/{task.pk}/claim")
    assert again.status_code == 409 and "already claimed" in json.dumps(again.json())
    task.refresh_from_db()
    assert (task.status, task.claimed_by.username) == ("claimed", "volunteer")
    # a volunteer of the other community's team does not even see it
    _second_volunteer("volunteer3", community="C02")
    assert client_for("volunteer3").post(f"/api/relief/tasks/{task.pk}/claim").status_code == 404
    # coordinators coordinate; residents receive
    assert client_for("director").post(f"/api/relief/tasks/{claimable[1].pk}/claim").status_code == 404
    assert client_for("resident").post(f"/api/relief/tasks/{claimable[1].pk}/claim").status_code == 404


def test_a_volunteer_holds_at_most_the_cap_of_open_claims(
        round_: tuple[AllocationRound, World], settings: Any,
) -> None:
    settings.CIVICGRID_RELIEF = {"max_open_claims": 2}
    round, _ = round_
    volunteer, scope = login("volunteer")
    tasks = list(DeliveryTask.objects.filter(round=round)[:3])
    assert len(tasks) == 3
    services.delivery_task_claim(user=volunteer, scope=scope, task_id=tasks[0].pk)
    services.delivery_task_claim(user=volunteer, scope=scope, task_id=tasks[1].pk)
    with pytest.raises(Conflict, match="already hold 2"):
        services.delivery_task_claim(user=volunteer, scope=scope, task_id=tasks[2].pk)
    assert DeliveryTask.objects.get(pk=tasks[2].pk).status == "open"
    services.delivery_task_release(user=volunteer, scope=scope_for(volunteer), task_id=tasks[0].pk)
    services.delivery_task_claim(user=volunteer, scope=scope, task_id=tasks[2].pk)


def test_an_unconfirmed_claim_is_released_after_the_set_time(
        round_: tuple[AllocationRound, World], settings: Any,
) -> None:
    settings.CIVICGRID_RELIEF = {"claim_minutes": 90}
    round, _ = round_
    volunteer, scope = login("volunteer")
    task = DeliveryTask.objects.filter(round=round).first()
    start = timezone.now()
    services.delivery_task_claim(user=volunteer, scope=scope, task_id=task.pk, now=start)
    assert services.delivery_claims_release_expired(now=start + timedelta(minutes=89)) == 0
    assert DeliveryTask.objects.get(pk=task.pk).status == "claimed"
    assert services.delivery_claims_release_expired(now=start + timedelta(minutes=90)) == 1
    task.refresh_from_db()
    assert (task.status, task.claimed_by, task.requeued) == ("open", None, 1)
    # a recorded delivery keeps a claim alive
    services.delivery_task_claim(user=volunteer, scope=scope, task_id=task.pk, now=start)
    stops = list(task.stops.order_by("id"))
    if len(stops) > 1:
        services.delivery_stop_deliver(user=volunteer, scope=scope_for(volunteer), stop_id=stops[0].pk, code=stops[0].code,
                                       now=start + timedelta(minutes=80))
        assert services.delivery_claims_release_expired(now=start + timedelta(minutes=100)) == 0
        assert services.delivery_claims_release_expired(now=start + timedelta(minutes=170)) == 1


def test_the_household_confirms_receipt_with_its_one_time_code(
        round_: tuple[AllocationRound, World], settings: Any,
) -> None:
    settings.CIVICGRID_RELIEF = {"wrong_code_limit": 3}
    round, _ = round_
    volunteer, scope = login("volunteer")
    task = max(DeliveryTask.objects.filter(round=round), key=lambda t: t.stops.count())
    services.delivery_task_claim(user=volunteer, scope=scope, task_id=task.pk)
    stop = task.stops.order_by("id").first()
    wrong = "000000" if stop.code != "000000" else "111111"
    client = client_for("volunteer")
    refused = client.post(f"/api/relief/stops/{stop.pk}/deliver", json.dumps({"code": wrong}),
                          content_type="application/json")
    assert refused.status_code == 400 and "Wrong code" in json.dumps(refused.json())
    stop.refresh_from_db()
    assert (stop.status, stop.wrong_codes) == ("pending", 1)  # the wrong try is counted, nothing else changed
    ok = client.post(f"/api/relief/stops/{stop.pk}/deliver", json.dumps({"code": stop.code}),
                     content_type="application/json")
    assert ok.status_code == 200 and ok.json()["status"] == "delivered"
    again = client.post(f"/api/relief/stops/{stop.pk}/deliver", json.dumps({"code": stop.code}),
                        content_type="application/json")
    assert again.status_code == 409  # a code works once
    lines = selectors.stop_lines(task=stop.task, stops=[stop])[stop.pk]
    assert lines  # the stop brings something: its household's allocations with units in the round
    for allocation in lines:
        need = Need.objects.get(pk=allocation.need_id)
        assert need.delivered_quantity == allocation.quantity
        assert need.status == ("delivered" if allocation.quantity == need.quantity else "open")
    assert list(DeliveryAttempt.objects.filter(stop=stop).values_list("delivered", flat=True)) == [True]

    # after too many wrong codes even the right one is refused until a coordinator issues a new code
    locked_stop = task.stops.exclude(pk=stop.pk).order_by("id").first()
    for _ in range(3):
        with pytest.raises(Invalid):
            services.delivery_stop_deliver(user=volunteer, scope=scope_for(volunteer), stop_id=locked_stop.pk, code=wrong)
    with pytest.raises(Invalid, match="Too many wrong codes"):
        services.delivery_stop_deliver(user=volunteer, scope=scope_for(volunteer), stop_id=locked_stop.pk, code=locked_stop.code)
    director, director_scope = login("director")
    fresh = services.stop_code_reissue(user=director, scope=director_scope, stop_id=locked_stop.pk)
    services.delivery_stop_deliver(user=volunteer, scope=scope_for(volunteer), stop_id=locked_stop.pk, code=fresh.code)
    # someone who does not hold the task cannot record deliveries: refused if they see the task (the director
    # oversees it), "not found" if they do not (a volunteer of another team)
    other, _ = _second_volunteer()
    third = task.stops.filter(status="pending").first()
    if third is not None:
        with pytest.raises(PermissionDenied):
            services.delivery_stop_deliver(user=director, scope=director_scope, stop_id=third.pk, code=third.code)
        with pytest.raises(ObjectDoesNotExist):
            services.delivery_stop_deliver(user=other, scope=scope_for(other), stop_id=third.pk, code=third.code)


def test_a_failed_delivery_records_why_and_goes_back_to_the_queue(
        round_: tuple[AllocationRound, World],
) -> None:
    round, _ = round_
    volunteer, scope = login("volunteer")
    task = max(DeliveryTask.objects.filter(round=round), key=lambda t: t.stops.count())
    services.delivery_task_claim(user=volunteer, scope=scope, task_id=task.pk)
    failed, *others = list(task.stops.order_by("id"))
    with pytest.raises(Invalid):
        services.delivery_stop_fail(user=volunteer, scope=scope_for(volunteer), stop_id=failed.pk, reason="lazy")
    services.delivery_stop_fail(user=volunteer, scope=scope_for(volunteer), stop_id=failed.pk, reason="not_home", note="rang twice")
    assert DeliveryTask.objects.get(pk=task.pk).status == ("claimed" if others else "open")
    for stop in others:
        services.delivery_stop_deliver(user=volunteer, scope=scope_for(volunteer), stop_id=stop.pk, code=stop.code)
    task.refresh_from_db()
    failed.refresh_from_db()
    assert (task.status, task.claimed_by, task.requeued) == ("open", None, 1)
    assert (failed.status, failed.failure_reason) == ("pending", "not_home")
    assert list(failed.attempts.values_list("delivered", "reason", "note")) == [(False, "not_home", "rang twice")]
    # back in the queue: another volunteer takes it and finds only the household still waiting
    other, other_scope = _second_volunteer()
    services.delivery_task_claim(user=other, scope=other_scope, task_id=task.pk)
    assert list(task.stops.filter(status="pending").values_list("pk", flat=True)) == [failed.pk]
    services.delivery_stop_deliver(user=other, scope=scope_for(other), stop_id=failed.pk, code=failed.code)
    assert DeliveryTask.objects.get(pk=task.pk).status == "done"


def test_a_task_gives_access_to_its_households_and_nothing_more(
        round_: tuple[AllocationRound, World],
) -> None:
    round, _ = round_
    volunteer, scope = login("volunteer")
    assert scope.household_ids == frozenset()
    client = client_for("volunteer")
    assert client.get("/api/registry/households").json() == []
    task, other = list(DeliveryTask.objects.filter(round=round)[:2])
    assert client.get(f"/api/relief/tasks/{task.pk}").json()["stop_list"] == []  # addresses only once claimed
    services.delivery_task_claim(user=volunteer, scope=scope, task_id=task.pk)
    _, scope = login("volunteer")
    assert scope.household_ids == _households(task)
    seen = {h["id"] for h in client.get("/api/registry/households").json()}
    assert seen == _households(task) and not seen & _households(other)
    outside = next(iter(_households(other)))
    assert client.get(f"/api/registry/households/{outside}").status_code == 404
    for stop in task.stops.all():
        services.delivery_stop_deliver(user=volunteer, scope=scope_for(volunteer), stop_id=stop.pk, code=stop.code)
    _, scope = login("volunteer")
    assert scope.household_ids == frozenset()  # the task is done: the access ends with it

    # organisation staff see the households of unfinished tasks given to their organisation
    staff, staff_scope = login("orgstaff")
    director, director_scope = login("director")
    organisation = next(iter(staff_scope.actor_ids))
    services.delivery_task_assign(user=director, scope=director_scope, task_id=other.pk,
                                  organisation_id=organisation)
    _, staff_scope = login("orgstaff")
    assert staff_scope.household_ids == _households(other)
    volunteer_scope = login("volunteer")[1]
    with pytest.raises(ObjectDoesNotExist):  # given to an organisation the volunteer is not in
        services.delivery_task_claim(user=volunteer, scope=volunteer_scope, task_id=other.pk)
    services.delivery_task_claim(user=staff, scope=staff_scope, task_id=other.pk)


def test_the_resident_sees_the_code_and_the_volunteer_never_does(
        round_: tuple[AllocationRound, World],
) -> None:
    round, world = round_
    resident_household = login("resident")[1].household_ids
    stop = DeliveryStop.objects.filter(task__round=round, household_id__in=resident_household).first()
    if stop is None:
        pytest.skip("the resident's household got nothing in this round")
    page = client_for("resident").get("/relief/my-needs/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert stop.code in page and "waiting for a volunteer" in page
    volunteer, scope = login("volunteer")
    services.delivery_task_claim(user=volunteer, scope=scope, task_id=stop.task_id)
    task_page = client_for("volunteer").get(f"/relief/tasks/{stop.task_id}/").content.decode()
    assert resident_household and Need.objects.filter(household_id__in=resident_household).exists()
    assert stop.household.address in task_page and stop.code not in task_page
    assert "on the way" in client_for("resident").get("/relief/my-needs/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_the_volunteer_pages_claim_deliver_and_fail(round_: tuple[AllocationRound, World]) -> None:
    round, _ = round_
    task = max(DeliveryTask.objects.filter(round=round), key=lambda t: t.stops.count())
    client = client_for("volunteer")
    listing = client.get("/relief/tasks/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"/relief/tasks/{task.pk}/claim/" in listing
    assert client.post(f"/relief/tasks/{task.pk}/claim/")["Location"] == f"/relief/tasks/{task.pk}/"
    first, second, *_ = list(task.stops.order_by("id"))
    bad = client.post(f"/relief/tasks/{task.pk}/stops/{first.pk}/deliver/", {f"s{first.pk}-code": "12345"},
                      HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 400 and "errorlist" in bad.content.decode().split(f'id="stop-{first.pk}"')[1]
    client.post(f"/relief/tasks/{task.pk}/stops/{first.pk}/deliver/", {f"s{first.pk}-code": first.code})
    client.post(f"/relief/tasks/{task.pk}/stops/{second.pk}/fail/", {f"f{second.pk}-reason": "refused"})
    assert DeliveryStop.objects.get(pk=first.pk).status == "delivered"
    assert DeliveryStop.objects.get(pk=second.pk).failure_reason == "refused"


def test_the_english_sentence_names_the_item_not_its_code(round_: tuple[AllocationRound, World]) -> None:
    """The engine's sentence knows the item by its code ("of medicine-week"); the reader gets its name."""
    from django.utils import translation

    from civicgrid.relief.text import allocation_sentence

    round, _world = round_
    allocations = list(RoundAllocation.objects.select_related("item").filter(round=round).order_by("pk")[:50])
    coded = [a for a in allocations if a.item.code in a.explanation]
    assert coded  # the engine's own words do name the code
    with translation.override("en"):
        for allocation in coded:
            sentence = allocation_sentence(allocation)
            assert allocation.item.code not in sentence and str(allocation.item.label) in sentence, sentence


def test_the_chinese_sentence_gives_the_reasons_for_the_weight_in_chinese(round_: tuple[AllocationRound, World]
                                                                         ) -> None:
    """The engine quotes the registry's (English) reasons for a weight above 1; the Chinese reader gets them in
    Chinese, as the household's page words them."""
    from django.utils import translation

    from civicgrid.registry.vulnerability_words import summary_text
    from civicgrid.relief.text import allocation_sentence

    round, _world = round_
    allocations = list(RoundAllocation.objects.select_related("item", "household").filter(round=round))
    quoted = [a for a in allocations if " came from " in a.explanation]
    plain = [a for a in allocations if " came from " not in a.explanation]
    assert quoted and plain
    with translation.override("zh-hans"):
        for allocation in quoted:
            sentence = allocation_sentence(allocation)
            reasons = summary_text(allocation.household.vulnerability_summary)
            assert reasons and f"原因：{reasons}。" in sentence, sentence
            assert not re.search(r"[A-Za-z]", sentence), sentence
        for allocation in plain:
            assert "原因" not in allocation_sentence(allocation)
