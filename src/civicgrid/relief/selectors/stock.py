"""Reads of what there is to give: the catalogue, distribution points, lots and their ledger, donors'
offers."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.errors import Invalid
from civicgrid.core.places import ancestors
from civicgrid.core.scoping import Scope, require, scoped
from civicgrid.registry.models import Actor
from civicgrid.relief.models import DistributionPoint, Item, LedgerEntry, Lot, Offer


# --- catalogue and places -------------------------------------------------------------------------
def item_list(*, active_only: bool = True) -> QuerySet[Item]:
    """The catalogue is public within the platform (it holds no personal data)."""
    items = Item.objects.all()
    return items.filter(active=True) if active_only else items


def point_list(*, scope: Scope) -> QuerySet[DistributionPoint]:
    require(scope, "relief")
    return scoped(DistributionPoint.objects.select_related("place"), scope)


def point_get(*, scope: Scope, point_id: int) -> DistributionPoint:
    return point_list(scope=scope).get(pk=point_id)


def points_by_path() -> dict[str, DistributionPoint]:
    """Every distribution point by the path of the place it serves (the deepest one wins)."""
    points: dict[str, DistributionPoint] = {}
    for point in DistributionPoint.objects.select_related("place").order_by("-id"):
        points[point.place.path] = point
    return points


def point_for_path(path: str, points: dict[str, DistributionPoint]) -> DistributionPoint | None:
    """The point of the nearest place enclosing ``path`` (a household's building path)."""
    return next((points[p] for p in reversed(ancestors(path)) if p in points), None)


def catalogue_item(code: str) -> Item:
    item = Item.objects.filter(code=str(code).strip(), active=True).first()
    if item is None:
        raise Invalid({"item": _("%(code)r is not in the catalogue") % {"code": code}})
    return item


# --- stock ----------------------------------------------------------------------------------------
def available_lots(*, item: Item, point: DistributionPoint, today: date) -> QuerySet[Lot]:
    """Lots that can be issued, first expiry first (lots without expiry last), then oldest first."""
    return Lot.objects.filter(item=item, point=point, quantity__gt=0).filter(
        Q(expiry__isnull=True) | Q(expiry__gte=today)).order_by(F("expiry").asc(nulls_last=True), "received_at", "id")


def stock_available(*, item: Item, point: DistributionPoint, today: date | None = None) -> int:
    today = today or timezone.localdate()
    return int(available_lots(item=item, point=point, today=today).aggregate(n=Sum("quantity"))["n"] or 0)


def stock_levels(*, scope: Scope, today: date | None = None) -> list[dict[str, Any]]:
    """Per point and item: units available, units in expired lots and the next expiry."""
    today = today or timezone.localdate()
    lots = scoped(Lot.objects.select_related("item", "point"), scope).filter(quantity__gt=0)
    rows: dict[tuple[int, int], dict[str, Any]] = {}
    for lot in lots.order_by("point__code", "item__code", "expiry"):
        row = rows.setdefault((lot.point_id, lot.item_id), {"point": lot.point, "item": lot.item, "available": 0,
                                                             "expired": 0, "next_expiry": None, "lots": 0})
        row["lots"] += 1
        if lot.expiry is not None and lot.expiry < today:
            row["expired"] += lot.quantity
            continue
        row["available"] += lot.quantity
        if lot.expiry and (row["next_expiry"] is None or lot.expiry < row["next_expiry"]):
            row["next_expiry"] = lot.expiry
    return list(rows.values())


def lot_list(*, scope: Scope) -> QuerySet[Lot]:
    require(scope, "relief")
    return scoped(Lot.objects.select_related("item", "point"), scope)


def ledger_list(*, scope: Scope, point: DistributionPoint | None = None, item: Item | None = None
                ) -> QuerySet[LedgerEntry]:
    require(scope, "relief")
    entries = scoped(LedgerEntry.objects.select_related("item", "point", "user", "lot"), scope)
    if point is not None:
        entries = entries.filter(point=point)
    if item is not None:
        entries = entries.filter(item=item)
    return entries


# --- offers ---------------------------------------------------------------------------------------
def offer_list(*, scope: Scope) -> QuerySet[Offer]:
    require(scope, "relief")
    return scoped(Offer.objects.select_related("donor", "item", "point"), scope)


def offer_get(*, scope: Scope, offer_id: int) -> Offer:
    return offer_list(scope=scope).get(pk=offer_id)


def donors_for(*, scope: Scope) -> QuerySet[Actor]:
    """Actors a user may record a pledge for: any actor in a coordinator's view, else their own."""
    require(scope, "relief")
    if scope.may("relief_manage"):
        return scoped(Actor.objects.all(), scope)
    return Actor.objects.filter(pk__in=scope.actor_ids)
