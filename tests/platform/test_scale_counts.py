"""Issue 15, the district pages at 1,000,000 households: counts read from tallies and an order read from an
index, each against a plain count or the rule it stands for.

* ``relief.needs`` (needs per grid and status), kept by every write that creates a need, changes its urgency or
  its status: after filings, a merge that raises the urgency, a cancellation, a round and a delivery it equals a
  count of the needs, and the pages that read it (status cards, home count, 3W board) equal counts of their lists.
* A need's stored tier is the round's rule (``rounds.tier_of``) after filing and merging, and the "most urgent
  first" list is in the order the rule gives.
* ``social.hours`` (the 3W board's volunteer hours): the board from the tally equals a plain reading of the
  ledger, and the board counted from the records.
* ``registry.households`` gives the home page's households and vulnerable households of each area role.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.core import tallies
from civicgrid.core.models import TallyState
from civicgrid.core.places import ancestor_at
from civicgrid.registry.models import Actor, Household, Person, Place, Post
from civicgrid.relief import needcounts, rounds, selectors, services
from civicgrid.relief.models import DeliveryTask, Need, NeedFiling
from civicgrid.relief.work import open_count
from tests.platform.factories import user
from tests.platform.relief_support import grid_households, key, lockdown, login

pytestmark = pytest.mark.django_db
AREA = ("district", "director", "grid")


def _plain() -> dict[tuple[int, str], tuple[int, int]]:
    """(grid, status) -> (needs, of them filed as critical), counted over every need."""
    cells: dict[tuple[int, str], tuple[int, int]] = {}
    for grid, status, urgency in Need.objects.values_list("household__grid_id", "status", "urgency"):
        n, critical = cells.get((grid, status), (0, 0))
        cells[(grid, status)] = (n + 1, critical + (urgency == "critical"))
    return cells


def _tallied() -> dict[tuple[int, str], tuple[int, int]]:
    return {(c["grid"], c["group"]): (int(c["needs"]), int(c["critical"])) for c in tallies.read(needcounts.NEEDS)
            if c["needs"]}


def _check_pages() -> None:
    """Each area role's status cards and home count equal counts of its own list; the 3W board's open need per
    grid equals a count of the grid's open and allocated needs."""
    from civicgrid.social import board

    for username in AREA:
        scope = scope_for(user(username))
        listed = selectors.need_list(scope=scope)
        assert selectors.need_counts(scope=scope) == dict(Counter(listed.values_list("status", flat=True))), username
        open_ = listed.filter(status="open")
        assert open_count(scope=scope, critical_only=True) == open_.filter(urgency="critical").count(), username
        assert open_count(scope=scope) == open_.count(), username
    district = Place.objects.get(level="district", parent__isnull=True)
    plain: Counter[str] = Counter()
    for path in Need.objects.filter(status__in=("open", "allocated")).values_list("household__place_path", flat=True):
        plain[ancestor_at(path, "grid")] += 1
    found = {grid: n for grid, _kind, n in board._relief_needs(paths=(district.path,), since=timezone.now())}
    assert found == dict(plain)


def test_the_needs_tally_equals_a_count_of_the_needs_after_every_kind_of_write() -> None:
    tallies.rebuild(needcounts.NEEDS)  # counted (empty): from here on only the writes keep it
    households = [h for g in ("C01-G01", "C01-G02") for h in grid_households(g)]
    world = lockdown(households=households, share=0.6)  # food and water filed by the district official
    assert _tallied() == _plain() and _plain()
    grid, g_scope = login("grid")
    mine = [h for h in households if h.grid.code.endswith("C01-G01")]
    # a filing merged into an open need and raising it to critical; a new life-critical need of a normal urgency
    services.need_file(user=grid, scope=g_scope, household_id=mine[0].pk, item=world.items["food"], quantity=1,
                       key=key(), urgency="critical", channel="visit")
    services.need_file(user=grid, scope=g_scope, household_id=mine[1].pk, item=world.items["insulin"], quantity=1,
                       key=key(), channel="visit")
    services.need_cancel(user=grid, scope=g_scope, need_id=Need.objects.filter(household=mine[2], status="open")
                         .order_by("pk").first().pk)
    assert _tallied() == _plain()
    _check_pages()
    director, d_scope = login("director")
    services.round_confirm(user=director, scope=d_scope, place_ids=[mine[0].grid.parent_id],
                           item_codes=["t-food", "t-water"], days=3, policy="equity", seed=5)
    assert _tallied() == _plain() and any(status == "allocated" for _grid, status in _plain())
    volunteer, v_scope = login("volunteer")
    task = DeliveryTask.objects.filter(status="open").order_by("pk").first()
    services.delivery_task_claim(user=volunteer, scope=v_scope, task_id=task.pk)
    for stop in task.stops.order_by("pk")[:3]:
        services.delivery_stop_deliver(user=volunteer, scope=scope_for(volunteer), stop_id=stop.pk, code=stop.code)
    assert _tallied() == _plain() and any(status == "delivered" for _grid, status in _plain())
    _check_pages()
    before = _tallied()
    tallies.rebuild(needcounts.NEEDS)  # the daily recount finds nothing to correct
    assert _tallied() == before



def test_filings_add_to_the_needs_tally_without_recounting_and_it_equals_a_count(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # need intake (issue 11) adds each batch's new needs and newly critical ones to their cells, one statement,
    # never a recount: any order of new filings, merges that raise or keep the urgency, several in one batch
    tallies.rebuild(needcounts.NEEDS)
    households = [h for g in ("C01-G01", "C01-G02", "C02-G01") for h in grid_households(g, limit=6)]
    world = lockdown(households=households[:5], share=0.6)

    def no_recount(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a filing recounted the needs tally")

    monkeypatch.setattr(tallies, "refresh", no_recount)
    monkeypatch.setattr(tallies, "rebuild", no_recount)
    district, d_scope = login("district")
    rng = random.Random(11)
    items = [world.items[name] for name in ("food", "water", "insulin")]
    for _ in range(8):  # batches as the group commit writes them: repeats of one household and item included
        batch = [services.FilingRequest(user=district, scope=selectors.filing_scope(d_scope),
                                        household_id=rng.choice(households).pk, item=rng.choice(items),
                                        quantity=rng.randint(1, 3), key=key(),
                                        urgency=rng.choice(("normal", "urgent", "critical")))
                 for _ in range(rng.randint(1, 6))]
        results = services.need_file_many(batch)
        assert not [r for r in results if isinstance(r, Exception)]
        assert _tallied() == _plain()
    assert {s for _g, s in _plain()} == {"open"} and any(c for _n, c in _plain().values())
    assert any(f.merged for f in NeedFiling.objects.all()) and Need.objects.filter(urgency="critical").exists()


def test_a_batch_the_database_refuses_is_filed_one_by_one_and_each_need_counted_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # a resend of a key committed earlier makes the batch's insert fail: the batch rolls back whole (its new needs
    # with it) and each filing is written on its own, adding to the tally then; each new need is counted once
    from civicgrid.relief import intake

    writes: list[int] = []
    file_checked = intake._file_checked

    def counted(checked: list) -> list:  # type: ignore[type-arg]
        writes.append(len(checked))
        return file_checked(checked)

    monkeypatch.setattr(intake, "_file_checked", counted)
    tallies.rebuild(needcounts.NEEDS)
    households = grid_households("C01-G01", limit=4)
    world = lockdown(households=households[:1], share=0.6)
    district, d_scope = login("district")
    scope = selectors.filing_scope(d_scope)
    used = key()
    services.need_file(user=district, scope=d_scope, household_id=households[1].pk, item=world.items["water"],
                       quantity=1, key=used)
    batch = [services.FilingRequest(user=district, scope=scope, household_id=h.pk, item=world.items["insulin"],
                                    quantity=1, key=key(), urgency="critical") for h in households[2:]]
    batch.insert(1, services.FilingRequest(user=district, scope=scope, household_id=households[1].pk,
                                           item=world.items["water"], quantity=1, key=used))
    writes.clear()
    results = services.need_file_many(batch)
    assert writes == [3, 1, 1, 1]  # the batch, refused; then each on its own
    assert [getattr(r, "replayed", None) for r in results] == [False, True, False]
    assert _tallied() == _plain()
    grid = households[2].grid_id
    assert _plain()[(grid, "open")][1] == Need.objects.filter(household__grid_id=grid, status="open",
                                                               urgency="critical").count() >= 2


def test_adding_to_a_tally_never_counted_writes_nothing_and_other_tallies_refuse_it() -> None:
    from civicgrid.core.models import TallyRow

    TallyState.objects.filter(name=needcounts.NEEDS).delete()
    TallyRow.objects.filter(name=needcounts.NEEDS).delete()
    households = grid_households("C01-G01", limit=3)
    lockdown(households=households, share=0.6)  # filed while never counted: read from the records instead
    assert not TallyRow.objects.filter(name=needcounts.NEEDS).exists()
    assert _tallied() == _plain() and _plain()
    with pytest.raises(ValueError, match="not parted by grid"):
        tallies.add("social.hours", {(households[0].grid_id, ""): (1.0,)})


def test_a_household_moving_to_another_grid_takes_its_needs_counts_along() -> None:
    # a move changes no need, only the household's grid: the grids it left and entered are recounted, by the
    # registry's edit and by a roster update import alike, so no need is counted in two grids or none
    from civicgrid.registry.services import household_update, registry_import

    tallies.rebuild(needcounts.NEEDS)
    households = grid_households("C01-G01")
    lockdown(households=households, share=0.6)
    assert _tallied() == _plain()
    director, d_scope = login("director")
    elsewhere = Place.objects.filter(level="building", parent__code__endswith="C01-G02").order_by("pk")
    moving = households[0]
    assert Need.objects.filter(household=moving).exists()
    household_update(user=director, scope=d_scope, household=moving, building=elsewhere[0])
    assert Household.objects.get(pk=moving.pk).grid.code.endswith("C01-G02")
    assert _tallied() == _plain()
    _check_pages()
    second = households[1]
    registry_import(user=director, scope=d_scope, update=True, tables={"households": [{
        "code": second.code, "building_code": elsewhere.last().code, "address": second.address,
        "housing_type": second.housing_type, "income_status": second.income_status,
        "contact_phone": second.contact_phone or ""}]})
    assert Household.objects.get(pk=second.pk).grid.code.endswith("C01-G02")
    assert _tallied() == _plain()
    _check_pages()


def test_a_write_over_many_grids_recounts_the_whole_tally(monkeypatch: pytest.MonkeyPatch) -> None:
    # a district-wide round recounts the whole tally in one pass (WHOLE grids or more): the same cells
    monkeypatch.setattr(needcounts, "WHOLE", 1)
    tallies.rebuild(needcounts.NEEDS)
    households = grid_households("C01-G01")
    lockdown(households=households, share=0.6)
    grid, g_scope = login("grid")
    services.need_cancel(user=grid, scope=g_scope, need_id=Need.objects.filter(
        household=households[0], status="open").order_by("pk").first().pk)
    assert _tallied() == _plain() and any(status == "cancelled" for _grid, status in _plain())


def test_a_needs_tier_is_the_rounds_rule_and_the_list_is_in_its_order() -> None:
    households = grid_households("C01-G01")
    world = lockdown(households=households, share=0.6)
    grid, g_scope = login("grid")
    rng = random.Random(7)
    for h in rng.sample(households, 12):  # new needs and merges, every urgency, a life-critical item among them
        item = world.items[rng.choice(["food", "water", "insulin", "medicine"])]
        services.need_file(user=grid, scope=g_scope, household_id=h.pk, item=item, quantity=1, key=key(),
                           urgency=rng.choice(["critical", "urgent", "normal"]), channel="visit")
    needs = list(Need.objects.select_related("item"))
    assert {n.tier for n in needs} == {0, 1, 2}
    assert all(n.tier == rounds.tier_of(urgency=n.urgency, life_critical=n.item.life_critical) for n in needs)
    for username in AREA:
        listed = list(selectors.need_list(scope=scope_for(user(username)), sort="urgency").select_related("item"))
        assert [n.pk for n in listed] == [n.pk for n in sorted(listed, key=lambda n: (
            rounds.tier_of(urgency=n.urgency, life_critical=n.item.life_critical), n.filed_at, n.pk))]


def test_the_boards_volunteer_hours_from_their_tally_equal_a_plain_reading_of_the_ledger() -> None:
    from civicgrid.social import board
    from civicgrid.volunteers.models import HoursApproval, HoursEntry, Volunteer

    rng = random.Random(42)
    actors = list(Actor.objects.order_by("pk")[:4])
    homes = list(Household.objects.order_by("pk"))
    volunteers, first_post = [], {}
    for i in range(6):
        person = Person.objects.create(code=f"hours-{i}", name=f"志愿者{i}")
        posts = rng.sample(actors, rng.randint(0, 2))  # one volunteer without a post: on no organisation's row
        for actor in posts:
            Post.objects.create(person=person, actor=actor, role="volunteer")
        if posts:
            first_post[person.pk] = posts[0].pk  # the first post by id
        home = rng.choice(homes)
        volunteers.append(Volunteer.objects.create(person=person, home=home.grid, place_path=home.grid.path,
                                                   joined_on=timezone.localdate()))
    today, now = timezone.localdate(), timezone.now()
    for n in range(120):
        volunteer, where = rng.choice(volunteers), rng.choice(homes)
        source = rng.choice(["delivery", "sweep", "care_visit", "manual"])
        entry = HoursEntry.objects.create(
            volunteer=volunteer, source=source, source_id=None if source == "manual" else 800_000 + n,
            hours=Decimal(rng.choice(["0.5", "1.25", "2", "3.5"])), on=today - timedelta(days=rng.randint(0, 45)),
            place_path=where.place_path, at=now, note="typed" if source == "manual" else "")
        if source == "manual" and rng.random() < 0.5:
            HoursApproval.objects.create(entry=entry, approved=True, by=user("director"), at=now)
    since = now - timedelta(days=30)
    expected: dict[tuple[str, str, int], Decimal] = defaultdict(Decimal)
    for e in HoursEntry.objects.filter(on__gte=since.date(), source__in=board.HOUR_KINDS).select_related("volunteer"):
        if e.volunteer.person_id in first_post:
            expected[(ancestor_at(e.place_path, "grid"), e.source, first_post[e.volunteer.person_id])] += e.hours
    district = Place.objects.get(level="district", parent__isnull=True)

    def read() -> dict[tuple[str, str, int], int]:
        found = board._hours(paths=(district.path,), since=since)
        assert len(found) == len({(g, k, a) for g, k, a, _w, _n in found})
        return {(g, k, a): n for g, k, a, _what, n in found}

    TallyState.objects.filter(name=board.HOURS).delete()
    from_records = read()  # never counted: from the records
    tallies.rebuild(board.HOURS)
    assert read() == from_records == {k: round(float(h)) for k, h in expected.items()} and expected


def test_the_home_pages_households_are_the_area_roles_own_counts() -> None:
    from civicgrid.registry import selectors as registry
    from civicgrid.registry.crei import HOUSEHOLDS
    from civicgrid.registry.models import vulnerable_filter

    tallies.rebuild(HOUSEHOLDS)
    for username in AREA:
        scope = scope_for(user(username))
        listed = registry.household_list(scope=scope)
        counted = registry.household_counts(scope=scope)
        assert counted is not None and counted[2] is not None, username
        assert counted[:2] == (listed.count(), listed.filter(vulnerable_filter()).count()), username
    assert registry.household_counts(scope=scope_for(user("resident"))) is None  # one household: counted live


def test_shared_tally_reads_give_the_first_reads_cells_without_a_query() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from civicgrid.registry.crei import HOUSEHOLDS

    tallies.rebuild(HOUSEHOLDS)
    plain = tallies.read(HOUSEHOLDS)
    with tallies.shared_reads():
        first = tallies.read(HOUSEHOLDS)
        with CaptureQueriesContext(connection) as queries:
            again = tallies.read(HOUSEHOLDS)
        assert len(queries) == 0 and again == first == plain and plain
        with CaptureQueriesContext(connection) as queries:
            some = tallies.read(HOUSEHOLDS, grids=[plain[0]["grid"]])  # a read of some grids is not shared
        assert len(queries) == 1 and some == [plain[0]]
    with CaptureQueriesContext(connection) as queries:
        tallies.read(HOUSEHOLDS)
    assert len(queries) == 1  # after the block, read again
