"""What a round reads: the open needs of its items in its places, the distribution point of each home
and the usable lots, as the engine's tables (:func:`round_inputs`), and the counts a confirmation checks
first."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from civicgrid.core.bulk import read_frame
from civicgrid.core.locking import locked
from civicgrid.core.scoping import Scope, require, scoped
from civicgrid.registry.models import Place
from civicgrid.relief import rounds
from civicgrid.relief.models import Item, Lot, Need
from civicgrid.relief.selectors.stock import point_for_path, points_by_path


def round_inputs(*, scope: Scope, places: Iterable[Place], items: Iterable[Item], days: int,
                 lock: bool = False, today: date | None = None, needs_up_to: int | None = None) -> rounds.RoundInputs:
    """The open needs of ``items`` in ``places`` and the stock of their distribution points, as the
    engine's tables. With ``lock`` (inside a serialised transaction) the needs and lots are locked; with
    ``needs_up_to`` (a preview's :attr:`~civicgrid.relief.rounds.RoundInputs.last_need_id`) needs filed after it
    are left out.

    One query per table, read into columns (:func:`civicgrid.core.bulk.columns_of`): a district's million
    needs cost no Python object per row; the distribution point is found once per building path."""
    require(scope, "relief_manage")
    today = today or timezone.localdate()
    places, items = list(places), list(items)
    paths = [p.path for p in places]
    needs = round_needs(scope=scope, places=places, items=items, needs_up_to=needs_up_to)
    if lock:
        # the needs are read and locked in one statement (FOR NO KEY UPDATE OF the needs only)
        needs = locked(needs)
    raw = read_frame(needs.values_list(
        "id", "household_id", "household__size", "household__vulnerability_weight", "household__vulnerability_score",
        "household__vulnerability_summary", "item__code", "urgency", "quantity", "allocated_quantity", "filed_at",
        "household__place_path", "household__building_id", "household__vulnerability_rule").order_by("id"),
        {"need_id": "int", "household_id": "int", "household_size": "int", "weight": "float",
         "vulnerability_score": "float", "weight_reason": "text", "item": "text", "urgency": "text", "quantity": "int",
         "allocated": "int", "filed_at": "instant", "place_path": "text", "building_id": "int", "rule": "text"})
    homes_at = raw["place_path"].to_numpy(dtype=object).tolist()
    point_of = round_points(set(homes_at))
    frame = pd.DataFrame({
        "need_id": raw["need_id"], "household_id": raw["household_id"], "household_size": raw["household_size"],
        "weight": raw["weight"], "vulnerability_score": raw["vulnerability_score"],
        "weight_reason": raw["weight_reason"], "item": raw["item"], "urgency": raw["urgency"],
        "remaining": raw["quantity"] - raw["allocated"],
        "filed_at": pd.Series(iso_instants(raw["filed_at"].tolist()), dtype=object),
        "point": pd.Series([point_of[p] for p in homes_at], dtype=object),
    })
    homes = raw[["household_id", "building_id", "place_path"]].drop_duplicates("household_id").reset_index(drop=True)
    lot_frame = round_lots(items=items, point_codes={p for p in point_of.values() if p}, today=today, lock=lock)
    stock = list(zip(lot_frame["item"].tolist(), lot_frame["point"].tolist(), lot_frame["quantity"].tolist(),
                     strict=True))
    rules = {i.code: rounds.ItemRule(unit=i.unit, sphere_kind=i.sphere_kind, unit_size=i.unit_size,
                                     floor_units=i.floor_units, life_critical=i.life_critical) for i in items}
    return rounds.inputs_from_frame(needs=frame, items=rules, stock=stock, days=days, place_paths=paths,
                                    item_codes=[i.code for i in items], homes=homes, lots=lot_frame,
                                    vulnerability_rules=[r for r in set(raw["rule"].tolist()) if r is not None])


def round_needs(*, scope: Scope, places: Iterable[Place], items: Iterable[Item],
                needs_up_to: int | None = None) -> QuerySet[Need]:
    """The open needs of ``items`` in ``places``: what a round reads (those fully allocated are left out after);
    with ``needs_up_to``, only those whose id is not above it (filed before a preview that read up to it)."""
    require(scope, "relief_manage")
    area = Q(pk__in=[])
    for place in places:
        area |= Q(household__place_path__startswith=place.path)
    needs = scoped(Need.objects.all(), scope).filter(area, status=Need.Status.OPEN, item__in=list(items))
    return needs if needs_up_to is None else needs.filter(pk__lte=needs_up_to)


def round_waiting(*, scope: Scope, places: Iterable[Place], items: Iterable[Item],
                  needs_up_to: int | None = None) -> int:
    """How many of the round's needs still wait for units (one count): the round's requests plus those no
    distribution point serves, as a preview made now would find them (``len(requests) + skipped_no_point``)."""
    return round_needs(scope=scope, places=places, items=items, needs_up_to=needs_up_to).filter(
        quantity__gt=F("allocated_quantity")).count()


def round_filed_since(*, scope: Scope, places: Iterable[Place], items: Iterable[Item], needs_up_to: int
                      ) -> tuple[int, int]:
    """The round's needs still waiting that were filed after ``needs_up_to`` (they wait for the next round), and how
    many of them are life-critical (tier 0): one query, through the newest ids of the key's index."""
    since = round_needs(scope=scope, places=places, items=items).filter(
        pk__gt=needs_up_to, quantity__gt=F("allocated_quantity"))
    counted = since.aggregate(n=Count("pk"), critical=Count("pk", filter=Q(tier=0)))
    return int(counted["n"]), int(counted["critical"])


def round_points(paths: Iterable[str]) -> dict[str, str | None]:
    """The code of the distribution point serving each building path (None where none does)."""
    points = points_by_path()
    return {path: (point.code if (point := point_for_path(path, points)) else None) for path in paths}


def round_lots(*, items: Iterable[Item], point_codes: Iterable[str], today: date, lock: bool = False) -> pd.DataFrame:
    """The usable lots of ``items`` at the points ``point_codes`` (lot_id, item, point, quantity, expiry,
    received_at), by id; with ``lock`` (inside a serialised transaction) locked until it ends."""
    lots = Lot.objects.filter(item__in=list(items), point__code__in=list(point_codes), quantity__gt=0).filter(
        Q(expiry__isnull=True) | Q(expiry__gte=today)).order_by("id")
    if lock:
        lots = locked(lots)
    return pd.DataFrame(list(lots.values_list("id", "item__code", "point__code", "quantity", "expiry", "received_at")),
                        columns=["lot_id", "item", "point", "quantity", "expiry", "received_at"])


def iso_instants(values: list[Any]) -> list[str]:
    """Stored instants as ``datetime.isoformat()`` writes them in UTC (``2026-11-29T08:00:00.123456+00:00``,
    no fraction when it is zero): the requests' ``requested_at``. PostgreSQL's driver gives aware datetimes;
    SQLite naive ones in UTC (Django's converter), or Django's text (``2026-11-29 08:00:00.123456``, UTC)."""
    if not values:
        return []
    first = values[0]
    if isinstance(first, str):  # one format for the whole column (the connection's time zone is UTC)
        zone = first[19:].lstrip(".0123456789")
        if zone == "+00":  # PostgreSQL's text: its fraction trimmed of zeros
            return [_pg_instant(text) for text in values]
        if not zone:  # Django's text on SQLite
            return [f"{text[:10]}T{text[11:]}+00:00" for text in values]
        return [datetime.fromisoformat(text).astimezone(UTC).isoformat() for text in values]
    if isinstance(first, datetime) and first.utcoffset() == timedelta(0):  # the connection's time zone is UTC
        return [value.isoformat() for value in values]
    if isinstance(first, datetime) and first.tzinfo is None:  # SQLite's converter: naive, in UTC
        return [f"{value.isoformat()}+00:00" for value in values]
    return [(timezone.make_aware(v, UTC) if timezone.is_naive(v) else v).astimezone(UTC).isoformat() for v in values]


def _pg_instant(text: str) -> str:
    """``2026-11-29 08:00:00.12+00`` as ``2026-11-29T08:00:00.120000+00:00``."""
    if len(text) == 22:  # no fraction
        return f"{text[:10]}T{text[11:19]}+00:00"
    return f"{text[:10]}T{text[11:19]}.{text[20:-3]:0<6}+00:00"

