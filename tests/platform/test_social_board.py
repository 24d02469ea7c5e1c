"""The who-does-what-where board from the records themselves, its gaps and overlaps against plain counts,
its HXL-tagged CSV; the governance contributions of funding; the demo's two contrasting communities."""

from __future__ import annotations

import csv
import io
import itertools

import pytest
from django.db.models import Count
from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.core.places import ancestor_at
from civicgrid.registry.models import Actor, Place
from civicgrid.relief import services as relief
from civicgrid.relief.models import Need
from civicgrid.social import board as threew
from civicgrid.social import services
from civicgrid.social.conf import social_setting
from civicgrid.social.governance import contributions
from civicgrid.social.models import Funding, Organisation, StageChange
from civicgrid.social.uscc import uscc_problem
from tests.platform.factories import user
from tests.platform.relief_support import client_for, grid_households, lockdown
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


def _admit(actor: Actor, grids: list[Place], kind: str = "delivery") -> None:
    who, scope = district()
    for row in services.admission_apply(user=who, scope=scope, emergency_id=in_force().pk, actor_id=actor.pk,
                                        grid_ids=[g.pk for g in grids], service_kinds=[kind]):
        services.admission_decide(user=who, scope=scope, admission_id=row.pk, admit=True)


def _world() -> None:
    """Needs in G01 and G02 of C01; two organisations admitted for deliveries in G01, none in G02."""
    lockdown(households=grid_households("C01-G01", limit=4) + grid_households("C01-G02", limit=3))
    registered(hub_actor(), verified=True)
    registered(team_actor(), verified=True)
    _admit(hub_actor(), [grid("C01-G01")])
    _admit(team_actor(), [grid("C01-G01")])


def test_gaps_and_overlaps_match_plain_counts_of_the_records() -> None:
    _world()
    director = user("director")
    found = threew.board(scope=scope_for(director), kind="delivery")
    found.load(found.cells)
    cells = {c.grid.code: c for c in found.cells}
    open_needs: dict[str, int] = {}
    for need in Need.objects.filter(status__in=("open", "allocated")).select_related("household"):
        code = Place.objects.get(path=ancestor_at(need.household.place_path, "grid")).code
        open_needs[code] = open_needs.get(code, 0) + 1
    g01, g02 = grid("C01-G01").code, grid("C01-G02").code
    assert cells[g01].need == open_needs[g01] and cells[g02].need == open_needs[g02]
    assert cells[g01].overlap and not cells[g01].gap
    assert set(cells[g01].doing) == {hub_actor().pk, team_actor().pk}
    assert cells[g02].gap and not cells[g02].doing
    assert found.gaps == sum(1 for c in found.cells if c.need and not c.doing)
    # the director sees only the grids of C01
    assert {c.grid.parent_id for c in found.cells} == {community().pk}


def test_claims_and_deliveries_put_the_claimers_organisation_on_the_board() -> None:
    households = grid_households("C01-G01", limit=3)
    world = lockdown(households=households, share=1.0)
    who, scope = district()
    relief.round_confirm(user=who, scope=scope, place_ids=[world.point.place_id], item_codes=["t-food"], days=3,
                         policy="equity", seed=1)
    volunteer = user("volunteer")
    from civicgrid.relief.models import DeliveryTask

    task = DeliveryTask.objects.filter(place_path__startswith=grid("C01-G01").path).order_by("id").first()
    relief.delivery_task_claim(user=volunteer, scope=scope_for(volunteer), task_id=task.pk)  # normal mode
    found = threew.board(scope=scope, kind="delivery")
    found.load(found.cells)
    cell = next(c for c in found.cells if c.grid.code == grid("C01-G01").code)
    assert cell.doing == {team_actor().pk: [("deliveries under way", 1)]}


def test_the_hxl_export_has_a_tag_row_and_formula_safe_cells() -> None:
    _world()
    who, scope = district()
    Actor.objects.filter(pk=team_actor().pk).update(name="=HYPERLINK(\"http://x\")")
    text = threew.hxl_csv(threew.board(scope=scope))
    rows = list(csv.reader(io.StringIO(text)))
    assert all(tag.startswith("#") for tag in rows[1])
    tags = rows[1]
    assert {"#org +name", "#sector +code", "#adm1 +code", "#adm4 +name", "#activity +name"} <= set(tags)
    org = tags.index("#org +name")
    names = {r[org] for r in rows[2:]}
    assert "'=HYPERLINK(\"http://x\")" in names  # neutralised, never a formula
    found = threew.board(scope=scope)
    found.load(found.cells)
    assert len(rows) - 2 == sum(max(1, len(c.doing)) for c in found.cells)
    status = tags.index("#status")
    assert sum(1 for r in rows[2:] if r[status] == "gap") == found.gaps


def test_the_board_page_and_its_export_answer_in_chinese() -> None:
    _world()
    client = client_for("director", "zh-hans")
    page = client.get("/organisations/3w/")
    assert page.status_code == 200 and "缺口" in page.content.decode()
    export = client.get("/organisations/3w/export/?kind=delivery")
    assert export["Content-Type"].startswith("text/csv")
    body = export.content.decode("utf-8-sig").splitlines()
    assert body[1].startswith("#adm1")
    assert client.get("/organisations/3w/?community=abc").status_code == 400


def test_funding_is_the_sources_contribution_of_resources() -> None:
    who, scope = district()
    organisation = registered(team_actor())
    company = Actor.objects.filter(sector="capital", service_area=community()).order_by("code").first()
    for _ in range(3):
        services.funding_record(user=who, scope=scope, organisation_id=organisation.pk, amount_fen=100_000,
                                received_on=timezone.localdate(), source_id=company.pk)
    services.funding_record(user=who, scope=scope, organisation_id=organisation.pk, amount_fen=100,
                            received_on=timezone.localdate(), source_name="a donor", source_sector="society")
    found = {c.actor_id: c.amount for c in contributions(community=community())}
    assert found == {company.code: 3.0}
    assert contributions(community=community("C02")) == []


def test_the_demo_makes_a_hub_community_and_a_fused_one() -> None:
    from civicgrid.social.demo import demo_load

    lines = demo_load(households=700, seed=7)
    assert len(lines) == 2 and demo_load(households=700, seed=7) == []  # idempotent
    first, second = Place.objects.filter(level="community").order_by("code")[:2]

    def serving(place: Place) -> list[Organisation]:
        return list(Organisation.objects.filter(actor__service_area__path__startswith=place.path))

    hub = Organisation.objects.filter(actor__incubated__isnull=False).distinct().get()
    hub_side, fused_side = [hub, *serving(first)], serving(second)
    assert len(hub_side) >= 10 > len(fused_side) >= 1
    assert Organisation.objects.filter(hub__isnull=False).exists()  # incubated by the hub organisation
    assert all(uscc_problem(o.credit_code) is None for o in Organisation.objects.all())
    group = Actor.objects.get(service_area=second, sector="capital", name__endswith="集团", code__endswith="-G01")
    fused_money = Funding.objects.filter(organisation__in=fused_side)
    by_group = fused_money.filter(source=group).count()
    assert by_group > fused_money.count() / 2  # the group funds most of them
    hub_money = Funding.objects.filter(organisation__in=hub_side)
    assert hub_money.filter(source_sector="capital").count() < hub_money.count() / 2
    # every step up stands on the evidence the rules ask for
    rules = social_setting("stage_rules")
    for step in StageChange.objects.exclude(from_stage="").filter(to_stage__in=list(rules)).select_related("assessment"):
        rule = rules[step.to_stage]
        assert float(step.assessment.score) >= rule["min_score"]
        assert step.trainings >= rule["min_trainings"]
        assert step.funding_fen >= rule["min_funding_yuan"] * 100
    counts = dict(Organisation.objects.values_list("stage").annotate(n=Count("id")))
    assert set(counts) <= {"incubating", "growing", "independent"} and counts.get("incubating")


def test_counted_volunteer_hours_put_the_volunteers_organisation_on_the_board() -> None:
    """Hours from the volunteers app's ledger (care visits here), credited to the volunteer's organisation;
    hours typed by hand and not yet approved are not counted."""
    from decimal import Decimal

    from civicgrid.registry.models import Person, Post
    from civicgrid.volunteers.models import HoursEntry, Volunteer

    g01 = grid("C01-G01")
    person = Person.objects.create(code="board-vol", name="志愿者")
    Post.objects.create(person=person, actor=team_actor(), role="volunteer")
    volunteer = Volunteer.objects.create(person=person, home=g01, place_path=g01.path, joined_on=timezone.localdate())
    household = grid_households("C01-G01", limit=1)[0]
    now = timezone.now()
    for n, hours in enumerate((Decimal("1.5"), Decimal("2.0"))):
        HoursEntry.objects.create(volunteer=volunteer, source="care_visit", source_id=900_000 + n, hours=hours,
                                  on=timezone.localdate(), place_path=household.place_path, at=now)
    HoursEntry.objects.create(volunteer=volunteer, source="manual", hours=Decimal("5"), on=timezone.localdate(),
                              note="typed", place_path=household.place_path, at=now)
    found = threew.board(scope=scope_for(user("director")), kind="care_visit")
    found.load(found.cells)
    cell = next(c for c in found.cells if c.grid.code == g01.code)
    assert cell.doing[team_actor().pk] == [("volunteer hours", 4)]  # round(1.5 + 2.0): the manual 5 h not counted
    from civicgrid.volunteers.models import CareVisit

    waiting = CareVisit.objects.filter(place_path__startswith=g01.path, status="open").count()
    assert cell.need == waiting  # the need side: care visits waiting for a volunteer


_SOURCE_IDS = itertools.count(910_000)


def _hours_by(actor: Actor, *, code: str, at: Place, kinds: tuple[str, ...]) -> None:
    """A volunteer of ``actor`` (their first post) with counted hours of each kind in grid ``at``."""
    from decimal import Decimal

    from civicgrid.registry.models import Person, Post
    from civicgrid.volunteers.models import HoursEntry, Volunteer

    person = Person.objects.create(code=code, name="志愿者")
    Post.objects.create(person=person, actor=actor, role="volunteer")
    volunteer = Volunteer.objects.create(person=person, home=at, place_path=at.path, joined_on=timezone.localdate())
    for kind in kinds:
        HoursEntry.objects.create(volunteer=volunteer, source=kind, source_id=next(_SOURCE_IDS), at=timezone.now(),
                                  hours=Decimal("1.5"), on=timezone.localdate(), place_path=at.path)


def test_each_cells_gap_and_overlap_before_its_hours_are_read_equal_those_of_the_cell_read_whole() -> None:
    """The board knows each cell's volunteer-hour organisations only as a count (and the one, when one) until a
    page reads the cell (Board.load); its gap and overlap, and the whole board's counts, equal those of every cell
    read whole (the union of its organisations by every record), from the tally and from the records alike.
    Cases: hours of two organisations; of one also admitted there (no overlap); of one beside another admitted
    (an overlap); hours only, on a need (no gap)."""
    from civicgrid.core import tallies
    from civicgrid.core.models import TallyState

    _world()  # needs in G01 and G02; hub and team admitted for deliveries in G01
    g01, g02 = grid("C01-G01"), grid("C01-G02")
    _admit(hub_actor(), [g02], kind="sweep")
    _admit(team_actor(), [g02], kind="care_visit")
    _hours_by(team_actor(), code="h-team", at=g01, kinds=("care_visit", "delivery"))
    _hours_by(hub_actor(), code="h-hub", at=g01, kinds=("care_visit",))
    _hours_by(team_actor(), code="h-team-2", at=g02, kinds=("sweep", "delivery", "care_visit"))
    scope = scope_for(user("director"))
    for counted in (False, True):
        if counted:
            tallies.rebuild(threew.HOURS)
        else:
            TallyState.objects.filter(name=threew.HOURS).delete()
        found = threew.board(scope=scope)
        summary = [(c.grid.code, c.kind, c.gap, c.overlap) for c in found.cells]
        counts = found.gaps, found.overlaps
        found.load(found.cells)
        whole = [(c.grid.code, c.kind, bool(c.need) and not c.doing, len(c.doing) >= 2) for c in found.cells]
        assert summary == whole, counted
        assert counts == (sum(w[2] for w in whole), sum(w[3] for w in whole))
        marks = {(code, kind): (gap, overlap) for code, kind, gap, overlap in whole}
        assert marks[(g01.code, "care_visit")] == (False, True)  # hours of team and hub
        assert marks[(g01.code, "delivery")][1] and set(next(
            c for c in found.cells if (c.grid.code, c.kind) == (g01.code, "delivery")).doing) == {
            hub_actor().pk, team_actor().pk}  # the team's hours and its admission: the same two organisations
        assert marks[(g02.code, "sweep")] == (False, True)  # the team's hours beside the hub's admission
        assert marks[(g02.code, "delivery")] == (False, False)  # the team's hours on G02's open needs: no gap
        assert marks[(g02.code, "care_visit")] == (False, False)  # the team's hours and its own admission
