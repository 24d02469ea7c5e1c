"""Issue 15, every page at scale: the generic causes bench/bench_pages_scale.py found, each with a test.

* Path scoping (``core.places.under``, the ``__under`` lookup) keeps exactly the rows a plain prefix test keeps,
  whatever the characters (case, Chinese, LIKE's wildcards), and on SQLite a community's scope is read through
  the path index instead of the whole table.
* Lists that bring an allocation round along with their rows (the needs API's progress, a task) never read the
  round's frozen snapshot and plan: megabytes of JSON per row for a district round.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from civicgrid.accounts.roles import scope_for
from civicgrid.core.places import under
from civicgrid.registry.models import Household, Place
from civicgrid.relief import services as relief
from civicgrid.relief.models import DistributionPoint, Item
from tests.platform.factories import user
from tests.platform.home_support import build
from tests.platform.relief_support import receive

pytestmark = pytest.mark.django_db

ODD = ["a", "A", "z", "Z", "0", "9", "/", "-", "%", "_", "\\", "'", "幸", "福", "é", "~", "\x7f"]


def _odd_places(rng: random.Random, n: int) -> None:
    """Buildings whose paths mix the characters a LIKE or a range could get wrong."""
    parent = Place.objects.filter(level="grid").first()
    Place.objects.bulk_create([
        Place(level="building", code=f"odd-{i}", name="odd", parent=parent,
              path="".join(rng.choice(ODD) for _ in range(rng.randint(1, 6))) + f"/{i}/")
        for i in range(n)])


def _paged(client: Client, url: str, *, rows: Callable[[str], int], per_page: int,
           each: Callable[[str], None] | None = None) -> int:
    """The rows a paged page shows on its pages, followed by their "next" links (››): each page holds 1 to
    ``per_page`` rows (``rows(html)``) and is given to ``each`` too."""
    shown, path = 0, url.split("?")[0]
    following: str | None = url
    while following:
        html = client.get(following).content.decode()
        assert 0 < rows(html) <= per_page
        shown += rows(html)
        if each is not None:
            each(html)
        found = re.search(r'href="(\?[^"]*page=\d+)">[^<]*›', html)
        following = path + found.group(1).replace("&amp;", "&") if found else None
    return shown


def _offsets(client: Client, url: str, per_page: int, key: Callable[[Any], Any]) -> list[Any]:
    """Every row of an API list, read by ``offset`` until an empty page; each page holds at most ``per_page``."""
    listed: list[Any] = []
    offset = 0
    while batch := client.get(f"{url}?offset={offset}").json():
        assert len(batch) <= per_page
        listed += [key(row) for row in batch]
        offset += per_page
    return listed


def test_under_keeps_exactly_what_a_plain_prefix_test_keeps() -> None:
    rng = random.Random(15)
    _odd_places(rng, 150)
    paths = list(Place.objects.values_list("path", flat=True))
    prefixes = {p[:k] for p in rng.sample(paths, 60) for k in range(1, len(p) + 1)}
    prefixes |= {p.swapcase() for p in list(prefixes)[:40]}  # a prefix in the other case keeps nothing of these
    prefixes |= {"".join(rng.choice(ODD) for _ in range(rng.randint(1, 3))) for _ in range(60)}
    for prefix in sorted(prefixes):
        found = set(Place.objects.filter(under("path", [prefix])).values_list("path", flat=True))
        assert found == {p for p in paths if p.startswith(prefix)}, prefix
    two = sorted(prefixes)[:2]
    assert set(Place.objects.filter(under("path", two)).values_list("path", flat=True)) == {
        p for p in paths if p.startswith(tuple(two))}
    assert not Place.objects.filter(under("path", [])).exists()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan")
def test_a_community_scope_is_read_through_the_path_index_and_a_district_keeps_the_lists_order() -> None:
    def plan(path: str) -> str:
        qs = Household.objects.filter(under("place_path", [path])).order_by("code")[:50]
        sql, params = qs.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return " | ".join(str(row[-1]) for row in cursor.fetchall())

    community = Place.objects.filter(level="community").first()
    district = Place.objects.get(level="district", parent__isnull=True)
    assert "place_path" in plan(community.path) and "SCAN registry_household" not in plan(community.path)
    assert "place_path" not in plan(district.path)  # the whole district: no index on the prefix


def test_the_needs_api_and_a_task_never_read_a_rounds_snapshot() -> None:
    build()
    director, grid = user("director"), user("grid")
    d_scope, g_scope = scope_for(director), scope_for(grid)
    home = user("resident").role.household
    food = Item.objects.get(code="t-food")
    for h in Household.objects.filter(grid_id=home.grid_id).order_by("code")[:10]:
        relief.need_file(user=grid, scope=g_scope, household_id=h.pk, item=food, quantity=3, key=uuid.uuid4().hex,
                         channel="visit")
    receive(food, DistributionPoint.objects.get(place=director.role.place), 500)
    relief.round_confirm(user=director, scope=d_scope, place_ids=[home.grid_id], item_codes=["t-food"], days=3,
                         policy="equity", seed=9)
    client = Client()
    client.force_login(director)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/relief/needs")
    assert response.status_code == 200
    assert any(n["status"] != "open" or n.get("progress") for n in response.json())
    reads = [q["sql"] for q in queries.captured_queries if "relief_allocationround" in q["sql"]]
    assert reads, "the progress reads the allocations with their round"
    assert not [sql for sql in reads if "snapshot" in sql or '"result"' in sql]
    from civicgrid.relief import selectors
    from civicgrid.relief.models import DeliveryTask

    task = DeliveryTask.objects.first()
    assert task is not None
    with CaptureQueriesContext(connection) as queries:
        assert selectors.task_get(scope=d_scope, user=director, task_id=task.pk).round_id == task.round_id
    assert not [q["sql"] for q in queries.captured_queries if "snapshot" in q["sql"]]


def test_helper_coverage_equals_a_plain_count_for_every_scope() -> None:
    """Vulnerable residents and those with an active helper per grid (the coverage page, the home glance),
    on random pairings some of them ended, against a count over the rows, as the district and the director."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from civicgrid.registry.models import Person, Resident
    from civicgrid.volunteers import selectors as volunteers
    from civicgrid.volunteers.models import HelperAssignment

    rng = random.Random(23)
    helpers = list(Person.objects.all()[:5])
    residents = list(Resident.objects.select_related("household"))
    today = timezone.localdate()
    HelperAssignment.objects.bulk_create([
        HelperAssignment(resident=r, helper=rng.choice(helpers), kind=HelperAssignment.Kind.choices[0][0],
                         every_days=7, grid_id=r.household.grid_id, place_path=r.household.place_path,
                         started_on=today - timedelta(days=30),
                         ended_on=today - timedelta(days=1) if rng.random() < 0.3 else None)
        for r in rng.sample(residents, len(residents) // 3)])
    paired = set(HelperAssignment.objects.filter(ended_on__isnull=True).values_list("resident_id", flat=True))
    for username in ("district", "director"):
        rows = volunteers.coverage(scope=scope_for(user(username)))
        assert rows
        for row in rows:
            mine = [r for r in residents if r.household.grid_id == row.grid.pk
                    and r.household.vulnerability_score >= settings.CIVICGRID_VULNERABLE_SCORE]
            assert (row.vulnerable, row.with_helper) == (len(mine), sum(r.pk in paired for r in mine)), row.grid.code


def test_the_meetings_api_counts_each_listed_meetings_invitations_and_attendance() -> None:
    """The list's counts (one grouped query for the page) equal each meeting's own rows."""
    from tests.platform.council_support import as_user, meeting

    meetings = [meeting(quorum=q) for q in (1, 2, 3)]
    director, d_scope = as_user("director")
    from civicgrid.council import services as council

    for m in meetings[:2]:
        for inv in m.invitations.all()[: m.quorum]:
            council.attendance_mark(user=director, scope=d_scope, meeting=m, household_id=inv.household_id)
    client = Client()
    client.force_login(director)
    listed = {row["id"]: row for row in client.get("/api/council/meetings").json()}
    for m in meetings:
        present = m.invitations.filter(attended_at__isnull=False).count()
        assert (listed[m.pk]["invited"], listed[m.pk]["present"], listed[m.pk]["quorum_met"]) == (
            m.invitations.count(), present, present >= m.quorum)
    assert sum(1 for m in meetings if listed[m.pk]["quorum_met"]) == 2


def test_the_3w_board_read_under_a_common_ancestor_equals_the_board_read_grid_by_grid(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Many grids are read under their common ancestor, once; the cells (what each organisation did, the
    needs) are those of reading each grid's prefix, for every role that sees the board."""
    from civicgrid.social import board as board_module

    build()

    def cells(username: str) -> list[tuple[object, ...]]:
        found = board_module.board(scope=scope_for(user(username)))
        found.load(found.cells)
        return [(c.grid.code, c.kind, c.need, sorted((a, sorted(d)) for a, d in c.doing.items()))
                for c in found.cells]

    roles = ("district", "director", "grid", "orgstaff")
    by_grid = {}
    monkeypatch.setattr(board_module, "MANY_GRIDS", 10**6)
    for username in roles:
        by_grid[username] = cells(username)
    monkeypatch.setattr(board_module, "MANY_GRIDS", 0)
    for username in roles:
        assert cells(username) == by_grid[username], username
    assert any(by_grid[r] for r in roles)


@pytest.mark.parametrize("cap", [1, 7, 50, 10_000])
def test_a_paged_lists_count_is_exact_up_to_its_cap_and_stops_there(monkeypatch, cap) -> None:  # type: ignore[no-untyped-def]
    from civicgrid.core.paging import BoundedPaginator, paginate

    monkeypatch.setattr(BoundedPaginator, "cap", cap)
    rows = Household.objects.order_by("code")
    total = len(list(rows.values_list("pk", flat=True)))  # the plain count, read row by row
    assert total > 50  # the test world is larger than the smaller caps
    per = 5
    with CaptureQueriesContext(connection) as captured:
        page = paginate(rows, per, "1")
        assert page.paginator.count == min(total, cap + 1)
    (counting,) = [q["sql"] for q in captured.captured_queries if "COUNT" in q["sql"].upper()]
    assert "LIMIT" in counting.upper()  # the database stops counting at the cap
    assert "ORDER BY" not in counting.upper()  # and does not sort what it counts
    assert page.paginator.capped == (total > cap)
    assert page.paginator.shown == (f"{cap}+" if total > cap else str(total))
    pages = -(-min(total, cap) // per)
    assert page.paginator.num_pages == pages
    codes = list(rows.values_list("code", flat=True))
    last = paginate(rows, per, str(pages))
    assert [h.code for h in last] == codes[(pages - 1) * per: pages * per]
    assert paginate(rows, per, str(pages + 50)).number == pages  # beyond the last page: the last page
    assert paginate(rows, per, "x").number == 1
    assert paginate(codes[:3], per, "1").paginator.shown == "3"  # a list in hand is counted as it is


def test_a_capped_household_list_says_so_in_both_languages(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from civicgrid.core.paging import BoundedPaginator

    monkeypatch.setattr(BoundedPaginator, "cap", 20)
    director = user("director")
    total = Household.objects.filter(under("place_path", [director.role.place.path])).count()
    assert total > 20
    for language, words in (("zh-hans", "20+ 户"), ("en", "20+ households")):
        client = Client(headers={"accept-language": language})
        client.force_login(director)
        assert words in client.get("/households/").content.decode(), language
    monkeypatch.setattr(BoundedPaginator, "cap", 10_000)
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(director)
    assert f"{total} 户" in client.get("/households/").content.decode()


def test_the_helper_coverage_glance_equals_the_coverage_counted_live() -> None:
    from civicgrid.core import tallies
    from civicgrid.core.scoping import PLATFORM
    from civicgrid.volunteers import selectors as vs
    from civicgrid.volunteers.crei import HELPERS
    from civicgrid.volunteers.demo import demo_load
    from civicgrid.volunteers.work import glance

    demo_load(households=0, seed=7)  # paired helpers, done and missed visits in every community
    people = [user(role) for role in ("district", "director", "grid")]
    for counted in (False, True):  # never counted (read from the records), then from the job's tally
        if counted:
            tallies.rebuild(HELPERS)
        for scope, who in [(PLATFORM, None), *((scope_for(u), u) for u in people)]:
            rows = vs.coverage(scope=scope)
            helped, vulnerable, when = vs.coverage_counted(scope=scope)
            assert (helped, vulnerable) == (sum(r.with_helper for r in rows), sum(r.vulnerable for r in rows))
            assert vulnerable > helped > 0
            assert vs.missed_recently(scope=scope) == sum(r.missed for r in rows)
            assert (when is not None) == counted
            if who is not None:
                (shown,) = [g for g in glance(user=who, scope=scope) if g.key == "volunteers.coverage"]
                assert shown.value == f"{helped} / {vulnerable}"


def test_the_volunteer_lists_totals_equal_a_plain_sum_of_each_volunteers_counted_hours() -> None:
    """Each listed volunteer's total (a subquery evaluated for the page's rows only) equals the sum, over
    their own lines, of those that count: from a record, or typed by hand and approved (not pending, not
    rejected); None for a volunteer without any. The page reads in the same queries however many lines."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from civicgrid.registry.models import Person
    from civicgrid.volunteers import selectors as volunteers
    from civicgrid.volunteers.models import HoursApproval, HoursEntry, Volunteer

    rng = random.Random(41)
    grid = Place.objects.filter(level="grid").order_by("path").first()
    assert grid is not None
    today = timezone.localdate()
    people = list(Person.objects.filter(volunteer__isnull=True).order_by("id")[:12])
    crew = Volunteer.objects.bulk_create([Volunteer(person=p, home=grid, place_path=grid.path, joined_on=today)
                                          for p in people])
    assert len(crew) == 12
    judge = user("director")

    def lines(n: int) -> None:
        rows, decided = [], []
        for v in crew[:-2]:  # the last two have no lines at all
            for _ in range(rng.randint(0, n)):
                manual = rng.random() < 0.5
                rows.append(HoursEntry(volunteer=v, source="manual" if manual else "sweep",
                                       source_id=None if manual else rng.randrange(10**12), note="hand" if manual else "",
                                       hours=Decimal(rng.randint(1, 96)) / 4, on=today - timedelta(days=rng.randint(0, 99)),
                                       place_path=grid.path, at=timezone.now()))
        HoursEntry.objects.bulk_create(rows)
        for e in rows:
            if e.source == "manual" and rng.random() < 0.7:  # the rest wait for a decision
                decided.append(HoursApproval(entry=e, approved=rng.random() < 0.6, by=judge, at=timezone.now()))
        HoursApproval.objects.bulk_create(decided)

    def check(scope: object) -> int:
        approved = set(HoursApproval.objects.filter(approved=True).values_list("entry_id", flat=True))
        plain: dict[int, Decimal] = {}
        for e in HoursEntry.objects.all():
            if e.source != "manual" or e.pk in approved:
                plain[e.volunteer_id] = plain.get(e.volunteer_id, Decimal(0)) + e.hours
        with CaptureQueriesContext(connection) as queries:
            listed = {v.pk: v.total for v in volunteers.volunteer_list(scope=scope)}
        assert {pk for pk in listed if pk in {v.pk for v in crew}} == {v.pk for v in crew}
        assert listed == {pk: plain.get(pk) for pk in listed}
        return len(queries.captured_queries)

    scope = scope_for(user("district"))
    lines(3)
    few = check(scope)
    lines(12)
    assert check(scope) == few == 1


def test_the_actors_page_is_paged_and_its_pages_together_list_each_actor_in_scope_once() -> None:
    """The pages, followed from the first by their "next" link, list every actor the scope sees exactly once
    (a plain read of the scoped actors), at most 50 a page, and a sector's pages keep the sector."""

    from civicgrid.core.scoping import scoped
    from civicgrid.registry.models import Actor

    grid = Place.objects.filter(level="grid").order_by("path").first()
    Actor.objects.bulk_create([Actor(code=f"scale-{i}", name=f"scale {i}", sector="society", kind="volunteer_team",
                                     service_area=grid) for i in range(120)])
    district = user("district")
    client = Client()
    client.force_login(district)
    for sector in ("", "society"):
        expected = scoped(Actor.objects.all(), scope_for(district))
        expected = expected.filter(sector=sector) if sector else expected
        seen: list[int] = []

        def actors(html: str) -> list[int]:
            return [int(n) for n in re.findall(r'href="/actors/(\d+)/"', html)]

        _paged(client, f"/actors/?sector={sector}", per_page=50, rows=lambda html: len(actors(html)),
               each=lambda html, into=seen: into.extend(actors(html)))  # type: ignore[misc]
        assert sorted(seen) == sorted(expected.values_list("pk", flat=True)), sector
        assert len(seen) > 50


@pytest.mark.parametrize("required", [True, False])
def test_many_checkboxes_draws_what_djangos_checkbox_widget_draws(required: bool) -> None:
    """The same HTML as Django's own ``CheckboxSelectMultiple`` (up to whitespace between tags), for flat and
    grouped choices, checked values, labels that need escaping, an id or none, a class; and a form built on
    it reads the same data back."""

    from django import forms

    from civicgrid.core.widgets import ManyCheckboxes

    choices: list[object] = [(1, "a <b> & \"c\""), (2, "幸福"), ("G<1>", [(3, "x'"), (4, "y")]), (5, "")]

    def form(widget: type[forms.Widget], data: dict[str, list[str]] | None) -> forms.Form:
        class Pick(forms.Form):
            places = forms.MultipleChoiceField(label="Where", choices=choices, required=required,
                                               widget=widget(attrs={"class": "pick"}))
            plain = forms.MultipleChoiceField(choices=choices, required=False, widget=widget)

        return Pick(data, auto_id="id_%s")

    def flat(html: str) -> str:
        return re.sub(r">\s+", ">", re.sub(r"\s+<", "<", re.sub(r"\s+", " ", html)))

    for data in (None, {"places": ["2", "4"], "plain": ["1"]}, {"places": ["9"]}):
        ours, theirs = form(ManyCheckboxes, data), form(forms.CheckboxSelectMultiple, data)
        for name in ("places", "plain"):
            assert flat(str(ours[name])) == flat(str(theirs[name])), (name, data)
        if data is not None:
            assert ours.is_valid() == theirs.is_valid() and ours.errors == theirs.errors
    no_id = form(ManyCheckboxes, None)
    no_id.auto_id = ""
    assert flat(str(no_id["plain"])) == flat(str(form(forms.CheckboxSelectMultiple, None).__class__(
        auto_id="")["plain"]))


@pytest.mark.parametrize("required", [True, False])
def test_many_options_draws_what_djangos_select_draws(required: bool) -> None:
    """The same HTML as Django's own ``Select`` (up to whitespace between tags), for flat and grouped choices, an
    empty choice, the selected value, labels and values that need escaping, an id or none, a class; and a form
    built on it reads the same data back."""
    from django import forms

    from civicgrid.core.widgets import ManyOptions

    choices: list[object] = [("", "---"), (1, "a <b> & \"c\""), (2, "幸福"), ("G<1>", [(3, "x'"), ("4\"", "y")]), (5, "")]

    def form(widget: type[forms.Widget], data: dict[str, str] | None, auto_id: str = "id_%s") -> forms.Form:
        class Pick(forms.Form):
            donor = forms.ChoiceField(label="Donor", choices=choices, required=required,
                                      widget=widget(attrs={"class": "pick"}))
            plain = forms.ChoiceField(choices=choices, required=False, widget=widget)

        return Pick(data, auto_id=auto_id)

    def flat(html: str) -> str:
        return re.sub(r">\s+", ">", re.sub(r"\s+<", "<", re.sub(r"\s+", " ", html)))

    for data in (None, {"donor": "2", "plain": "4\""}, {"donor": "9"}, {"donor": ""}):
        for auto_id in ("id_%s", ""):
            ours, theirs = form(ManyOptions, data, auto_id), form(forms.Select, data, auto_id)
            for name in ("donor", "plain"):
                assert flat(str(ours[name])) == flat(str(theirs[name])), (name, data, auto_id)
            if data is not None:
                assert ours.is_valid() == theirs.is_valid() and ours.errors == theirs.errors
                assert ours.is_valid() is False or ours.cleaned_data == theirs.cleaned_data


def test_the_3w_boards_pages_and_api_offsets_together_hold_every_cell_of_the_board_once(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Followed by their "next" links, the board page's pages show each cell of the whole board once, in its
    order, with the whole board's gap and overlap counts on each; the API's offsets do the same."""

    from civicgrid.core import apischema
    from civicgrid.social import board as board_module
    from civicgrid.social import views as social_views

    build()
    district = user("district")
    whole = board_module.board(scope=scope_for(district))
    expected = [(c.grid.pk, c.kind) for c in whole.cells]
    assert len(expected) > 7
    monkeypatch.setattr(social_views, "BOARD_PAGE", 3)
    monkeypatch.setattr(apischema, "PAGE", 3)
    client = Client()
    client.force_login(district)

    def gaps_on_each(html: str) -> None:
        assert re.search(rf'id="gaps">[^<]*<b>{whole.gaps}</b>', html)

    shown = _paged(client, "/organisations/3w/", per_page=3, each=gaps_on_each,
                   rows=lambda html: html.split('<tbody>')[1].split('</tbody>')[0].count("<tr"))
    assert shown == len(expected)
    assert _offsets(client, "/api/social/board", 3, lambda c: (c["grid_id"], c["service_kind"])) == expected


def test_visits_on_time_per_grid_equal_a_plain_count_of_local_days() -> None:
    """Visits on time (counted in the database) equal, per grid, the done visits of the last 90 days whose
    visit fell on or before their due day in the platform's time zone (Asia/Shanghai: 23:30 UTC is the next
    day there), the rule the page printed before; missed and due as well."""
    from datetime import UTC, datetime, time, timedelta

    from django.utils import timezone

    from civicgrid.registry.models import Person, Resident
    from civicgrid.volunteers import selectors as volunteers
    from civicgrid.volunteers.models import CareVisit

    rng = random.Random(90)
    today = timezone.localdate()
    visitor = Person.objects.first()
    residents = list(Resident.objects.select_related("household")[:40])
    visits = []
    for r in residents:
        for _ in range(rng.randint(1, 4)):
            due = today - timedelta(days=rng.randint(-3, 95))
            status = rng.choice(["done", "done", "missed", "open"])
            # around midnight of the due day in UTC and in Shanghai, so the time zone decides
            at = datetime.combine(due + timedelta(days=rng.choice([-1, 0, 1])), time(rng.choice([0, 15, 16, 23]), 30),
                                  tzinfo=UTC)
            visits.append(CareVisit(resident=r, grid_id=r.household.grid_id, place_path=r.household.place_path,
                                    due_on=due, status=status, visitor=visitor if status == "done" else None,
                                    done_at=at if status == "done" else None, minutes=30 if status == "done" else None))
    CareVisit.objects.bulk_create(visits)
    start = today - timedelta(days=90)
    rows = volunteers.coverage(scope=scope_for(user("district")))
    assert rows
    checked = 0
    for row in rows:
        mine = [v for v in CareVisit.objects.filter(grid_id=row.grid.pk) if start <= v.due_on < today]
        done = [v for v in mine if v.status == "done"]
        assert row.on_time == sum(timezone.localdate(v.done_at) <= v.due_on for v in done), row.grid.code
        assert row.due == len(done) + sum(v.status == "missed" for v in mine)
        assert row.missed == sum(v.status == "missed" for v in mine)
        checked += len(done)
    assert checked > 10


def test_the_helper_coverage_pages_and_api_offsets_together_hold_every_grid_once(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Followed by their "next" links, the paired-help page's pages show each grid of the scope's coverage
    once; the coverage API's offsets give the whole coverage, in its order."""

    from civicgrid.core import apischema
    from civicgrid.volunteers import selectors as volunteers
    from civicgrid.volunteers import views as volunteer_views

    district = user("district")
    whole = volunteers.coverage(scope=scope_for(district))
    assert len(whole) > 3
    monkeypatch.setattr(volunteer_views, "COVERAGE_PAGE", 2)
    monkeypatch.setattr(apischema, "PAGE", 2)
    client = Client()
    client.force_login(district)
    shown = _paged(client, "/volunteers/helpers/", per_page=2,  # the table's rows less its header
                   rows=lambda html: html.split('id="coverage"')[1].split("</table>")[0].count("<tr") - 1)
    assert shown == len(whole)
    assert _offsets(client, "/api/volunteers/coverage", 2, lambda r: r["grid"]) == [r.grid.name for r in whole]


def test_the_crei_rankings_pages_together_rank_every_unit_once_in_order(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Followed by their "next" links, the resilience index page's ranking pages list every grid of the district
    once, by rank (ranks never fall across the pages; tied units share one)."""
    from civicgrid.analytics import views as analytics_views
    from civicgrid.analytics.selectors import places_for_index

    district = user("district")
    grids = [p for p in places_for_index(scope=scope_for(district)) if p.level == "grid"]
    assert len(grids) > 3
    monkeypatch.setattr(analytics_views, "RANKING_PAGE", 2)
    client = Client()
    client.force_login(district)
    ranks: list[int] = []
    units: list[str] = []

    def ranking(html: str) -> str:
        return html.split('id="crei-ranking"')[1].split("</table>")[0]

    def keep(html: str) -> None:
        ranks.extend(int(r) for r in re.findall(r"<tr><td>(\d+)</td>", ranking(html)))
        units.extend(re.findall(r'unit=([^"&]+)"', ranking(html)))

    shown = _paged(client, "/analytics/crei/?level=grid", per_page=2, each=keep,
                   rows=lambda html: ranking(html).count("<tr") - 1)
    assert shown == len(grids) and sorted(units) == sorted(g.code for g in grids)
    assert ranks == sorted(ranks) and ranks[0] == 1


def test_actors_serving_each_unit_equal_a_plain_test_of_every_actor_against_every_unit() -> None:
    """The CREI's "organisations serving" count per unit (through a grid -> actors map) equals, for random
    units of grids, the number of actors of those kinds whose area covers or lies inside one of the unit's
    grids, each actor tested against each unit as the plain definition reads."""
    from civicgrid.registry import crei as registry_crei
    from civicgrid.registry.models import Actor

    rng = random.Random(65)
    grids = list(Place.objects.filter(level="grid").values_list("id", "path"))
    places = list(Place.objects.values_list("id", "path"))
    Actor.objects.bulk_create([Actor(code=f"serve-{i}", name=f"serve {i}", sector="society",
                                     kind=rng.choice(["volunteer_team", "social_organisation", "shop"]),
                                     service_area_id=rng.choice(places)[0]) for i in range(60)])
    units = {f"u{k}": rng.sample([g for g, _ in grids], rng.randint(0, min(5, len(grids)))) for k in range(25)}
    units["all"] = [g for g, _ in grids]
    path_of = dict(grids)
    kinds = ("volunteer_team", "social_organisation")
    areas = list(Actor.objects.filter(kind__in=kinds).values_list("service_area__path", flat=True))

    def serves(area: str, grid_path: str) -> bool:  # covers the grid, or lies inside it
        return grid_path.startswith(area) or area.startswith(grid_path)

    plain = {u: sum(any(serves(a, path_of[g]) for g in ids) for a in areas) for u, ids in units.items()}
    assert registry_crei._serving(units, kinds) == plain
    assert plain["all"] > 0


def test_the_grid_maps_plain_figure_writes_out_as_the_figure_built_through_plotly_did() -> None:
    """The CREI map's figure dict, written out, is the JSON the go.Figure built and updated step by step wrote
    (the page drew that before): same tiles, labels, axes, size and plotly template."""
    import json

    import plotly.graph_objects as go
    import plotly.io as pio

    from civicgrid.analytics.charts import grid_map_spec, to_div

    def shape(x: float, y: float) -> dict:
        return {"type": "Polygon", "coordinates": [[[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]]}

    rng = random.Random(7)
    geometries = {f"g{i}": shape(i % 9, i // 9) for i in range(40)}
    geometries["multi"] = {"type": "MultiPolygon", "coordinates": [shape(20, 0)["coordinates"],
                                                                   shape(22, 0)["coordinates"]]}
    scores = {code: rng.random() * 1.2 - 0.1 for code in list(geometries)[:35]} | {"multi": 0.4}
    kw = {"geometries": geometries, "scores": scores, "names": {"g1": "一 <b>"}, "title": "CREI 网格",
          "short_names": {"g2": "二"}}
    spec = grid_map_spec(**kw)  # type: ignore[arg-type]
    old = go.Figure(data=spec["data"], layout={"annotations": spec["layout"]["annotations"]}, _validate=False)
    old.update_layout(title="CREI 网格", height=420, margin={"l": 0, "r": 0, "t": 40, "b": 0}, plot_bgcolor="white")
    old.update_xaxes(visible=False)
    old.update_yaxes(visible=False, scaleanchor="x", scaleratio=1.15)
    assert json.loads(pio.to_json(spec, validate=False)) == json.loads(pio.to_json(old, validate=False))

    def drawn(div: str) -> object:  # the figure the page's script block hands to plotly.js (keys in any order)
        return json.loads(div.split('class="plotly-figure">')[1].split("</script>")[0])

    assert drawn(to_div(spec)) == drawn(to_div(old))
    assert len([t for t in spec["data"] if t.get("fill") == "toself"]) == 36 + 1  # a tile per polygon
