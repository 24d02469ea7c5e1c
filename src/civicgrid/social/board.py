"""The live "who does what where" board (3W), built from the platform's own records, not from reports.

Per grid and kind of service: the organisations at work there (each with what the records show they did)
and the open need there. A cell with need and nobody is a **gap**; a cell with two or more organisations is
an **overlap** (Crisis Cleanup's "who else is working here"). Every source is one small function below;
the board is the union of what they return, so a new source is one more function in :data:`PRESENCE` or
:data:`NEED`. Volunteers' hours, a district's 37,000 cells, come summarised (how many organisations per grid and
kind, and which when one: enough for every cell's gap and overlap) and are read in full only for the cells a page
shows (:meth:`Board.load`).

Exported as HXL-tagged CSV (https://hxlstandard.org: a header row, then a row of hashtags such as
``#org +name``, ``#sector +code``, ``#adm3 +name``, ``#activity +name``), cells made formula-safe with
:func:`civicgrid.core.exporting.neutralise`.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from django.db.models import CharField, Count, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core import tallies
from civicgrid.core.exporting import neutralise
from civicgrid.core.places import ancestor_at, common_ancestor, under
from civicgrid.core.scoping import Scope, require, scoped
from civicgrid.core.servicekinds import SERVICE_KINDS, service_kind_label
from civicgrid.core.tallies import Tally
from civicgrid.emergency.models import Emergency
from civicgrid.registry.models import SECTOR_LABELS, Actor, Place, Post
from civicgrid.social.conf import social_setting
from civicgrid.social.models import Admission

# (grid path, service kind, actor id, what was done, how many records)
Presence = tuple[str, str, int, str, int]
# (grid path, service kind, open need)
Need = tuple[str, str, int]


@dataclass
class Cell:
    grid: Place
    kind: str
    need: int = 0
    doing: dict[int, list[tuple[str, int]]] = field(default_factory=dict)  # actor id -> (what, how many)
    # The organisations with counted volunteer hours here, from the hours tally's summary (how many, and which
    # when one): what they did is read only for the cells shown (Board.load), yet the gap and overlap of every
    # cell are known (issue 15).
    hour_actors: int = 0
    hour_actor: int | None = None
    loaded: bool = False

    @property
    def kind_label(self) -> str:
        return service_kind_label(self.kind)

    @property
    def gap(self) -> bool:
        return self.need > 0 and not self.doing and not self.hour_actors

    @property
    def overlap(self) -> bool:
        if self.hour_actors >= 2:
            return True
        if self.hour_actors == 1:  # that organisation may also be on the cell by another record
            return len(self.doing.keys() | {self.hour_actor}) >= 2
        return len(self.doing) >= 2


@dataclass
class Board:
    cells: list[Cell]
    actors: dict[int, Actor]
    since: datetime
    hours_counted: datetime | None = None  # when the volunteer hours were counted (the tally HOURS)

    @cached_property  # a page asks twice (the card and its colour), over a district's 8,000 cells
    def gaps(self) -> int:
        return sum(c.gap for c in self.cells)

    @cached_property
    def overlaps(self) -> int:
        return sum(c.overlap for c in self.cells)

    def load(self, cells: Iterable[Cell]) -> None:
        """Read what these cells' organisations did with volunteer hours (their grids' cells of the hours tally)
        and the organisations themselves (two queries): a page draws a hundred of a district's 8,000 cells, so
        only the shown cells' hours and organisations are read, not the board's 37,000 hour cells (issue 15)."""
        cells = [c for c in cells if not c.loaded]
        waiting = {(c.grid.path, c.kind): c for c in cells if c.hour_actors}
        if waiting:
            hours: dict[tuple[str, str], set[int]] = {}
            for grid, service, actor, what, n in _hours(grid_ids={c.grid.pk for c in waiting.values()}):
                found = waiting.get((grid, service))
                if found is not None:
                    found.doing.setdefault(actor, []).append((what, n))
                    hours.setdefault((grid, service), set()).add(actor)
            for key, found in waiting.items():  # as read now (the job may have recounted since the summary)
                actors = hours.get(key, set())
                found.hour_actors, found.hour_actor = len(actors), min(actors) if len(actors) == 1 else None
        for c in cells:
            c.loaded = True
        wanted = {a for c in cells for a in c.doing} - set(self.actors)
        if wanted:
            self.actors.update(Actor.objects.in_bulk(wanted))

    def rows(self, cell: Cell) -> list[tuple[Actor, str]]:
        """(organisation, what the records show it did) for one cell, by organisation code (the cell read
        first with :meth:`load`)."""
        return [(self.actors[a], "; ".join(f"{what} {n}" if n else what for what, n in done))
                for a, done in sorted(cell.doing.items(), key=lambda kv: self.actors[kv[0]].code)]


# --- the sources ---------------------------------------------------------------------------------
def _organisations_of_claimers(user_ids: Iterable[int]) -> dict[int, int]:
    """user id -> the society or capital actor they claim work for (staff: their organisation; a volunteer:
    their team), the same people the admission guard asks about."""
    from civicgrid.accounts.models import Role

    found: dict[int, int] = {}
    user_ids = set(user_ids)
    if not user_ids:  # no claimed task: not the 4,000 serving actors read for nothing (issue 15)
        return found
    roles = list(Role.objects.filter(user_id__in=user_ids).values("user_id", "role", "actor_id", "person_id"))
    serving = set(Actor.objects.filter(sector__in=("society", "capital")).values_list("pk", flat=True))
    teams: dict[int, int] = {}
    for person_id, actor_id in Post.objects.filter(person_id__in=[r["person_id"] for r in roles if r["person_id"]],
                                                   actor_id__in=serving).order_by("id").values_list("person_id",
                                                                                                    "actor_id"):
        teams.setdefault(person_id, actor_id)
    for r in roles:
        if r["role"] == "org_staff" and r["actor_id"] in serving:
            found[r["user_id"]] = r["actor_id"]
        elif r["role"] == "volunteer" and r["person_id"] in teams:
            found[r["user_id"]] = teams[r["person_id"]]
    return found


def _deliveries(*, paths: tuple[str, ...], since: datetime) -> list[Presence]:
    """Relief delivery tasks claimed or done since ``since``, by the organisation they were given to or,
    failing that, the claimer's organisation."""
    from civicgrid.relief.models import DeliveryTask

    tasks = list(DeliveryTask.objects.filter(under("place_path", paths)).filter(
        Q(claimed_at__gte=since) | Q(completed_at__gte=since)).exclude(claimed_by__isnull=True, organisation__isnull=True)
        .values_list("place_path", "organisation_id", "claimed_by_id", "status"))
    claimers = _organisations_of_claimers(t[2] for t in tasks if t[2])
    counts: dict[tuple[str, int, bool], int] = defaultdict(int)
    for path, organisation, claimer, status in tasks:
        actor = organisation or claimers.get(claimer)
        grid = ancestor_at(path, "grid")
        if actor and grid:
            counts[(grid, actor, status == "done")] += 1
    return [(grid, "delivery", actor, _("deliveries done") if done else _("deliveries under way"), n)
            for (grid, actor, done), n in counts.items()]


def _cases(*, paths: tuple[str, ...], since: datetime) -> list[Presence]:
    """Grid cases dispatched to an organisation since ``since``."""
    from civicgrid.cases.models import Case

    rows = (Case.objects.filter(under("place_path", paths), handler__isnull=False, dispatched_at__gte=since,
                                handler__sector__in=("society", "capital"))
            .values("grid__path", "handler_id").annotate(n=Count("id")).order_by())
    return [(r["grid__path"], "case_handling", r["handler_id"], _("cases handled"), r["n"]) for r in rows]


def _admissions(*, paths: tuple[str, ...], since: datetime) -> list[Presence]:
    """Organisations admitted to an emergency in force: there to work, even before their first record."""
    rows = (Admission.objects.filter(under("grid__path", paths), status=Admission.Status.ADMITTED,
                                     emergency__status=Emergency.Status.ACTIVE)
            .order_by().values_list("grid__path", "service_kind", "actor_id").distinct())
    return [(grid, kind, actor, _("admitted"), 0) for grid, kind, actor in rows]


HOURS = "social.hours"  # the tally of counted volunteer hours per grid, kind of act and organisation
HOUR_KINDS = ("delivery", "sweep", "care_visit")  # hours ledger sources that are a service kind of the board


def _counted_hours() -> QuerySet[Any]:
    from civicgrid.volunteers.models import HoursEntry
    from civicgrid.volunteers.selectors import COUNTED

    since = timezone.now() - timedelta(days=social_setting("board_days"))  # as board() reads its window
    return HoursEntry.objects.filter(COUNTED, on__gte=since.date(), source__in=HOUR_KINDS)


def _kind_and_organisation() -> Any:
    """"<kind>:<actor id>": the act's kind and the volunteer's organisation, the actor of their first post (as
    the governance page credits them); "<kind>:" for a volunteer without a post."""
    first_post = Post.objects.filter(person_id=OuterRef("volunteer__person_id")).order_by("id").values("actor_id")[:1]
    return Concat("source", Value(":"), Coalesce(Cast(Subquery(first_post), CharField()), Value("")),
                  output_field=CharField())


def _grid_ids() -> dict[str, int]:
    return dict(Place.objects.filter(level="grid").values_list("path", "pk"))


# Counted by the job every few minutes (the hours ledger itself is posted from confirmed acts by a job every
# minute): a district's 60,000 hour lines of a month were read and grouped here on every request, 0.8 s of the
# board at 1,000,000 households (issue 15).
# It holds the board's window (``board_days`` back from the day it was counted) and no day: a district's month of
# hours is 60,000 cells by day, 37,000 without.
TALLIES = {HOURS: Tally(rows=_counted_hours, grid="place_path", grid_of_path=_grid_ids,
                        group=_kind_and_organisation, measures=lambda: {"hours": Sum("hours")},
                        max_age=timedelta(minutes=10))}


def _hours(*, paths: tuple[str, ...] = (), since: datetime | None = None,
           grid_ids: Iterable[int] | None = None) -> list[Presence]:
    """Counted volunteer hours over the board's window (the volunteers app's ledger), by grid, kind of act and
    the volunteer's organisation, in the grids under ``paths`` or these grids: from the tally :data:`HOURS`."""
    from civicgrid.registry.selectors import grids_under

    grids = grids_under(paths) if grid_ids is None else Place.objects.filter(level="grid", pk__in=grid_ids)
    cells = tallies.read_tuples(HOURS, grids=grids.values("pk"))  # the window as of its count
    path_of = dict(grids.values_list("pk", "path")) if cells else {}
    what = _("volunteer hours")
    found = []
    for grid, group, hours in cells:
        kind, _colon, actor = str(group).partition(":")
        if actor and grid in path_of:
            found.append((path_of[grid], kind, int(actor), what, round(float(hours or 0))))
    return found


def _hours_summary(*, paths: tuple[str, ...], path_of: dict[int, str]) -> list[tuple[str, str, int, int]]:
    """(grid path, kind, organisations with counted hours, the one when one) of the grids under ``paths`` among
    ``path_of`` (grid id -> path), counted in the database from the tally :data:`HOURS` (see :class:`Cell`)."""
    from civicgrid.registry.selectors import grids_under

    rows = tallies.count_groups(HOURS, grids=grids_under(paths).values("pk"))
    return [(path_of[grid], kind, n, int(one)) for grid, kind, n, one in rows if grid in path_of]


def _relief_needs(*, paths: tuple[str, ...], since: datetime) -> list[Need]:
    """Relief needs open or allocated, per grid: from the relief app's needs tally (kept exact by its writes),
    not a count over a district's 1.7 M needs on every request (0.6-0.8 s at 1M households, issue 15)."""
    from civicgrid.registry.selectors import grids_under
    from civicgrid.relief import needcounts
    from civicgrid.relief.models import Need as ReliefNeed

    grids = grids_under(paths)
    counts = needcounts.per_grid(grids, (ReliefNeed.Status.OPEN, ReliefNeed.Status.ALLOCATED))
    path_of = dict(grids.values_list("pk", "path")) if counts else {}
    return [(path_of[g], "delivery", n) for g, n in counts.items() if n and g in path_of]


def _open_cases(*, paths: tuple[str, ...], since: datetime) -> list[Need]:
    from civicgrid.cases.models import Case

    rows = (Case.objects.filter(under("place_path", paths), state__in=("reported", "registered", "dispatched"))
            .values("grid__path").annotate(n=Count("id")).order_by())
    return [(r["grid__path"], "case_handling", r["n"]) for r in rows]


def _sweep_visits(*, paths: tuple[str, ...], since: datetime) -> list[Need]:
    from civicgrid.emergency.models import SweepVisit

    rows = (SweepVisit.objects.filter(under("place_path", paths), state__in=SweepVisit.TO_DO,
                                      sweep__closed_at__isnull=True)
            .values("household__grid__path").annotate(n=Count("id")).order_by())
    return [(r["household__grid__path"], "sweep", r["n"]) for r in rows]


def _care_visits(*, paths: tuple[str, ...], since: datetime) -> list[Need]:
    """Care visits of paired help waiting for a volunteer (the volunteers app)."""
    from civicgrid.volunteers.models import CareVisit

    rows = (CareVisit.objects.filter(under("place_path", paths), status=CareVisit.Status.OPEN)
            .values("grid__path").annotate(n=Count("id")).order_by())
    return [(r["grid__path"], "care_visit", r["n"]) for r in rows]


# Volunteer hours are not among them: a district's 37,000 cells of hours are summarised for the board
# (_hours_summary) and read in full only for the cells shown (Board.load).
PRESENCE: tuple[Callable[..., list[Presence]], ...] = (_deliveries, _cases, _admissions)
NEED: tuple[Callable[..., list[Need]], ...] = (_relief_needs, _open_cases, _sweep_visits, _care_visits)


# --- the board -----------------------------------------------------------------------------------
MANY_GRIDS = 20
def board(*, scope: Scope, community_id: int | None = None, kind: str = "", now: datetime | None = None) -> Board:
    """The 3W board of the grids the scope may see (or of one community), over the last ``board_days``."""
    require(scope, "social")
    grids_qs = scoped(Place.objects.filter(level="grid"), scope)
    if community_id is not None:
        grids_qs = grids_qs.filter(parent_id=community_id)
    # without their shapes, and each community read once (not once per grid, as a join would): a district's
    # 3,600 grids are drawn by name and code only
    grids = {g.path: g for g in grids_qs.defer("geometry").order_by("code")}
    parents = Place.objects.defer("geometry").in_bulk({g.parent_id for g in grids.values() if g.parent_id})
    for g in grids.values():
        g.parent = parents.get(g.parent_id)  # type: ignore[assignment]
    since = (now or timezone.now()) - timedelta(days=social_setting("board_days"))
    # The sources read the records under these prefixes and cell() keeps those of the grids above. A district's
    # hundreds of grid prefixes, ORed, cost SQLite hundreds of index ranges per source (1.2 s for its relief
    # needs at 100,000 households): many grids are read as their common ancestor, once (issue 15).
    paths = tuple(grids)
    if len(paths) > MANY_GRIDS and (ancestor := common_ancestor(paths)):
        paths = (ancestor,)
    cells: dict[tuple[str, str], Cell] = {}

    def cell(grid: str, service: str) -> Cell | None:
        found = cells.get((grid, service))
        if found is None:  # not setdefault: that would build a Cell for each of a district's 40,000 records
            if grid not in grids or (kind and service != kind):
                return None
            found = cells[(grid, service)] = Cell(grids[grid], service)
        return found

    _fill(cells, cell, paths, since, {g.pk: path for path, g in grids.items()})
    order = {k: i for i, k in enumerate(SERVICE_KINDS)}
    ordered = sorted(cells.values(), key=lambda c: (c.grid.code, order.get(c.kind, 99)))
    return Board(cells=ordered, actors={}, since=since, hours_counted=tallies.as_of([HOURS]))


def _fill(cells: dict[tuple[str, str], Cell], cell: Callable[[str, str], Cell | None], paths: tuple[str, ...],
          since: datetime, path_of: dict[int, str]) -> None:
    """Every source's records into the board's cells (``cell`` makes a cell of a grid and service shown)."""
    if paths:
        for source in PRESENCE:
            for grid, service, actor, what, n in source(paths=paths, since=since):
                # a record of a cell already made is added in place (a district's 40,000, issue 15)
                found = cells.get((grid, service)) or cell(grid, service)
                if found is not None:
                    found.doing.setdefault(actor, []).append((what, n))
        for grid, service, n, one in _hours_summary(paths=paths, path_of=path_of):
            found = cells.get((grid, service)) or cell(grid, service)
            if found is not None:
                found.hour_actors, found.hour_actor = n, one
        for need_source in NEED:
            for grid, service, n in need_source(paths=paths, since=since):
                found = cell(grid, service)
                if found is not None:
                    found.need += n


HXL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("district", "#adm1 +code"), ("subdistrict", "#adm2 +code"), ("community", "#adm3 +name"),
    ("community code", "#adm3 +code"), ("grid", "#adm4 +name"), ("grid code", "#adm4 +code"),
    ("service", "#sector +name"), ("service code", "#sector +code"), ("organisation", "#org +name"),
    ("organisation code", "#org +code"), ("organisation sector", "#org +type"), ("what was done", "#activity +name"),
    ("open need", "#inneed +num"), ("status", "#status"),
)


def hxl_csv(found: Board) -> str:
    """The board as HXL-tagged CSV: a header row in the reader's language, the hashtag row, one row per
    organisation in a cell (a gap or a cell with need only: one row without an organisation)."""
    headers = {"district": _("district"), "subdistrict": _("sub-district"), "community": _("community"),
               "community code": _("community code"), "grid": _("grid"), "grid code": _("grid code"),
               "service": _("service"), "service code": _("service code"), "organisation": _("organisation"),
               "organisation code": _("organisation code"), "organisation sector": _("sector"),
               "what was done": _("what was done"), "open need": _("open need"), "status": _("status")}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    found.load(found.cells)
    writer.writerow([neutralise(headers[name]) for name, _tag in HXL_COLUMNS])
    writer.writerow([tag for _name, tag in HXL_COLUMNS])
    for c in found.cells:
        codes = [p for p in c.grid.path.split("/") if p]
        place = [codes[0], codes[1] if len(codes) > 1 else "", c.grid.parent.name if c.grid.parent else "",
                 codes[2] if len(codes) > 2 else "", c.grid.name, c.grid.code, c.kind_label, c.kind]
        status = _("gap") if c.gap else _("overlap") if c.overlap else ""
        rows: list[tuple[Actor | None, str]] = [*found.rows(c)] or [(None, "")]
        for actor, what in rows:
            org = [actor.name, actor.code, str(SECTOR_LABELS.get(actor.sector, actor.sector))] if actor else ["", "", ""]
            writer.writerow([neutralise(v) for v in [*place, *org, what, c.need, status]])
    return out.getvalue()
