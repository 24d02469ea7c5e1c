"""The panel of outcomes by place and day (or week), built from the platform's own records.

Each outcome is a :class:`Source` in :data:`SOURCES`: a function that runs **one aggregate query**
(``GROUP BY`` day and grid, in the database) and returns rows ``(day, grid_id, value, weight)``. The
panel then maps grids to the chosen units (grids or communities) and adds up the already-aggregated rows.
Another outcome is one more :func:`register` call (volunteer hours and care visits, from the volunteers
app's records, are registered below like the others).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.engine.comparison import OutcomeWords
from civicgrid.registry.models import Place

Rows = Iterable[Any]  # mappings: day, grid_id, value, weight


@dataclass(frozen=True)
class Source:
    """One outcome. ``kind``: ``count`` (summed; a missing day is 0), ``duration`` or ``share`` (weighted
    means; a day without records is missing). ``family``: the engine's GLM family."""

    key: str
    label: Any  # a gettext_lazy string, for the form
    kind: str
    family: str
    words: OutcomeWords  # the verdict's words in both languages
    rows: Callable[..., Rows]  # rows(*, grid_ids, start, end): one aggregate query over [start, end)


SOURCES: dict[str, Source] = {}


def register(source: Source) -> None:
    """Add (or replace) an outcome of the panel."""
    SOURCES[source.key] = source


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    return (datetime.combine(start, time.min, tzinfo=zone), datetime.combine(end, time.min, tzinfo=zone))


def _hours(end: str, start: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def _cases_reported(*, grid_ids: list[int], start: date, end: date) -> Rows:
    from civicgrid.cases.models import Case

    lo, hi = _bounds(start, end)
    return (Case.objects.filter(grid_id__in=grid_ids, reported_at__gte=lo, reported_at__lt=hi)
            .annotate(day=TruncDate("reported_at")).values("day", "grid_id")
            .annotate(value=Count("id"), weight=Count("id")).order_by())


def _cases_handling(*, grid_ids: list[int], start: date, end: date) -> Rows:
    from civicgrid.cases.models import Case

    lo, hi = _bounds(start, end)
    return (Case.objects.filter(grid_id__in=grid_ids, reported_at__gte=lo, reported_at__lt=hi, handled_at__isnull=False)
            .annotate(day=TruncDate("reported_at")).values("day", "grid_id")
            .annotate(value=Avg(_hours("handled_at", "reported_at")), weight=Count("id")).order_by())


def _needs_filed(*, grid_ids: list[int], start: date, end: date) -> Rows:
    from civicgrid.relief.models import Need

    lo, hi = _bounds(start, end)
    return (Need.objects.filter(household__grid_id__in=grid_ids, filed_at__gte=lo, filed_at__lt=hi)
            .annotate(day=TruncDate("filed_at"), grid_id=F("household__grid_id")).values("day", "grid_id")
            .annotate(value=Count("id"), weight=Count("id")).order_by())


def _time_to_help(*, grid_ids: list[int], start: date, end: date) -> Rows:
    """Hours from a need's filing to its delivery (the delivered need's last update)."""
    from civicgrid.relief.models import Need

    lo, hi = _bounds(start, end)
    return (Need.objects.filter(household__grid_id__in=grid_ids, filed_at__gte=lo, filed_at__lt=hi,
                                status=Need.Status.DELIVERED)
            .annotate(day=TruncDate("filed_at"), grid_id=F("household__grid_id")).values("day", "grid_id")
            .annotate(value=Avg(_hours("updated_at", "filed_at")), weight=Count("id")).order_by())


def _alert_reach(*, grid_ids: list[int], start: date, end: date) -> Rows:
    """Share of those targeted who acknowledged, by the alert's day and the grid its area lies in (an
    alert for a whole community counts for each of its grids)."""
    from civicgrid.alerts.models import Alert

    lo, hi = _bounds(start, end)
    grids = dict(Place.objects.filter(pk__in=grid_ids).values_list("path", "id"))
    query = Q()
    for path in grids:
        query |= Q(area_path__startswith=path)
    parents = {p for g in grids for p in _prefixes(g)}
    grouped = (Alert.objects.filter(query | Q(area_path__in=parents), sent_at__gte=lo, sent_at__lt=hi)
               .annotate(day=TruncDate("sent_at")).values("day", "area_path")
               .annotate(acknowledged=Sum("n_acknowledged"),
                         targeted=Sum(F("n_households_targeted") + F("n_people_targeted"))).order_by())
    for row in grouped:
        if not row["targeted"]:
            continue
        for path, grid_id in grids.items():
            if row["area_path"].startswith(path) or path.startswith(row["area_path"]):
                yield {"day": row["day"], "grid_id": grid_id, "value": row["acknowledged"] / row["targeted"],
                       "weight": row["targeted"]}


def _volunteer_hours(*, grid_ids: list[int], start: date, end: date) -> Rows:
    """Counted volunteer hours (the volunteers app's ledger) by the day served and the grid served in."""
    from civicgrid.volunteers.models import HoursEntry
    from civicgrid.volunteers.selectors import COUNTED

    grids = dict(Place.objects.filter(pk__in=grid_ids).values_list("path", "id"))
    query = Q(pk__in=[])
    for path in grids:
        query |= Q(place_path__startswith=path)
    grouped = (HoursEntry.objects.filter(COUNTED, query, on__gte=start, on__lt=end)
               .values("on", "place_path").annotate(hours=Sum("hours"), n=Count("id")).order_by())
    totals: dict[tuple[date, int], list[float]] = {}
    for row in grouped:
        grid_id = next((g for path, g in grids.items() if row["place_path"].startswith(path)), None)
        if grid_id is not None:
            found = totals.setdefault((row["on"], grid_id), [0.0, 0.0])
            found[0] += float(row["hours"])
            found[1] += row["n"]
    return [{"day": day, "grid_id": grid_id, "value": hours, "weight": n}
            for (day, grid_id), (hours, n) in totals.items()]


def _care_visits_done(*, grid_ids: list[int], start: date, end: date) -> Rows:
    """Care visits of paired help made, by the day they were due and their grid."""
    from civicgrid.volunteers.models import CareVisit

    return (CareVisit.objects.filter(grid_id__in=grid_ids, due_on__gte=start, due_on__lt=end,
                                     status=CareVisit.Status.DONE)
            .values("grid_id").annotate(day=F("due_on"), value=Count("id"), weight=Count("id"))
            .values("day", "grid_id", "value", "weight").order_by())


def _prefixes(path: str) -> list[str]:
    from civicgrid.core.places import ancestors

    return list(ancestors(path))


register(Source("cases.reported", _("Cases reported per day"), "count", "poisson",
                OutcomeWords("count", "cases reported", "上报案件数"), _cases_reported))
register(Source("cases.handling_hours", _("Time to handle a case (hours)"), "duration", "gamma",
                OutcomeWords("duration", "cases were handled", "案件处理", "case handling time", "案件处理时间"),
                _cases_handling))
register(Source("relief.needs", _("Needs filed per day"), "count", "poisson",
                OutcomeWords("count", "needs filed", "登记需求数"), _needs_filed))
register(Source("relief.time_to_help", _("Time from a need to its delivery (hours)"), "duration", "gamma",
                OutcomeWords("duration", "needs were met", "需求满足", "time to help", "救助时间"), _time_to_help))
register(Source("alerts.reach", _("Alert reach (share acknowledged)"), "share", "binomial",
                OutcomeWords("share", "the odds that an alert is acknowledged", "预警确认的几率",
                             "alert reach", "预警触达率"), _alert_reach))
register(Source("volunteers.hours", _("Volunteer hours per day"), "count", "poisson",
                OutcomeWords("count", "volunteer hours", "志愿服务时长"), _volunteer_hours))
register(Source("volunteers.care_visits", _("Care visits made per day"), "count", "poisson",
                OutcomeWords("count", "care visits made", "完成的关爱探访次数"), _care_visits_done))


def unit_grids(units: list[Place]) -> dict[int, str]:
    """Grid id -> the unit (grid or community) code it belongs to."""
    mapping: dict[int, str] = {}
    for place in units:
        if place.level == "grid":
            mapping[place.pk] = place.code
        else:
            for grid_id in Place.objects.filter(level="grid", path__startswith=place.path).values_list("id", flat=True):
                mapping[grid_id] = place.code
    return mapping


def _number(value: Any) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds() / 3600
    return float(value)


def build_panel(*, source: str, units: list[Place], start: date, end: date, weekly: bool = False) -> pd.DataFrame:
    """The outcome per unit and day (or ISO week, dated by its Monday) over [start, end): columns ``unit``,
    ``date``, ``value``, ``weight``. Counts are 0 on days without records; means and shares are missing."""
    spec = SOURCES[source]
    grids = unit_grids(units)
    rows = [{"unit": grids[r["grid_id"]], "date": pd.Timestamp(r["day"]), "value": _number(r["value"]),
             "weight": float(r["weight"])}
            for r in spec.rows(grid_ids=list(grids), start=start, end=end) if r["value"] is not None]
    frame = pd.DataFrame(rows, columns=["unit", "date", "value", "weight"])
    frame["total"] = frame["value"] * frame["weight"]
    grouped = frame.groupby(["unit", "date"], as_index=False)[["total", "weight", "value"]].sum()
    days = pd.date_range(start, end - timedelta(days=1), freq="D")
    full = pd.MultiIndex.from_product([[u.code for u in units], days], names=["unit", "date"])
    grouped = grouped.set_index(["unit", "date"]).reindex(full).reset_index()
    if weekly:
        grouped["date"] = grouped["date"] - pd.to_timedelta(grouped["date"].dt.day_of_week, unit="D")
        grouped = grouped.groupby(["unit", "date"], as_index=False)[["total", "weight", "value"]].sum(min_count=1)
    if spec.kind == "count":
        grouped["value"] = grouped["value"].fillna(0.0)
        grouped["weight"] = 1.0
    else:
        grouped["value"] = grouped["total"] / grouped["weight"]
    return grouped[["unit", "date", "value", "weight"]]
