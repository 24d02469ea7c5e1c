"""Tallies: counts of an app's records per grid, kept in one core table so that the analytics pages read a
few hundred cells instead of a year of records (issue 15).

An app declares each tally in its plugin (``AppPlugin.tallies = {"<app>.<name>": Tally(...)}``): which
records (``rows``), the field paths of their grid, of their *part* (the unit a write changes: a round,
an alert; '' when none) and of their day, an optional group (e.g. vulnerable or not) and up to four
measures (database aggregates: ``Count``, ``Sum``). The cells are that grouped query's result, stored in
:class:`~civicgrid.core.models.TallyRow`.

How the cells stay right:

* **In the write's transaction** (:func:`refresh`): a service that writes a part's records (a round's
  allocations, an alert's deliveries) recounts that part, and only it, from the records, before it
  commits; a rollback takes the new cells back with the records. The cells are always the records'
  own grouped count, so there is no running total to drift. Recounts of one tally take turns (its
  lock, :func:`_lock`), so two writers never leave two cells for one.
* **Added to, by many small writes** (:func:`add`): for a tally whose parts are its grids, a write that only
  adds records (a need filed) adds its counts to its cells in one statement instead of recounting the grid.
  Adders hold the tally's lock in share mode and do not wait for one another (two adding to one cell take
  turns on that cell); a recount holds it exclusively, so no addition interleaves with a recount (one would
  count the record and the other add it again). Issue 11's intake: a recount per filing took need
  filing from 312 to 217 a second.
* **Whole, by the job** (:func:`rebuild`): ``civicgrid tallies`` (a periodic job of the analytics app)
  recounts each tally older than its ``max_age``; tallies without parts (the registry's residents per
  grid) are kept only this way, and the pages say when they were counted ("as of").
* **Never counted yet** (a new installation before the job's first run): :func:`read` counts from the
  records on the spot (correct, as slow as before) rather than showing nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import connections, models, transaction
from django.db.models import F, Value
from django.db.models.functions import Cast, Left, StrIndex, Substr, TruncDate
from django.utils import timezone

from civicgrid.core.locking import locked_for_write, named_lock, serialised_block
from civicgrid.core.models import TallyRow, TallyState

MEASURES = ("m0", "m1", "m2", "m3")


@dataclass(frozen=True)
class Tally:
    """One declared tally. ``measures`` and ``group`` are callables so that a setting they read (the
    vulnerable score) is read when counting, not at import."""

    rows: Callable[[], models.QuerySet[Any]]
    grid: str
    measures: Callable[[], Mapping[str, models.Aggregate]]
    part: str = ""
    day: str = ""
    group: Callable[[], Any] | None = None
    max_age: timedelta = timedelta(hours=1)
    # Records that carry a place path rather than a grid id (volunteer hours, where the act took place):
    # ``grid`` then names that path field and ``grid_of_path`` gives each grid's path -> its id. A record
    # counts in the grid its path lies in (records above grid level are left out); the records are grouped
    # by path in the database and the paths' cells of one grid added up here, so the measures must be
    # counts and sums. Only for tallies without parts (kept by the job's recount).
    grid_of_path: Callable[[], Mapping[str, int]] | None = None

    @property
    def parted_by_grid(self) -> bool:
        """Its parts are its grids (the needs per grid): a write may add to its cells (:func:`add`), and a record
        moving grid recounts the grids it left and entered (:func:`grids_changed`)."""
        return bool(self.part) and self.part == self.grid and not self.day and self.grid_of_path is None

    def grouped(self, *, parts: Iterable[Any] | None = None, grids: Iterable[int] | None = None) -> Any:
        """The records' grouped count (dicts of grid, part, day, group and the measures)."""
        qs = self.rows()
        if parts is not None:
            qs = qs.filter(**{f"{self.part}__in": list(parts)})
        if grids is not None:
            qs = qs.filter(**{f"{self.grid}__in": list(grids)})
        keys = {
            "t_grid": F(self.grid),
            "t_part": Cast(self.part, models.CharField()) if self.part else Value(""),
            "t_day": TruncDate(self.day) if self.day else Value(None, output_field=models.DateField()),
            "t_group": self.group() if self.group else Value(""),
        }
        measures = dict(self.measures())
        if len(measures) > len(MEASURES):
            raise ValueError(f"a tally has at most {len(MEASURES)} measures")
        return qs.values(**keys).annotate(**measures).order_by()


def spec(name: str) -> Tally:
    from civicgrid.core.plugins import tally_specs

    return tally_specs()[name]  # type: ignore[no-any-return]


def _by_grid(tally: Tally, rows: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    """The grouped rows keyed by grid id: as they are, or (``grid_of_path``) each path's row added to the
    row of the grid it lies in."""
    if tally.grid_of_path is None:
        return rows
    from civicgrid.core.places import ancestor_at

    grids, names = tally.grid_of_path(), list(tally.measures())
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        grid = grids.get(ancestor_at(r["t_grid"] or "", "grid"))
        if grid is None:
            continue
        key = (grid, r["t_part"], r["t_day"], r["t_group"])
        cell = merged.setdefault(key, {**r, "t_grid": grid, **dict.fromkeys(names, 0.0)})
        for n in names:
            cell[n] += float(r[n] or 0)
    return list(merged.values())


def _cells(name: str, tally: Tally, rows: Iterable[dict[str, Any]]) -> list[TallyRow]:
    names = list(tally.measures())
    rows = _by_grid(tally, rows)
    return [TallyRow(name=name, part=r["t_part"] or "", grid_id=r["t_grid"], day=r["t_day"],
                     group=r["t_group"] or "", **{m: float(r[n] or 0) for m, n in zip(MEASURES, names, strict=False)})
            for r in rows]


def refresh(name: str, *, parts: Iterable[Any], grids: Iterable[int] | None = None) -> int:
    """Recount the given parts (and only these grids of them, when given) from the records, inside the
    caller's transaction. Returns the number of cells written."""
    tally = spec(name)
    if not tally.part or tally.grid_of_path is not None:
        raise ValueError(f"tally {name!r} has no parts: it is rebuilt whole by the job")
    parts = [str(p) for p in parts]
    grid_list = None if grids is None else list(grids)
    with transaction.atomic():
        # the tally's lock: two writers recounting the same cells (two acknowledgements in
        # one grid) take turns, else both would delete the old cell and each insert its own. A tally never
        # counted is skipped: its first whole count (the job) counts these records too.
        if not _lock(name):
            return 0
        stale = TallyRow.objects.filter(name=name, part__in=parts)
        if grid_list is not None:
            stale = stale.filter(grid_id__in=grid_list)
        stale.delete()
        cells = _cells(name, tally, tally.grouped(parts=parts, grids=grid_list))
        TallyRow.objects.bulk_create(cells, batch_size=500)
    return len(cells)


def add(name: str, cells: Mapping[tuple[int, str], Sequence[float]]) -> bool:
    """Add ``cells`` ((grid id, group) -> one amount per measure, in declared order) to the tally ``name``, whose
    parts are its grids, inside the caller's transaction: one statement, an upsert on the cell's unique key.
    For a write that adds records and changes no other (a filing); the amounts must be what a recount of those
    records would add (counts and sums). False, and nothing written, when the tally was never counted (its first
    whole count counts these records too)."""
    tally = spec(name)
    if not tally.parted_by_grid:
        raise ValueError(f"tally {name!r} is not parted by grid: it is only recounted")
    width = len(tally.measures())
    rows = []
    for (grid, group), amounts in sorted(cells.items()):  # one order for every writer: cells locked in turn
        if grid is None or len(amounts) != width:
            raise ValueError(f"a cell of {name!r} needs a grid and {width} amounts")
        rows.append([name, str(int(grid)), int(grid), group, *(float(a) for a in amounts),
                     *([0.0] * (len(MEASURES) - width))])
    connection = transaction.get_connection()
    if not connection.in_atomic_block:  # the cells must commit or roll back with the records they count
        raise RuntimeError("tallies.add runs inside the transaction that writes the records")
    if not rows:
        return True
    if not _lock(name, shared=True):  # waits out a recount; adders do not wait for each other
        return False
    q = connection.ops.quote_name
    table = q(TallyRow._meta.db_table)
    columns = ", ".join(q(c) for c in ("name", "part", "grid_id", "group", *MEASURES))
    marks = ", ".join(["(" + ", ".join(["%s"] * (4 + len(MEASURES))) + ")"] * len(rows))
    sums = ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m in MEASURES)
    with connection.cursor() as cursor:  # the conflict target is TallyRow's unique cell (day IS NULL)
        cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {marks} "  # noqa: S608 (names, not values)
                       f"ON CONFLICT (name, part, grid_id, {q('group')}) WHERE day IS NULL DO UPDATE SET {sums}",
                       [v for row in rows for v in row])
    return True


def hold(name: str) -> None:
    """Take ``name``'s lock now (:func:`_lock`), inside the caller's transaction, for a service that recounts
    after an audit write: rows are locked before the audit chain's head (the house rule), else a writer holding
    this lock and waiting for the head could wait on one holding the head and waiting for this lock."""
    _lock(name)


def _lock(name: str, *, shared: bool = False) -> bool:
    """Take tally ``name``'s lock until the transaction ends (shared: an adder; else a recount); True when the
    tally was ever counted. PostgreSQL: a named lock (:func:`civicgrid.core.locking.named_lock`), taken before
    the state is read, so an adder racing the first whole count either waits for it or is counted by it.
    SQLite: its write lock, through the state row."""
    state = TallyState.objects.using("default").filter(name=name)
    if transaction.get_connection().vendor != "postgresql":
        return bool(locked_for_write(state))
    named_lock(f"civicgrid.tally:{name}", shared=shared)
    return state.exists()


def grids_changed(grid_ids: Iterable[int]) -> None:
    """Recount, inside the caller's transaction, these grids of every tally whose parts are its grids (the
    needs per grid): for a write that moves records from one grid to another (a household moving house), which
    changes no record of the tally's own app. Call :func:`hold_grid_tallies` before the write's audit rows."""
    from civicgrid.core.plugins import tally_specs

    grids = sorted({int(g) for g in grid_ids if g is not None})
    if not grids:
        return
    for name, tally in tally_specs().items():
        if tally.parted_by_grid:
            refresh(name, parts=grids)


def hold_grid_tallies() -> None:
    """:func:`hold` every tally :func:`grids_changed` recounts, in name order (one order for every writer)."""
    from civicgrid.core.plugins import tally_specs

    for name, tally in sorted(tally_specs().items()):
        if tally.parted_by_grid:
            hold(name)


def rebuild(name: str) -> int:
    """Recount a whole tally from the records, in one transaction; records when ("as of")."""
    tally = spec(name)
    started = time.perf_counter()
    with serialised_block():  # SQLite: BEGIN IMMEDIATE, else a read-then-write loses to a racing writer ("locked")
        _lock(name)  # no refresh or addition interleaves with the recount
        TallyState.objects.get_or_create(name=name, defaults={"rebuilt_at": timezone.now()})
        TallyRow.objects.filter(name=name).delete()
        cells = _cells(name, tally, tally.grouped())
        TallyRow.objects.bulk_create(cells, batch_size=500)
        TallyState.objects.update_or_create(name=name, defaults={
            "rebuilt_at": timezone.now(), "rows": len(cells), "seconds": time.perf_counter() - started})
    return len(cells)


def rebuild_stale(*, now: datetime | None = None, force: bool = False) -> list[str]:
    """Rebuild every tally never counted or older than its ``max_age`` (the periodic job)."""
    from civicgrid.core.plugins import tally_specs

    now = now or timezone.now()
    counted = dict(TallyState.objects.values_list("name", "rebuilt_at"))
    done = []
    for name, tally in tally_specs().items():
        if force or name not in counted or now - counted[name] >= tally.max_age:
            done.append(f"{name}: {rebuild(name)} cells")
    return done


_SHARED: ContextVar[dict[tuple[str, date | None], Any] | None] = ContextVar("tally_reads", default=None)
T = TypeVar("T")


@contextmanager
def shared_reads() -> Iterator[None]:
    """Within the block, a tally read again whole (no ``grids``) with the same ``since`` gives the first read's
    cells without a query: the resilience index reads the households and residents per grid for several
    indicators (eight reads of two tallies, 3,600 cells each at 1M households, issue 15). The cells are shared:
    do not change them."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def shared(key: str, compute: Callable[[], T]) -> T:
    """Within :func:`shared_reads`, ``compute()`` once per ``key`` and its result handed to every later caller
    (every grid's path, which five of the index's indicators look up); outside the block, computed each time.
    The result is shared: do not change it."""
    found = _SHARED.get()
    if found is None:
        return compute()
    if ("=" + key, None) not in found:  # "=": never a tally's name
        found[("=" + key, None)] = compute()
    return found[("=" + key, None)]  # type: ignore[no-any-return]


def read(name: str, *, since: date | None = None, grids: Any = None) -> list[dict[str, Any]]:
    """The tally summed over parts and days (from ``since`` on, when given), per grid and group: dicts of
    ``grid``, ``group`` and the measures by their declared names. One query. ``grids`` (ids, or a queryset
    of grid ids: a scope's grids) keeps only those grids' cells."""
    shared = _SHARED.get()
    if shared is not None and grids is None:
        if (name, since) not in shared:
            shared[(name, since)] = _read(name, since=since, grids=None)
        return shared[(name, since)]
    return _read(name, since=since, grids=grids)


def read_tuples(name: str, *, grids: Any = None) -> list[tuple[Any, ...]]:
    """:func:`read` as tuples ``(grid, group, *measures)`` in the measures' declared order, for a caller that reads
    tens of thousands of cells (the 3W board's volunteer hours: 37,000 at 1,000,000 households, where a dict per
    cell was a tenth of the board's time, issue 15)."""
    found = _summed(name, since=None, grids=grids)
    if found is not None:
        return found
    tally = spec(name)
    names = list(tally.measures())
    return [(c["grid"], c["group"], *(c[n] for n in names)) for c in _read_records(tally, names, None, grids)]


def count_groups(name: str, *, grids: Any = None, split: str = ":") -> list[tuple[Any, str, int, str]]:
    """Per grid and group *head* (a group's text before ``split``): how many groups with a tail after it the
    tally (one without parts or days) has, and the lowest tail, as tuples ``(grid, head, groups, lowest tail)``;
    groups without ``split`` or without a tail are left out. Counted in the database: the 3W board asks, of its 37,000 cells of hours by
    grid and "kind:organisation" at 1,000,000 households, only how many organisations each grid and kind has
    and, when one, which (issue 15). A tally never counted is read from its records, as :func:`read` does."""
    cells = TallyRow.objects.filter(name=name, group__contains=split).exclude(group__endswith=split)
    if grids is not None:
        cells = cells.filter(grid_id__in=grids)
    at = StrIndex("group", Value(split))
    tally = spec(name)
    if tally.part or tally.day:  # then a group has several cells per grid; counting them would need DISTINCT
        raise ValueError(f"tally {name!r} keeps parts or days: count_groups counts one cell per grid and group")
    groups = models.Count("group")
    rows: list[tuple[Any, str, int, str]] = list(
        cells.annotate(t_head=Left("group", at - 1), t_tail=Substr("group", at + len(split)))
        .values_list("grid_id", "t_head").annotate(n=groups, one=models.Min("t_tail")).order_by())
    if rows or TallyState.objects.filter(name=name).exists():
        return rows
    tails: dict[tuple[Any, str], set[str]] = {}
    for grid, group, *_measures in read_tuples(name, grids=grids):
        head, found, tail = str(group).partition(split)
        if found and tail:
            tails.setdefault((grid, head), set()).add(tail)
    return [(grid, head, len(found_tails), min(found_tails)) for (grid, head), found_tails in tails.items()]


def _summed(name: str, *, since: date | None, grids: Any) -> list[tuple[Any, ...]] | None:
    """The stored cells summed per grid and group, as tuples; None when there are none and the tally was never
    counted (then read from the records)."""
    cells = TallyRow.objects.filter(name=name)
    if since is not None:
        cells = cells.filter(day__gte=since)
    if grids is not None:
        cells = cells.filter(grid_id__in=grids)
    sums = {m: models.Sum(m) for m in MEASURES[:len(spec(name).measures())]}
    # tuples, not dicts: a district's tally can be tens of thousands of cells (the 3W board's hours), and Django
    # building a dict per row took as long again as the dicts of _read (issue 15)
    rows = _fetch(cells.values_list("grid_id", "group").annotate(**sums).order_by())  # type: ignore[arg-type]
    # cells are written only by a count, so finding some says it was counted: the "counted yet?" look-up
    # is needed only when there are none (counted and empty, or never counted: then from the records)
    if not rows and not TallyState.objects.filter(name=name).exists():
        return None
    return rows


def _read(name: str, *, since: date | None, grids: Any) -> list[dict[str, Any]]:
    tally = spec(name)
    names = list(tally.measures())
    rows = _summed(name, since=since, grids=grids)
    if rows is None:
        return _read_records(tally, names, since, grids)
    keys = ("grid", "group", *names)
    return [dict(zip(keys, row, strict=True)) for row in rows]  # each row is (grid, group, *measures)


def _fetch(rows: models.QuerySet[Any]) -> list[tuple[Any, ...]]:
    """A grouped query's rows as the database returns them (tuples), without Django's converters: a ``float()``
    called on each summed measure, already a float, was a tenth of the CREI page's time reading 36,000 cells at
    1,000,000 households (issue 15). Only for plain columns and sums of float measures."""
    try:
        sql, params = rows.query.get_compiler(using=rows.db).as_sql()
    except EmptyResultSet:  # e.g. no grid asked for
        return []
    with connections[rows.db].cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _read_records(tally: Tally, names: list[str], since: date | None, grids: Any = None) -> list[dict[str, Any]]:
    """Never counted: the same grouped count from the records, summed here."""
    out: dict[tuple[Any, str], dict[str, Any]] = {}
    keep = None if grids is None else set(grids.values_list("pk", flat=True) if hasattr(grids, "values_list")
                                          else grids)
    for r in _by_grid(tally, tally.grouped()):
        if keep is not None and r["t_grid"] not in keep:
            continue
        if since is not None and (r["t_day"] is None or _as_date(r["t_day"]) < since):
            continue
        cell = out.setdefault((r["t_grid"], r["t_group"] or ""),
                              {"grid": r["t_grid"], "group": r["t_group"] or "", **dict.fromkeys(names, 0.0)})
        for n in names:
            cell[n] += float(r[n] or 0)
    return list(out.values())


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value  # type: ignore[no-any-return]


def recount_only() -> list[str]:
    """The tallies kept only by the job's recount (no parts): their figures are as of that recount."""
    from civicgrid.core.plugins import tally_specs

    return [name for name, tally in tally_specs().items() if not tally.part]


def as_of(names: Iterable[str]) -> datetime | None:
    """The oldest whole count among these tallies (None when one was never counted: read from records)."""
    names = list(names)
    states = dict(TallyState.objects.filter(name__in=names).values_list("name", "rebuilt_at"))
    if not names or len(states) < len(set(names)):
        return None
    return min(states.values())
