"""Group commit of need filings (issue 11, section 3): a batch written in one transaction leaves exactly what
filing its requests one after another leaves (the independent truth: the single-filing path, run on the same
database state), and the in-memory scope check of a batch agrees with the database's scope filter.

The threaded path (several filings of one process sharing a transaction) is checked with real threads in
tests/platform/transactional/test_relief_intake_surge.py and measured by bench/bench_intake.py."""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.db import transaction

from civicgrid.accounts.roles import scope_for
from civicgrid.alerts.models import Notice
from civicgrid.core.errors import Invalid
from civicgrid.core.models import AuditLog
from civicgrid.core.scoping import NOBODY, PLATFORM, Scope, scoped, sees
from civicgrid.registry.models import Household, Resident
from civicgrid.relief import services
from civicgrid.relief.models import Item, Need, NeedFiling
from tests.platform.factories import user
from tests.platform.relief_support import catalogue, grid_households

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


class _Rollback(Exception):
    pass


def _state(since: int) -> dict[str, Any]:
    """What a run left, by natural keys (ids differ between two runs)."""
    needs = sorted(Need.objects.values_list("household_id", "item__code", "quantity", "urgency", "note", "status"))
    filings = sorted(NeedFiling.objects.values_list("key", "need__household_id", "need__item__code", "merged",
                                                    "quantity", "quantity_before", "quantity_after", "channel"))
    events = list(AuditLog.objects.filter(seq__gt=since).order_by("seq").values_list("event", "model", "action"))
    changes = [(e, {k: v for k, v in (new or {}).items() if k not in ("id", "need", "need_id", "at", "filed_at",
                                                                       "updated_at", "filed_by", "filed_by_id")})
               for e, new in AuditLog.objects.filter(seq__gt=since).order_by("seq").values_list("event", "new")]
    notices = sorted(Notice.objects.values_list("user__username", "source"))
    return {"needs": needs, "filings": filings, "events": events, "changes": changes,
            "notices": [(u, s.split(":")[0]) for u, s in notices]}


def _outcome(result: Any) -> Any:
    if isinstance(result, Exception):
        return (type(result).__name__, str(result))
    return ("filed", result.need.household_id, result.need.item.code, result.merged, result.replayed,
            result.filing.quantity_before, result.filing.quantity_after)


def _run(requests: list[services.FilingRequest], *, batch: bool) -> tuple[list[Any], dict[str, Any]]:
    """File ``requests`` (in one batch, or one after another), note what happened, then roll it all back."""
    since = AuditLog.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    outcomes: list[Any] = []
    state: dict[str, Any] = {}
    try:
        with transaction.atomic():
            if batch:
                outcomes = [_outcome(r) for r in services.need_file_many(requests)]
            else:
                for r in requests:
                    try:
                        outcomes.append(_outcome(services.need_file(
                            user=r.user, scope=r.scope, household_id=r.household_id, item=r.item,
                            quantity=r.quantity, key=r.key, urgency=r.urgency, note=r.note, channel=r.channel,
                            category=r.category)))
                    except Invalid as refusal:
                        outcomes.append(_outcome(refusal))
            state = _state(since)
            raise _Rollback
    except _Rollback:
        pass
    return outcomes, state


def _requests(rng: random.Random, n: int, items: dict[str, Item]) -> list[services.FilingRequest]:
    grid_user, resident_user = user("grid"), user("resident")
    grid_scope, resident_scope = scope_for(grid_user), scope_for(resident_user)
    own = next(iter(resident_scope.household_ids))
    mine = [h.pk for h in grid_households(limit=4)]
    elsewhere = Household.objects.exclude(grid__code__endswith="C01-G01").values_list("pk", flat=True).first()
    keys: list[str] = []
    out = []
    for i in range(n):
        who = rng.random()
        if who < 0.3:
            u, scope, household = resident_user, resident_scope, own
        else:
            u, scope = grid_user, grid_scope
            household = rng.choice([*mine, *mine, elsewhere, 10**9])  # now and then outside the area, or absent
        repeat = keys and rng.random() < 0.15
        key = rng.choice(keys) if repeat else f"batch-key-{i:04d}-{rng.randrange(10**6)}"
        keys.append(key)
        out.append(services.FilingRequest(
            user=u, scope=scope, household_id=household, item=rng.choice([*items.values(), "no-such-item"]),
            quantity=rng.choice([1, 2, 3, 5, 0, 10**9]), key=key, urgency=rng.choice(["normal", "urgent", "critical"]),
            note=rng.choice(["", "", "no lift", "stairs"]), channel=""))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_a_batch_leaves_what_filing_one_after_another_leaves(seed: int) -> None:
    items = catalogue()
    requests = _requests(random.Random(seed), 40, items)
    one_by_one, expected = _run(requests, batch=False)
    batched, got = _run(requests, batch=True)
    assert batched == one_by_one
    assert got == expected
    kinds = {o[0] for o in batched}
    assert "filed" in kinds and "Invalid" in kinds  # the draw mixes filings and refusals
    assert any(o[0] == "filed" and o[3] for o in batched)  # and merges


def test_a_batch_whose_key_was_used_before_files_each_on_its_own() -> None:
    """A resend of an already committed filing fails the batch's insert; the batch is then filed one by one:
    the resend gets its earlier result, the others are filed, nobody loses a filing."""
    items = catalogue()
    grid_user = user("grid")
    scope = scope_for(grid_user)
    households = [h.pk for h in grid_households(limit=3)]
    first = services.need_file(user=grid_user, scope=scope, household_id=households[0], item=items["food"],
                               quantity=2, key="committed-before-1")
    batch = [services.FilingRequest(user=grid_user, scope=scope, household_id=households[1], item=items["water"],
                                    quantity=1, key="fresh-key-0001"),
             services.FilingRequest(user=grid_user, scope=scope, household_id=households[0], item=items["food"],
                                    quantity=2, key="committed-before-1"),
             services.FilingRequest(user=grid_user, scope=scope, household_id=households[2], item=items["food"],
                                    quantity=4, key="fresh-key-0002")]
    results = services.need_file_many(batch)
    assert [getattr(r, "replayed", None) for r in results] == [False, True, False]
    replay = results[1]
    assert not isinstance(replay, Exception) and replay.filing.pk == first.filing.pk
    assert NeedFiling.objects.filter(key__in=["fresh-key-0001", "fresh-key-0002"]).count() == 2
    assert NeedFiling.objects.filter(key="committed-before-1").count() == 1


def test_the_in_memory_scope_check_agrees_with_the_database_filter() -> None:
    households = list(Household.objects.all())
    scopes: list[Scope] = [scope_for(user(name)) for name in ("grid", "resident", "director", "district",
                                                               "volunteer", "orgstaff")]
    scopes += [NOBODY, PLATFORM, Scope(role="grid_member", record_paths=(households[0].place_path,)),
               Scope(role="resident", household_ids=frozenset({households[-1].pk}))]
    for scope in scopes:
        in_database = set(scoped(Household.objects.all(), scope).values_list("pk", flat=True))
        in_memory = {h.pk for h in households if sees(scope, h)}
        assert in_memory == in_database, scope.role
    with pytest.raises(LookupError):  # a rule through related rows is never guessed in memory
        sees(scopes[0], Resident.objects.first())  # type: ignore[arg-type]


def test_each_refusal_in_a_batch_is_worded_in_its_own_filers_language() -> None:
    """One thread writes the group, but every refusal speaks the language of the filer it goes to."""
    import re

    items = catalogue()
    grid_user = user("grid")
    scope = scope_for(grid_user)
    elsewhere = Household.objects.exclude(grid__code__endswith="C01-G01").values_list("pk", flat=True).first()
    batch = [services.FilingRequest(user=grid_user, scope=scope, household_id=elsewhere, item=items["food"],
                                    quantity=1, key="worded-key-0001", language="zh-hans"),
             services.FilingRequest(user=grid_user, scope=scope, household_id=elsewhere, item=items["food"],
                                    quantity=1, key="worded-key-0002", language="en"),
             services.FilingRequest(user=grid_user, scope=scope, household_id=elsewhere, item="no-such-item",
                                    quantity=1, key="worded-key-0003", language="zh-hans")]
    chinese, english, unknown_item = (str(r) for r in services.need_file_many(batch))
    assert re.search(r"[\u4e00-\u9fff]", chinese) and "in your area" not in chinese
    assert "in your area" in english and not re.search(r"[\u4e00-\u9fff]", english)
    assert re.search(r"[\u4e00-\u9fff]", unknown_item) and "catalogue" not in unknown_item
