"""Issue 15: the analytics count in the database and from tallies, and still say what a plain count over the
records says. Each indicator is checked against a count written out here over the records' rows, on
randomised records; the tallies stay right after writes through the services, after a rolled-back write
and after a whole recount; the page says when a recount-only tally was counted."""

from __future__ import annotations

import math
import random
import statistics
from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from civicgrid.accounts.models import Role
from civicgrid.accounts.roles import scope_for
from civicgrid.alerts import services as alerts
from civicgrid.alerts.models import Acknowledgement, Delivery
from civicgrid.analytics.crei import units_for
from civicgrid.cases import selectors as case_selectors
from civicgrid.cases.models import Case, CaseCategory
from civicgrid.core import tallies
from civicgrid.core.models import TallyRow, TallyState
from civicgrid.core.plugins import crei_providers
from civicgrid.core.scoping import PLATFORM
from civicgrid.registry.models import Actor, Household, Place, Resident
from civicgrid.relief import services as relief
from civicgrid.relief.models import RoundAllocation
from tests.platform.relief_support import grid_households, lockdown, login, receive

pytestmark = pytest.mark.django_db
YEAR = timedelta(days=365)


def _units() -> list[dict[str, list[int]]]:
    """The district's grids, and its communities, as the CREI passes them to providers."""
    places = list(Place.objects.filter(level__in=["grid", "community"]))
    return [units_for(places, "grid")[0], units_for(places, "community")[0]]


def _same(found: dict[str, float] | None, truth: dict[str, float]) -> None:
    assert found is not None
    assert set(found) == set(truth)
    for unit, value in truth.items():
        if math.isnan(value):
            assert math.isnan(found[unit]), unit
        else:
            assert found[unit] == pytest.approx(value), unit


def _per_unit(units: dict[str, list[int]], numerator: dict[int, float], denominator: dict[int, float]) -> dict[str, float]:
    """A ratio of sums over each unit's grids; NaN where nothing is in the denominator (the contract)."""
    out = {}
    for unit, ids in units.items():
        d = sum(denominator.get(i, 0) for i in ids)
        out[unit] = sum(numerator.get(i, 0) for i in ids) / d if d else float("nan")
    return out


# --- randomised records ----------------------------------------------------------------------------
def _random_cases(rng: random.Random, n: int) -> None:
    """Cases of every state over two years, some handled late, some never, some rated."""
    now = timezone.now()
    grids = list(Place.objects.filter(level="grid"))
    category = CaseCategory.objects.first() or CaseCategory.objects.create(code="t-cat", name="t", name_zh="t")
    actors = list(Actor.objects.all()[:5])
    states = [s for s, _ in Case.State.choices]
    cases = []
    for i in range(n):
        grid = rng.choice(grids)
        reported = now - timedelta(hours=rng.uniform(1, 2 * 365 * 24))
        due = reported + timedelta(hours=rng.uniform(1, 96))
        state = rng.choices(states, weights=[6 if s == "closed" else 1 for s in states])[0]
        handled = reported + timedelta(hours=rng.uniform(0.5, 150)) if state in ("handled", "verified", "closed") \
            or rng.random() < 0.1 else None
        closed = (handled or reported) + timedelta(hours=rng.uniform(0, 48)) if state == "closed" else None
        cases.append(Case(code=f"T{i:07d}", category=category, place=grid, place_path=grid.path, grid=grid,
                          description="t", state=state, reported_at=reported, due_at=due, level_due_at=due,
                          handled_at=handled, closed_at=closed, handler=rng.choice([None, *actors]),
                          rating=rng.choice([None, None, 1, 3, 4, 5]) if state == "closed" else None))
    Case.objects.bulk_create(cases)


def test_cases_on_time_equals_a_plain_count_over_closed_cases() -> None:
    rng = random.Random(15)
    _random_cases(rng, 600)
    since = timezone.now() - YEAR
    closed: dict[int, int] = defaultdict(int)
    on_time: dict[int, int] = defaultdict(int)
    for c in Case.objects.all():
        if c.state == "closed" and c.closed_at >= since:
            closed[c.grid_id] += 1
            on_time[c.grid_id] += c.handled_at is not None and c.handled_at <= c.due_at
    assert sum(closed.values()) > 50
    for units in _units():
        _same(crei_providers()["cases_on_time"](units), _per_unit(units, on_time, closed))


def test_case_figures_equal_a_plain_computation_over_the_rows() -> None:
    rng = random.Random(16)
    _random_cases(rng, 500)
    now = timezone.now()
    for by, key_of in (("grid", lambda c: c.grid.code), ("handler", lambda c: c.handler.code if c.handler else None),
                       ("sector", lambda c: c.handler.sector if c.handler else None)):
        groups: dict[str, list[Case]] = defaultdict(list)
        for c in Case.objects.exclude(state="dismissed").select_related("grid", "handler"):
            if key_of(c) is not None:
                groups[key_of(c)].append(c)
        found = {f.key: f for f in case_selectors.case_figures(scope=PLATFORM, by=by, now=now)}  # type: ignore[arg-type]
        assert set(found) == set(groups), by
        assert list(found) == sorted(found)
        for key, rows in groups.items():
            f = found[key]
            handled = [c for c in rows if c.handled_at is not None]
            in_time = sum(1 for c in handled if c.handled_at <= c.due_at)
            late = len(handled) - in_time + sum(1 for c in rows if c.handled_at is None and c.due_at < now)
            hours = [(c.closed_at - c.reported_at).total_seconds() / 3600 for c in rows if c.state == "closed"]
            ratings = [c.rating for c in rows if c.rating is not None]
            assert (f.cases, f.handled, f.on_time, f.late, f.closed, f.rated) == (
                len(rows), len(handled), in_time, late, len(hours), len(ratings)), (by, key)
            assert f.on_time_rate == (pytest.approx(in_time / (in_time + late)) if in_time + late else None)
            assert f.mean_hours_to_close == (pytest.approx(statistics.fmean(hours)) if hours else None)
            assert f.median_hours_to_close == (pytest.approx(statistics.median(hours)) if hours else None)
            assert f.satisfaction == (pytest.approx(statistics.fmean(ratings)) if ratings else None)


def test_job_counted_indicators_equal_plain_counts_before_and_after_the_count() -> None:
    """Closed cases in time, volunteer hours (records keyed by a place path: buildings, grids and places
    above a grid, which count nowhere) and ballot turnout: the same from the records and from the job's count."""
    from django.contrib.auth import get_user_model

    from civicgrid.volunteers.models import HoursEntry, Volunteer
    from tests.platform.volunteers_support import register_volunteer

    rng = random.Random(17)
    _random_cases(rng, 400)
    volunteer = register_volunteer()
    places = list(Place.objects.filter(level__in=["community", "grid", "building"]))
    today, entries = timezone.localdate(), []
    for i in range(300):
        place = rng.choice(places)
        entries.append(HoursEntry(volunteer=volunteer, source=HoursEntry.Source.SWEEP, source_id=i + 1,
                                  hours=rng.randint(1, 800) / 100,
                                  on=today - timedelta(days=rng.randint(0, 500)), place_path=place.path,
                                  at=timezone.now(), entered_by=get_user_model().objects.first()))
    HoursEntry.objects.bulk_create(entries)
    assert Volunteer.objects.exists()
    grid_of_path = dict(Place.objects.filter(level="grid").values_list("path", "pk"))
    hours: dict[int, float] = defaultdict(float)
    for e in HoursEntry.objects.all():
        grid = next((pk for path, pk in grid_of_path.items() if e.place_path.startswith(path)), None)
        if grid is not None and e.on >= today - YEAR:
            hours[grid] += float(e.hours)
    residents: dict[int, float] = defaultdict(float)
    for grid_id in Resident.objects.values_list("household__grid_id", flat=True):
        residents[grid_id] += 1
    since = timezone.now() - YEAR
    closed: dict[int, int] = defaultdict(int)
    on_time: dict[int, int] = defaultdict(int)
    for c in Case.objects.filter(state="closed", closed_at__gte=since):
        closed[c.grid_id] += 1
        on_time[c.grid_id] += c.handled_at is not None and c.handled_at <= c.due_at
    for counted in (False, True):
        if counted:
            tallies.rebuild_stale(force=True)
        for units in _units():
            _same(crei_providers()["volunteer_hours"](units), _per_unit(units, hours, residents))
            _same(crei_providers()["cases_on_time"](units), _per_unit(units, on_time, closed))
    assert {"cases.closed", "volunteers.hours", "volunteers.training", "registry.volunteers",
            "fund.voted"} <= set(tallies.recount_only())


def test_registry_counts_equal_plain_counts_and_are_recounted_by_the_job() -> None:
    grid_of = dict(Household.objects.values_list("id", "grid_id"))
    residents: dict[int, int] = defaultdict(int)
    for household_id in Resident.objects.values_list("household_id", flat=True):
        residents[grid_of[household_id]] += 1
    households: dict[int, int] = defaultdict(int)
    for grid_id in grid_of.values():
        households[grid_id] += 1
    members: dict[int, int] = defaultdict(int)
    from civicgrid.registry.models import Post

    for place_id in Post.objects.filter(role="grid_member", place__isnull=False).values_list("place_id", flat=True):
        members[place_id] += 1
    for counted in (False, True):  # never counted (read from the records), then from the job's count
        if counted:
            tallies.rebuild("registry.residents")
        for units in _units():
            _same(crei_providers()["households_per_grid_member"](units), _per_unit(units, households, members))
            volunteers = crei_providers()["volunteers_per_1000"](units)
            assert volunteers is not None
            for unit, ids in units.items():
                n = sum(residents.get(i, 0) for i in ids)
                assert math.isnan(volunteers[unit]) if not n else volunteers[unit] >= 0
    assert tallies.as_of(["registry.residents"]) is not None


def test_vulnerable_with_helper_equals_a_plain_count() -> None:
    from civicgrid.registry.models import Person
    from civicgrid.volunteers.models import HelperAssignment

    rng = random.Random(21)
    helpers = list(Person.objects.all()[:5])
    residents = list(Resident.objects.select_related("household"))
    today = timezone.localdate()
    HelperAssignment.objects.bulk_create([  # random pairings, some of them ended
        HelperAssignment(resident=r, helper=rng.choice(helpers), kind=HelperAssignment.Kind.choices[0][0],
                         every_days=7, grid_id=r.household.grid_id, place_path=r.household.place_path,
                         started_on=today - timedelta(days=30),
                         ended_on=today - timedelta(days=1) if rng.random() < 0.3 else None)
        for r in rng.sample(residents, len(residents) // 3)])
    threshold = settings.CIVICGRID_VULNERABLE_SCORE
    paired = set(HelperAssignment.objects.filter(ended_on__isnull=True).values_list("resident_id", flat=True))
    vulnerable: dict[int, int] = defaultdict(int)
    helped: dict[int, int] = defaultdict(int)
    for pk, grid_id, score in Resident.objects.values_list("pk", "household__grid_id", "household__vulnerability_score"):
        if score >= threshold:
            vulnerable[grid_id] += 1
            helped[grid_id] += pk in paired
    for counted in (False, True):
        if counted:
            tallies.rebuild("volunteers.helpers")
        for units in _units():
            _same(crei_providers()["vulnerable_with_helper"](units), _per_unit(units, helped, vulnerable))


# --- relief: a round's confirm keeps its cells ------------------------------------------------------
def _relief_truth(units: dict[str, list[int]]) -> tuple[dict[str, float], dict[str, float]]:
    rows = list(RoundAllocation.objects.values_list("household__grid_id", "quantity", "need_quantity", "floor",
                                                    "household__vulnerability_score"))
    coverage, unmet = {}, {}
    for unit, ids in units.items():
        mine = [r for r in rows if r[0] in ids]
        vulnerable = [r for r in mine if r[4] >= settings.CIVICGRID_VULNERABLE_SCORE]
        other = [r for r in mine if r[4] < settings.CIVICGRID_VULNERABLE_SCORE]
        if not vulnerable or not other:
            coverage[unit] = unmet[unit] = float("nan")
            continue
        reached = [sum(1 for r in g if r[1] >= r[3]) / len(g) for g in (other, vulnerable)]
        coverage[unit] = reached[0] - reached[1]
        unmet_v = 1 - sum(r[1] for r in vulnerable) / sum(r[2] for r in vulnerable)
        unmet_o = 1 - sum(r[1] for r in other) / sum(r[2] for r in other)
        unmet[unit] = unmet_v - unmet_o
    return coverage, unmet


def _check_relief() -> None:
    for units in _units():
        coverage, unmet = _relief_truth(units)
        _same(crei_providers()["coverage_gap"](units), coverage)
        _same(crei_providers()["unmet_need_gap"](units), unmet)


def _cells(name: str) -> list[tuple[Any, ...]]:
    return sorted(TallyRow.objects.filter(name=name).values_list("part", "grid_id", "day", "group", "m0", "m1", "m2",
                                                                 "m3"))


def test_relief_gaps_follow_rounds_through_writes_a_rollback_and_a_recount() -> None:
    tallies.rebuild("relief.allocations")  # counted once (empty): from now on the page reads the cells
    assert crei_providers()["coverage_gap"](_units()[0]) is None
    households = grid_households("C01-G01") + grid_households("C01-G02")
    random.Random(3).shuffle(households)
    world = lockdown(households=households, share=0.4)
    community = Place.objects.get(code__endswith="C01", level="community")
    user, scope = login("director")
    relief.round_confirm(user=user, scope=scope, place_ids=[community.pk], item_codes=["t-food", "t-water"],
                         days=3, policy="fcfs", seed=1)
    assert TallyRow.objects.filter(name="relief.allocations").exists()
    _check_relief()
    # a second round, rolled back: neither allocations nor cells remain
    before = _cells("relief.allocations")
    receive(world.items["food"], world.point, 500)
    with pytest.raises(RuntimeError), transaction.atomic():
        relief.round_confirm(user=user, scope=scope, place_ids=[community.pk], item_codes=["t-food"], days=3,
                             policy="equity", seed=2)
        assert _cells("relief.allocations") != before  # counted inside the round's transaction
        raise RuntimeError("the round's transaction fails after the count")
    assert _cells("relief.allocations") == before
    relief.round_confirm(user=user, scope=scope, place_ids=[community.pk], item_codes=["t-food"], days=3,
                         policy="equity", seed=2)
    _check_relief()
    kept = _cells("relief.allocations")
    tallies.rebuild("relief.allocations")
    assert _cells("relief.allocations") == kept  # the whole recount finds what the writes kept
    _check_relief()


# --- alerts: publishing and acknowledging keep their cells ------------------------------------------
def _reach_truth(units: dict[str, list[int]]) -> dict[str, float]:
    since = timezone.localdate() - YEAR
    pairs = {(a, h, g) for a, h, g, sent in Delivery.objects.filter(household__isnull=False).values_list(
        "alert_id", "household_id", "household__grid_id", "alert__sent_at") if timezone.localtime(sent).date() >= since}
    acknowledged = set(Acknowledgement.objects.filter(household__isnull=False).values_list("alert_id", "household_id"))
    targeted: dict[int, int] = defaultdict(int)
    acked: dict[int, int] = defaultdict(int)
    for a, h, g in pairs:
        targeted[g] += 1
        acked[g] += (a, h) in acknowledged
    return _per_unit(units, acked, targeted)


def _resident_login(household: Household, i: int) -> Any:
    from django.contrib.auth import get_user_model

    account = get_user_model().objects.create(username=f"t-reach-{i}")
    Role.objects.create(user=account, role="resident", household=household, identity_clearance=True)
    return account


def test_risk_info_reach_follows_alerts_through_writes_a_rollback_and_a_recount() -> None:
    rng = random.Random(7)
    tallies.rebuild("alerts.reach")
    community = Place.objects.get(code__endswith="C01", level="community")
    old = alerts.alert_publish(user=None, scope=PLATFORM, area=community, headline_zh="旧预警", channels=["sms"],
                               now=timezone.now() - timedelta(days=400))  # outside the year: not counted
    new = [alerts.alert_publish(user=None, scope=PLATFORM, area=area, headline_zh="预警", channels=["sms"])
           for area in (community, *Place.objects.filter(parent=community, level="grid")[:2])]
    targeted = list(Household.objects.filter(pk__in=Delivery.objects.filter(household__isnull=False)
                                             .values("household_id")))
    for i, household in enumerate(rng.sample(targeted, 60)):
        account = _resident_login(household, i)
        for alert in rng.sample([old, *new], 2):
            if Delivery.objects.filter(alert=alert, household=household).exists():
                alerts.alert_acknowledge(user=account, scope=scope_for(account), alert=alert)
    assert Acknowledgement.objects.count() > 20
    for units in _units():
        _same(crei_providers()["risk_info_reach"](units), _reach_truth(units))
    before = _cells("alerts.reach")
    with pytest.raises(RuntimeError), transaction.atomic():
        alerts.alert_publish(user=None, scope=PLATFORM, area=community, headline_zh="撤回", channels=["sms"])
        raise RuntimeError("rolled back")
    assert _cells("alerts.reach") == before
    tallies.rebuild("alerts.reach")
    assert _cells("alerts.reach") == before
    for units in _units():
        _same(crei_providers()["risk_info_reach"](units), _reach_truth(units))


def test_a_tally_never_counted_is_read_from_the_records_and_rebuild_stale_counts_each_once() -> None:
    TallyState.objects.all().delete()
    from_records = {name: tallies.read(name) for name in tallies_names()}
    done = tallies.rebuild_stale()
    assert len(done) == len(tallies_names()) and tallies.rebuild_stale() == []
    for name, rows in from_records.items():
        assert sorted(map(_key, tallies.read(name))) == sorted(map(_key, rows))
    later = timezone.now() + timedelta(hours=2)
    # two hours on, the recount-only tallies (10 minutes) are due again, those kept by each write (a day) not
    assert sorted(d.split(":")[0] for d in tallies.rebuild_stale(now=later)) == sorted(tallies.recount_only())
    assert {"registry.residents", "registry.households", "volunteers.helpers"} <= set(tallies.recount_only())


def test_read_as_tuples_equals_read_counted_or_not() -> None:
    from civicgrid.core.plugins import tally_specs
    from civicgrid.registry.models import Place

    some = Place.objects.filter(level="grid").order_by("code").values("pk")[:5]

    def as_dicts(name: str, rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
        names = list(tally_specs()[name].measures())
        return [{"grid": grid, "group": group, **dict(zip(names, measures, strict=True))}
                for grid, group, *measures in rows]

    TallyState.objects.all().delete()  # never counted: both from the records
    for counted in (False, True):
        for name in tallies_names():
            for grids in (None, some):
                assert sorted(map(_key, as_dicts(name, tallies.read_tuples(name, grids=grids)))) == \
                    sorted(map(_key, tallies.read(name, grids=grids))), (name, counted)
        tallies.rebuild_stale(force=True)


def tallies_names() -> list[str]:
    from civicgrid.core.plugins import tally_specs

    return list(tally_specs())


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(sorted((k, round(float(v), 9) if isinstance(v, int | float) else v) for k, v in row.items()))


def test_the_crei_page_says_when_recount_only_figures_were_counted() -> None:
    from django.test import Client

    from tests.platform.factories import user

    client = Client(headers={"accept-language": "en"})
    client.force_login(user("district"))
    TallyState.objects.all().delete()
    page = client.get("/analytics/crei/").content.decode()
    assert "counted now from the records" in page
    tallies.rebuild_stale()
    when = timezone.localtime(TallyState.objects.get(name="registry.residents").rebuilt_at)
    page = client.get("/analytics/crei/").content.decode()
    assert f"as of {when:%Y-%m-%d %H:%M}" in page


# --- queries per page, pinned ---------------------------------------------------------------------------
# The most queries each analytics page may run: one grouped query per indicator (plus a tally's "counted
# yet?" look-up), never one per unit or per record. Measured on the test world (38, 38, 17, 5, 5, 5), pinned
# with two to spare: a new indicator raises its page's pin here, on purpose.
PINNED = {"/analytics/crei/": 40, "/analytics/crei/?level=community": 40, "/analytics/governance/": 19,
          "/cases/figures/": 7, "/cases/figures/?by=handler": 7, "/api/cases/figures?by=grid": 7}


def _page_queries(username: str) -> dict[str, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tests.platform.factories import user

    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(user(username))
    out = {}
    for url in PINNED:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        out[url] = len(queries.captured_queries)
    return out


def test_analytics_pages_run_a_pinned_number_of_queries_whatever_the_records() -> None:
    tallies.rebuild_stale(force=True)
    before = {role: _page_queries(role) for role in ("district", "director")}
    # more of everything the pages count: cases, a round, alerts and acknowledgements
    _random_cases(random.Random(5), 300)
    community = Place.objects.get(code__endswith="C01", level="community")
    lockdown(households=grid_households("C01-G01"), share=0.5)
    user, scope = login("director")
    relief.round_confirm(user=user, scope=scope, place_ids=[community.pk], item_codes=["t-food"], days=3,
                         policy="equity", seed=4)
    alert = alerts.alert_publish(user=None, scope=PLATFORM, area=community, headline_zh="预警", channels=["sms"])
    for i, household in enumerate(Household.objects.filter(pk__in=Delivery.objects.filter(alert=alert)
                                                           .values("household_id"))[:10]):
        account = _resident_login(household, 100 + i)
        alerts.alert_acknowledge(user=account, scope=scope_for(account), alert=alert)
    after = {role: _page_queries(role) for role in ("district", "director")}
    for role, counts in after.items():
        for url, n in counts.items():
            assert n <= PINNED[url], (role, url, n)
            assert n <= before[role][url] + 2, (role, url, before[role][url], n)  # a section may appear
