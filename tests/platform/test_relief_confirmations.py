"""A large round's confirmation as a background job: the job makes exactly the round the synchronous confirm makes
for the same selection and seed (every row compared), reports its stages before the write transaction, is marked
done with its round in the round's own transaction (so a failure there leaves no round, and a job run again makes
one round), and is refused, with its reason in the reader's language and no round, when needs changed since the
preview. The allocation page queues a confirmation from ``background_requests`` requests on, and confirms smaller
ones within the request as before; a second confirmation of the same selection is refused while one is under way."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from civicgrid.core.errors import Conflict, Forbidden, Invalid
from civicgrid.core.models import AuditLog
from civicgrid.registry.models import Household, Place
from civicgrid.relief import jobs, selectors, services
from civicgrid.relief.confirmations import JOB, selection_key
from civicgrid.relief.models import AllocationRound, LedgerEntry, Need, RoundConfirmation
from civicgrid.relief.work import work_items
from tests.platform.relief_support import client_for, key, login
from tests.platform.test_relief_round_bulk import DAYS, _random_world, _written

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
SEED = 7


class _Rollback(Exception):
    pass


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> Any:
    """One clock for the synchronous and the queued confirmation, so their rows (confirmed at, due at, needs'
    updated at) can be compared whole."""
    now = timezone.now().replace(microsecond=0) + timedelta(minutes=5)
    monkeypatch.setattr(timezone, "now", lambda: now)
    return now


def _selection(places: list[Place], items: dict[str, Any]) -> dict[str, Any]:
    return {"place_ids": [p.pk for p in places], "item_codes": [i.code for i in items.values()], "days": DAYS}


def _request(places: list[Place], items: dict[str, Any], *, username: str = "district", policy: str = "equity",
             seed: int = SEED) -> tuple[RoundConfirmation, str]:
    user, scope = login(username)
    preview = selectors.round_preview(scope=scope, seed=seed, **_selection(places, items))
    confirmation = services.round_confirmation_request(
        user=user, scope=scope, policy=policy, seed=seed, fingerprint=preview.inputs.fingerprint,
        n_requests=len(preview.inputs.requests), **_selection(places, items))
    return confirmation, preview.inputs.fingerprint


def _events(event: str, confirmation: RoundConfirmation) -> int:
    return AuditLog.objects.filter(event=event, object_id=str(confirmation.pk)).count()


@pytest.mark.parametrize(("seed", "policy"), [(1, "equity"), (3, "lottery")])
def test_the_job_makes_exactly_the_round_the_synchronous_confirm_makes(
        seed: int, policy: str, frozen_now: Any, monkeypatch: pytest.MonkeyPatch,
        django_capture_on_commit_callbacks: Any) -> None:
    places, items = _random_world(seed)
    user, scope = login("district")
    preview = selectors.round_preview(scope=scope, seed=seed, **_selection(places, items))
    try:
        with transaction.atomic():
            round = services.round_confirm(user=user, scope=scope, policy=policy, seed=seed,
                                           fingerprint=preview.inputs.fingerprint, **_selection(places, items))
            alone = _written(round)
            raise _Rollback
    except _Rollback:
        pass
    assert not AllocationRound.objects.exists()
    assert alone["allocations"] and alone["tasks"] and alone["ledger"]

    with django_capture_on_commit_callbacks() as queued:
        confirmation, _ = _request(places, items, policy=policy, seed=seed)
    assert len(queued) == 1  # the job is queued once the request's transaction commits
    assert confirmation.status == RoundConfirmation.Status.QUEUED and confirmation.round_id is None
    assert confirmation.n_requests == len(preview.inputs.requests)

    seen: list[tuple[str, int]] = []
    real = jobs.run_progress

    def watched(model: Any, run_id: int) -> Any:
        report = real(model, run_id)

        def progress(done: int, total: int) -> None:
            report(done, total)
            row = RoundConfirmation.objects.get(pk=run_id)  # what the page reads while the job runs
            seen.append((row.status, row.progress))
            assert not AllocationRound.objects.exists()  # every stage is reported before the round is written

        return progress

    monkeypatch.setattr(jobs, "run_progress", watched)
    jobs.run_round_confirmation(confirmation.pk)

    confirmation.refresh_from_db()
    assert confirmation.status == RoundConfirmation.Status.DONE, confirmation.error
    assert confirmation.progress == 100
    made = AllocationRound.objects.get()
    assert confirmation.round_id == made.pk and confirmation.result["round"] == made.pk
    assert made.confirmed_by == user and made.seed == seed and made.policy == policy
    queued_rows = _written(made)
    for part in alone:
        assert queued_rows[part] == alone[part], part
    # four stages (read, engine, plan, writing), each seen by the page as the job runs, rising
    assert [s for s, _ in seen] == ["running"] * len(services.ROUND_STAGES)
    progress = [p for _, p in seen]
    assert progress == sorted(progress) and len(set(progress)) == len(progress) and progress[-1] < 100
    assert _events("relief.confirmation_requested", confirmation) == 1
    assert _events("relief.confirmation_finished", confirmation) == 1
    assert AuditLog.objects.filter(event="relief.round_confirmed", object_id=str(made.pk)).count() == 1


def test_a_failure_in_the_confirmations_own_update_leaves_no_round_and_asking_again_makes_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    places, items = _random_world(4)
    confirmation, _ = _request(places, items)
    needs_before = sorted(Need.objects.values_list("id", "allocated_quantity", "status"))

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the worker lost its database connection")

    monkeypatch.setattr(jobs, "run_finish", broken)
    # not raised again: failed for good, said at once (a queue retry would confirm behind the official's back)
    assert "failed: RuntimeError" in jobs.run_round_confirmation(confirmation.pk)
    confirmation.refresh_from_db()
    assert confirmation.status == RoundConfirmation.Status.FAILED and confirmation.round_id is None
    assert confirmation.error == "RuntimeError: the worker lost its database connection"  # for the operators
    assert _events("relief.confirmation_failed", confirmation) == 1
    # marked done in the round's transaction: its failure rolled the round back whole
    assert not AllocationRound.objects.exists()
    assert not LedgerEntry.objects.filter(kind="allocation").exists()
    assert sorted(Need.objects.values_list("id", "allocated_quantity", "status")) == needs_before

    monkeypatch.undo()
    assert jobs.run_round_confirmation(confirmation.pk).endswith("already finished")  # the job delivered again
    confirmation.refresh_from_db()
    assert confirmation.status == RoundConfirmation.Status.FAILED and not AllocationRound.objects.exists()
    again, _ = _request(places, items)  # the official asks again: the selection is free
    jobs.run_round_confirmation(again.pk)
    again.refresh_from_db()
    assert again.status == RoundConfirmation.Status.DONE
    assert AllocationRound.objects.get().pk == again.round_id


def test_a_job_run_twice_makes_one_round(monkeypatch: pytest.MonkeyPatch) -> None:
    places, items = _random_world(5)
    confirmation, _ = _request(places, items)
    jobs.run_round_confirmation(confirmation.pk)
    assert jobs.run_round_confirmation(confirmation.pk).endswith("already finished")
    assert AllocationRound.objects.count() == 1
    # delivered again as if the first run had not finished when the second began: the second confirm is refused
    # (the needs are allocated now), and the confirmation stays done with its round
    monkeypatch.setattr(jobs, "run_begin", lambda model, run_id, **options: True)
    jobs.run_round_confirmation(confirmation.pk)
    confirmation.refresh_from_db()
    assert AllocationRound.objects.count() == 1
    assert confirmation.status == RoundConfirmation.Status.DONE and confirmation.round_id is not None
    assert _events("relief.confirmation_failed", confirmation) == 0


def test_a_run_that_finds_the_confirmation_done_when_it_writes_rolls_its_round_back(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two deliveries of the job at once, both past their reads: the one that writes second finds the confirmation
    done under its lock, and its round is rolled back. (Here the other delivery's commit is played, while this run
    plans, by a round of the other community and the confirmation marked done with it.)"""
    places, items = _random_world(6)
    c01 = [p for p in places if p.code.endswith("C01")]
    c02 = [p for p in places if p.code.endswith("C02")]
    confirmation, _ = _request(c01, items)
    user, scope = login("district")
    other: list[AllocationRound] = []
    real = jobs.run_progress

    def meanwhile(model: Any, run_id: int) -> Any:
        report = real(model, run_id)

        def progress(done: int, total: int) -> None:
            report(done, total)
            if done == total - 1:  # writing next: the other delivery commits first
                other.append(services.round_confirm(user=user, scope=scope, policy="equity", seed=1,
                                                    **_selection(c02, items)))
                RoundConfirmation.objects.filter(pk=run_id).update(status=RoundConfirmation.Status.DONE,
                                                                   round=other[0], progress=100)

        return progress

    monkeypatch.setattr(jobs, "run_progress", meanwhile)
    c01_needs = sorted(Need.objects.filter(household__place_path__startswith=c01[0].path)
                       .values_list("id", "allocated_quantity", "status"))
    assert jobs.run_round_confirmation(confirmation.pk).endswith("not confirmed by this run: the confirmation is "
                                                                  "done already")
    assert list(AllocationRound.objects.all()) == other  # this run's round is gone
    assert sorted(Need.objects.filter(household__place_path__startswith=c01[0].path)
                  .values_list("id", "allocated_quantity", "status")) == c01_needs
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.round_id) == (RoundConfirmation.Status.DONE, other[0].pk)
    assert _events("relief.confirmation_finished", confirmation) == 0
    assert _events("relief.confirmation_failed", confirmation) == 0


def test_a_change_since_the_preview_fails_the_confirmation_with_its_reason_and_no_round() -> None:
    places, items = _random_world(9)
    confirmation, _ = _request(places, items)
    user, scope = login("district")
    household = Household.objects.filter(relief_needs__isnull=True).order_by("code").first()
    assert household is not None
    services.need_file(user=user, scope=scope, household_id=household.pk, item=items["water"], quantity=1, key=key())
    assert jobs.run_round_confirmation(confirmation.pk).endswith("refused")  # a result: not raised, not retried
    confirmation.refresh_from_db()
    assert confirmation.status == RoundConfirmation.Status.FAILED and confirmation.round_id is None
    assert confirmation.error.splitlines()[0] == jobs.REFUSED
    assert not AllocationRound.objects.exists()
    assert _events("relief.confirmation_failed", confirmation) == 1
    assert jobs.run_round_confirmation(confirmation.pk).endswith("already finished")  # delivered again: left alone
    assert _events("relief.confirmation_failed", confirmation) == 1

    url = f"/relief/rounds/confirmations/{confirmation.pk}/"
    english = client_for("district", "en").get(url).content.decode()
    assert "Needs or stock changed since your preview" in english and 'http-equiv="refresh"' not in english
    chinese = client_for("district", "zh-hans").get(url).content.decode()
    assert "预览之后需求或库存已变化" in chinese and "Needs or stock" not in chinese
    # on the requester's work list until previewed again (a day)
    with translation.override("en"):  # (the last page asked in Chinese left it active)
        listed = [w for w in work_items(user=user, scope=scope) if w.kind == "relief.confirmation"]
    assert [w.url for w in listed] == [url] and listed[0].detail == "not confirmed: preview the round again"
    # a new confirmation of the same selection may be asked for once this one has failed; asked in Chinese, it is
    # refused in Chinese (as the confirmation within the request would have been), and said plainly in English
    with translation.override("zh-hans"):
        again, _ = _request(places, items)
    assert again.pk != confirmation.pk and again.language == "zh-hans"
    other = Household.objects.filter(relief_needs__isnull=True).order_by("code").first()
    services.need_file(user=user, scope=scope, household_id=other.pk, item=items["water"], quantity=1, key=key())
    jobs.run_round_confirmation(again.pk)
    url = f"/relief/rounds/confirmations/{again.pk}/"
    assert "预览之后需求或库存已变化" in client_for("district", "zh-hans").get(url).content.decode()
    english = client_for("district", "en").get(url).content.decode()
    assert "The round could not be confirmed" in english and "预览" not in english


def test_the_request_refuses_what_the_confirm_refuses_and_a_second_one_of_the_same_selection() -> None:
    places, items = _random_world(2)
    confirmation, fingerprint = _request(places, items)
    user, scope = login("district")
    selection = _selection(places, items)
    with pytest.raises(Conflict):  # a double tap
        services.round_confirmation_request(user=user, scope=scope, policy="equity", seed=SEED,
                                            fingerprint=fingerprint, **selection)
    with pytest.raises(Conflict):  # the same places, items and days picked in another order, another policy
        services.round_confirmation_request(
            user=user, scope=scope, policy="fcfs", seed=1, fingerprint=fingerprint,
            **{**selection, "place_ids": selection["place_ids"][::-1], "item_codes": selection["item_codes"][::-1]})
    with pytest.raises(Invalid):
        services.round_confirmation_request(user=user, scope=scope, policy="fastest", seed=SEED,
                                            fingerprint=fingerprint, **{**selection, "days": 2})
    with pytest.raises(Invalid):
        services.round_confirmation_request(user=user, scope=scope, policy="equity", seed=-1,
                                            fingerprint=fingerprint, **{**selection, "days": 2})
    with pytest.raises(Invalid):
        services.round_confirmation_request(user=user, scope=scope, policy="equity", seed=SEED, fingerprint="",
                                            **{**selection, "days": 2})
    director, director_scope = login("director")
    with pytest.raises(Invalid):  # C02 is not the director's
        services.round_confirmation_request(user=director, scope=director_scope, policy="equity", seed=SEED,
                                            fingerprint=fingerprint, **selection)
    grid, grid_scope = login("grid")
    with pytest.raises(Forbidden):
        services.round_confirmation_request(user=grid, scope=grid_scope, policy="equity", seed=SEED,
                                            fingerprint=fingerprint, **selection)
    assert RoundConfirmation.objects.count() == 1
    assert confirmation.selection_key == selection_key(place_ids=sorted(selection["place_ids"]),
                                                       item_codes=sorted(selection["item_codes"]), days=DAYS)


def test_the_schema_keeps_one_confirmation_under_way_per_selection_and_done_only_with_a_round() -> None:
    places, items = _random_world(3)
    confirmation, _ = _request(places, items)
    fields = {f: getattr(confirmation, f) for f in ("place_path", "place_ids", "item_codes", "days", "policy", "seed",
                                                   "fingerprint", "selection_key")}
    with pytest.raises(IntegrityError), transaction.atomic():  # a race the request's check missed
        RoundConfirmation.objects.create(**fields, status=RoundConfirmation.Status.RUNNING)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoundConfirmation.objects.filter(pk=confirmation.pk).update(status=RoundConfirmation.Status.DONE)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoundConfirmation.objects.filter(pk=confirmation.pk).update(progress=101)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoundConfirmation.objects.filter(pk=confirmation.pk).update(fingerprint="")
    for below_an_id in (0, -5):
        with pytest.raises(IntegrityError), transaction.atomic():
            RoundConfirmation.objects.filter(pk=confirmation.pk).update(needs_up_to=below_an_id)
    RoundConfirmation.objects.filter(pk=confirmation.pk).update(status=RoundConfirmation.Status.FAILED)
    RoundConfirmation.objects.create(**fields)  # once failed, the selection may be queued again


def test_the_page_is_scoped_and_refreshes_itself_while_under_way() -> None:
    places, items = _random_world(8)
    c02 = [p for p in places if p.code.endswith("C02")]
    confirmation, _ = _request(c02, items)
    url = f"/relief/rounds/confirmations/{confirmation.pk}/"
    page = client_for("district", "zh-hans").get(url)
    text = page.content.decode()
    assert page.status_code == 200 and 'http-equiv="refresh" content="2"' in text
    assert "排队中" in text and 'id="progress"' in text and "进度" in text
    assert client_for("director").get(url).status_code == 404  # C02 is not the director's: it looks absent
    assert client_for("grid").get(url).status_code == 403
    listed = client_for("district").get("/relief/rounds/").content.decode()
    assert url in listed

    jobs.run_round_confirmation(confirmation.pk)
    with CaptureQueriesContext(connection) as queries:
        done = client_for("district", "zh-hans").get(url).content.decode()
    # the round's numbers, never its snapshot or result (seconds to decode for a district round)
    assert not [q for q in queries if re.search(r'"relief_allocationround"\."(snapshot|result)"[,\s]', q["sql"])]
    round = AllocationRound.objects.get()
    assert 'http-equiv="refresh"' not in done and f"/relief/rounds/{round.pk}/" in done and "分配已确认" in done


# --- the allocation page ----------------------------------------------------------------------------------------
def _post(client: Any, places: list[Place], items: dict[str, Any]) -> Any:
    user, scope = login("district")
    preview = selectors.round_preview(scope=scope, seed=SEED, **_selection(places, items))
    return client.post("/relief/rounds/preview/", {
        "places": [p.pk for p in places], "items": [i.code for i in items.values()], "days": DAYS,
        "policy": "equity", "seed": SEED, "fingerprint": preview.inputs.fingerprint,
        "n_requests": len(preview.inputs.requests)})


def test_below_the_threshold_the_page_confirms_within_the_request(settings: Any) -> None:
    places, items = _random_world(11)
    requests = len(selectors.round_preview(scope=login("district")[1], seed=SEED,
                                           **_selection(places, items)).inputs.requests)
    settings.CIVICGRID_RELIEF = {"background_requests": requests + 1}
    response = _post(client_for("district"), places, items)
    round = AllocationRound.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/relief/rounds/{round.pk}/"
    assert not RoundConfirmation.objects.exists()


def test_at_the_threshold_the_page_queues_the_confirmation_and_a_second_post_is_refused(
        settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    places, items = _random_world(12)
    requests = len(selectors.round_preview(scope=login("district")[1], seed=SEED,
                                           **_selection(places, items)).inputs.requests)
    settings.CIVICGRID_RELIEF = {"background_requests": requests}
    client = client_for("district")
    with django_capture_on_commit_callbacks() as queued:
        response = _post(client, places, items)
    confirmation = RoundConfirmation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/relief/rounds/confirmations/{confirmation.pk}/"
    assert [c.__qualname__ for c in queued] == ["enqueue.<locals>.push"]
    assert not AllocationRound.objects.exists()  # nothing confirmed within the request
    again = _post(client, places, items)  # the double tap
    assert again.status_code == 200 and "already being confirmed" in again.content.decode()
    assert RoundConfirmation.objects.count() == 1 and not AllocationRound.objects.exists()
    assert JOB == "civicgrid.relief.jobs.run_round_confirmation"


def test_a_confirmation_the_queue_lost_is_failed_and_frees_its_selection(
        django_capture_on_commit_callbacks: Any) -> None:
    """A job never run (its push lost, its worker killed every time): past the queue's last possible attempt
    (``core.runs.lost_after``, from the queue's own settings) the periodic command fails it, audited; a new
    request for the selection is then taken, and the lost job, if it ever runs, starts nothing."""
    from django.conf import settings
    from django.core.management import call_command

    from civicgrid.core.runs import lost_after

    queue = settings.Q_CLUSTER
    assert lost_after() == timedelta(seconds=queue["retry"] * queue["max_attempts"] + queue["timeout"])
    places, items = _random_world(8)
    lost, _ = _request(places, items)
    with pytest.raises(Conflict):  # under way: the selection is held
        _request(places, items)
    RoundConfirmation.objects.filter(pk=lost.pk).update(created_at=timezone.now() - lost_after() + timedelta(
        minutes=1))
    call_command("relief_confirmations_lost")
    lost.refresh_from_db()
    assert lost.status == RoundConfirmation.Status.QUEUED  # not yet: the queue may still run it
    RoundConfirmation.objects.filter(pk=lost.pk).update(created_at=timezone.now() - lost_after() - timedelta(
        minutes=1))
    call_command("relief_confirmations_lost")
    lost.refresh_from_db()
    assert lost.status == RoundConfirmation.Status.FAILED and lost.error.startswith("lost")
    assert _events("relief.confirmation_failed", lost) == 1
    again, _ = _request(places, items)
    assert jobs.run_round_confirmation(lost.pk).endswith("already finished")
    lost.refresh_from_db()
    assert lost.status == RoundConfirmation.Status.FAILED and not AllocationRound.objects.exists()
    jobs.run_round_confirmation(again.pk)
    assert AllocationRound.objects.get().pk == RoundConfirmation.objects.get(pk=again.pk).round_id


def test_a_lost_confirmation_is_failed_by_the_next_request_for_its_selection() -> None:
    places, items = _random_world(9)
    lost, _ = _request(places, items)
    RoundConfirmation.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(days=1))
    again, _ = _request(places, items)  # no minute's wait for the periodic command
    lost.refresh_from_db()
    assert lost.status == RoundConfirmation.Status.FAILED and again.status == RoundConfirmation.Status.QUEUED


def test_a_requester_who_lost_the_role_gets_a_refusal_that_speaks_of_them_not_of_the_reader() -> None:
    from civicgrid.accounts.models import Role

    places, items = _random_world(10)
    confirmation, _ = _request(places, items)
    user, _scope = login("district")
    Role.objects.filter(user=user).update(role="grid_member")
    assert jobs.run_round_confirmation(confirmation.pk).endswith("refused")
    confirmation.refresh_from_db()
    assert confirmation.status == RoundConfirmation.Status.FAILED and not AllocationRound.objects.exists()
    assert confirmation.error.split("\n") == [
        jobs.REFUSED, "The account that asked for this round may no longer allocate these places or items."]
    Role.objects.filter(user=user).update(role="district_official")
    page = client_for("district").get(f"/relief/rounds/confirmations/{confirmation.pk}/").content.decode()
    assert "may no longer allocate these places" in page and "Your role" not in page
    chinese = client_for("district", "zh-hans").get(f"/relief/rounds/confirmations/{confirmation.pk}/")
    assert "已无权为这些地点或物资分配" in chinese.content.decode()


@pytest.mark.parametrize("count", ["many", -1, 2**31, 1.5, None])
def test_a_request_count_that_is_not_a_count_is_refused_by_field(count: Any) -> None:
    places, items = _random_world(12)
    user, scope = login("district")
    preview = selectors.round_preview(scope=scope, seed=SEED, **_selection(places, items))
    with pytest.raises(Invalid) as refused:
        services.round_confirmation_request(user=user, scope=scope, policy="equity", seed=SEED,
                                            fingerprint=preview.inputs.fingerprint, n_requests=count,
                                            **_selection(places, items))
    assert "n_requests" in refused.value.message_dict
    assert not RoundConfirmation.objects.exists()


def test_progress_moves_only_a_running_run_and_a_done_run_never_begins_again() -> None:
    from civicgrid.core.runs import run_begin, run_progress

    places, items = _random_world(13)
    confirmation, _ = _request(places, items)
    progress = run_progress(RoundConfirmation, confirmation.pk)
    progress(1, 2)
    assert RoundConfirmation.objects.get(pk=confirmation.pk).progress == 0  # queued: not moved
    assert run_begin(RoundConfirmation, confirmation.pk, again_if_failed=False)
    progress(1, 2)
    assert RoundConfirmation.objects.get(pk=confirmation.pk).progress == 50
    jobs.run_round_confirmation(confirmation.pk)
    progress(1, 4)  # a second delivery still computing
    done = RoundConfirmation.objects.get(pk=confirmation.pk)
    assert (done.status, done.progress) == (RoundConfirmation.Status.DONE, 100)
    assert not run_begin(RoundConfirmation, confirmation.pk)


def test_a_confirmation_failed_as_lost_while_its_job_still_ran_makes_no_round(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lost timer counts from the request: a job that waited behind others may still be writing when the
    confirmation is failed as lost. Its page already says nothing was allocated, so the run rolls its round back."""
    from civicgrid.relief.confirmations import confirmations_lost_fail

    places, items = _random_world(15)
    confirmation, _ = _request(places, items)
    needs_before = sorted(Need.objects.values_list("id", "allocated_quantity", "status"))
    real = jobs.run_progress

    def late(model: Any, run_id: int) -> Any:
        report = real(model, run_id)

        def progress(done: int, total: int) -> None:
            report(done, total)
            if done == total - 1:  # writing next: the periodic job finds it past the queue's last attempt
                RoundConfirmation.objects.filter(pk=run_id).update(created_at=timezone.now() - timedelta(days=1))
                assert confirmations_lost_fail() == 1

        return progress

    monkeypatch.setattr(jobs, "run_progress", late)
    assert "not confirmed by this run: the confirmation is failed already" in jobs.run_round_confirmation(
        confirmation.pk)
    confirmation.refresh_from_db()
    assert confirmation.status == RoundConfirmation.Status.FAILED and confirmation.round_id is None
    assert confirmation.error.startswith("lost")
    assert not AllocationRound.objects.exists()
    assert sorted(Need.objects.values_list("id", "allocated_quantity", "status")) == needs_before
    assert _events("relief.confirmation_finished", confirmation) == 0
    assert _events("relief.confirmation_failed", confirmation) == 1


def test_a_failure_never_overwrites_a_confirmation_another_delivery_finished() -> None:
    from civicgrid.core.runs import run_fail

    places, items = _random_world(16)
    confirmation, _ = _request(places, items)
    jobs.run_round_confirmation(confirmation.pk)
    assert run_fail(RoundConfirmation, confirmation.pk, event="relief.confirmation_failed", error="late") is False
    confirmation.refresh_from_db()
    assert confirmation.status == RoundConfirmation.Status.DONE and confirmation.round_id is not None
    assert confirmation.error == "" and _events("relief.confirmation_failed", confirmation) == 0


def test_a_grievance_about_a_round_names_it_without_reading_its_snapshot() -> None:
    """A complaint's subject is a round's number and place; its snapshot and result stay unread."""
    from civicgrid.grievances.subjects import resolve

    places, items = _random_world(9)
    confirmation, _ = _request(places, items)
    jobs.run_round_confirmation(confirmation.pk)
    round = AllocationRound.objects.select_related("place").get()
    with CaptureQueriesContext(connection) as queries:
        subject = resolve(scope=login("district")[1], kind="relief_round", ref=str(round.pk))
    assert subject.label == f"#{round.pk} {round.place.name}" and subject.path == round.place.path
    assert not [q for q in queries if re.search(r'"relief_allocationround"\."(snapshot|result)"[,\s]', q["sql"])]
