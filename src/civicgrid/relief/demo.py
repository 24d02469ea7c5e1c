"""Demo data for the relief workflow: a lockdown.

After the registry is loaded: a catalogue (Sphere per-person defaults), one distribution point per
community, and a week of lockdown in which every household files a food need, about a quarter also
drinking water and households with a chronically ill member medicine (a few insulin, life-critical).
Stock, donated by actors of all three sectors, covers about 60% of the units needed at each point.

Assumption of the scenario, labelled as such: vulnerable households (score >= CIVICGRID_VULNERABLE_SCORE)
mostly reach the system later, through a grid member's phone call or door visit, the others file
themselves early. This is what makes "first come, first served" unfair in the preview.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from civicgrid.core import audit
from civicgrid.core.bulk import IdBlock, copy_rows
from civicgrid.core.places import ancestor_at, ancestors
from civicgrid.registry.models import Actor, Household, Place, Resident
from civicgrid.relief.events import ReliefEvent
from civicgrid.relief.models import (
    DistributionPoint,
    Item,
    LedgerEntry,
    Lot,
    Need,
    NeedFiling,
    Offer,
)
from civicgrid.relief.rounds import tier_of, vulnerable_score

COVERAGE = 0.6
FOOD_DAYS, WATER_DAYS = 7, 5

# code, English name, Chinese name, category, unit, Chinese unit, measure, unit size, per person per day,
# Sphere floor kind, life-critical
CATALOGUE: list[tuple[str, str, str, str, str, str, str, float, float | None, str, bool]] = [
    ("food-ration", "Food ration (2,100 kcal)", "口粮（2100千卡）", "food", "rations", "份", "kcal", 2100,
     2100, "food", False),
    ("water-5l", "Drinking water, 5 L bottle", "饮用水（5升桶）", "water", "bottles", "桶", "L", 5,
     15, "water", False),
    ("medicine-week", "Chronic-disease medicine, one week", "慢性病药品（一周量）", "medicine", "packs",
     "盒", "", 1, None, "", False),
    ("insulin-pen", "Insulin pen", "胰岛素笔", "medicine", "pens", "支", "", 1, None, "", True),
    ("dialysis-trip", "Medical transport (dialysis)", "就医转运（透析）", "medical_transport", "trips", "趟",
     "", 1, None, "", True),
    ("care-visit", "Home care visit", "上门照护", "care", "visits", "次", "", 1, None, "", False),
    ("shelter-kit", "Shelter kit (bedding, tarpaulin)", "安置包（被褥、篷布）", "shelter", "kits", "套",
     "", 1, None, "", False),
    ("counselling", "Psychosocial support session", "心理支持服务", "psychosocial", "sessions", "次",
     "", 1, None, "", False),
    ("hygiene-kit", "Hygiene kit", "卫生用品包", "other", "kits", "包", "", 1, None, "", False),
]


def demo_load(*, households: int, seed: int) -> list[str]:
    if Item.objects.exists():
        return []  # idempotent: the demo data is there already
    with transaction.atomic():
        return [_load(seed)]


def _load(seed: int) -> str:
    rng = np.random.default_rng(seed + 3)
    now = timezone.now().replace(microsecond=0)
    start = now - timedelta(hours=60)
    items = {row[0]: Item(code=row[0], name=row[1], name_zh=row[2], category=row[3], unit=row[4], unit_zh=row[5],
                          measure=row[6], unit_size=row[7], per_person_per_day=row[8], sphere_kind=row[9],
                          life_critical=row[10]) for row in CATALOGUE}
    Item.objects.bulk_create(items.values())
    points = {c.path: DistributionPoint(code=f"dp-{c.code}".lower(), name=f"{c.name}物资发放点", place=c,
                                        address=f"{c.name}党群服务中心")
              for c in Place.objects.filter(level="community").order_by("path")}
    DistributionPoint.objects.bulk_create(points.values())

    rows = list(Household.objects.order_by("id").only("id", "code", "address", "size", "vulnerability_score",
                                                      "place_path"))
    chronic = set(Resident.objects.filter(chronic_illness=True).values_list("household_id", flat=True))
    threshold = vulnerable_score()
    # needs and filings as plain rows through the bulk path (COPY on PostgreSQL): a district of 1,000,000
    # households files ~1.7 M needs, which model objects and bulk_create took minutes to write
    needs: list[tuple[Any, ...]] = []
    filings: list[tuple[Any, ...]] = []
    demand: dict[tuple[str, str], int] = {}
    filed_at = Need._meta.get_field("filed_at")

    def file(household: Household, item: Item, quantity: int, urgency: str, vulnerable: bool) -> None:
        hours = rng.uniform(18, 60) if vulnerable else rng.uniform(0, 42)
        at = filed_at.get_db_prep_save(start + timedelta(hours=float(hours)), connection)
        channel = str(rng.choice(["phone", "visit"])) if vulnerable and rng.random() < 0.8 else "self"
        needs.append((household.pk, item.category, item.pk, quantity, urgency, "", Need.Status.OPEN.value, 0, 0,
                      at, at, tier_of(urgency=urgency, life_critical=item.life_critical)))
        filings.append((len(needs) - 1, f"demo-{len(filings):08d}", channel, None, quantity, urgency, "", at, False,
                        0, quantity))
        point = _point_of(household.place_path, points)
        demand[(item.code, point)] = demand.get((item.code, point), 0) + quantity

    for household in rows:
        persons, vulnerable = max(1, household.size), household.vulnerability_score >= threshold
        food = items["food-ration"]
        file(household, food, food.default_quantity(persons=persons, days=FOOD_DAYS),
             "urgent" if vulnerable and rng.random() < 0.3 else "normal", vulnerable)
        if rng.random() < 0.25:
            water = items["water-5l"]
            file(household, water, water.default_quantity(persons=persons, days=WATER_DAYS), "normal", vulnerable)
        if household.pk in chronic:
            if rng.random() < 0.08:
                file(household, items["insulin-pen"], 2, "critical", vulnerable)
            else:
                file(household, items["medicine-week"], 1, "urgent" if rng.random() < 0.2 else "normal", vulnerable)
    need_ids = IdBlock(Need).take(len(needs))
    copy_rows(Need, ["id", "household_id", "category", "item_id", "quantity", "urgency", "note", "status",
                     "allocated_quantity", "delivered_quantity", "filed_at", "updated_at", "tier"],
              ((pk, *row) for pk, row in zip(need_ids, needs, strict=True)))
    copy_rows(NeedFiling, ["need_id", "key", "channel", "filed_by_id", "quantity", "urgency", "note", "at", "merged",
                           "quantity_before", "quantity_after"],
              ((need_ids[row[0]], *row[1:]) for row in filings))

    n_offers, units = _stock(items, points, demand, now=now, rng=rng)
    # one summarising event (the bulk rule of civicgrid.core.audit), not one row per generated need
    audit.record_bulk(user=None, event=ReliefEvent.DEMO_LOADED, model=Need, ids=need_ids,
                      counts={"needs": len(needs), "filings": len(filings)}, summary="")
    return (f"relief: {len(items)} catalogue items, {len(points)} distribution points, {len(needs):,} needs from "
            f"{len(rows):,} households (lockdown), stock for {COVERAGE:.0%} of {sum(demand.values()):,} units "
            f"({units:,}) from {n_offers} donations of all three sectors")


def _point_of(path: str, points: dict[str, DistributionPoint]) -> str:
    return points[ancestor_at(path, "community")].code


def _stock(items: dict[str, Item], points: dict[str, DistributionPoint], demand: dict[tuple[str, str], int], *,
           now: datetime, rng: np.random.Generator) -> tuple[int, int]:
    """Donations in stock covering COVERAGE of the demand at each point, from a state, a capital and a society
    donor; for food, two lots with different expiries (first expiry first out) and an expired one that must
    not be issued; plus one offer still pledged and one received per point."""
    by_code = {p.code: p for p in points.values()}
    offers: list[Offer] = []
    lots: list[Lot] = []
    today = timezone.localdate()
    for (code, point_code), needed in sorted(demand.items()):
        point, item = by_code[point_code], items[code]
        donors = _donors(point.place)
        total = int(round(COVERAGE * needed))
        shares = [total // 2, total * 3 // 10]
        shares.append(total - sum(shares))
        for donor, share, days in zip(donors, shares, (5, 30, 90), strict=False):
            if share <= 0:
                continue
            offer = Offer(donor=donor, donor_sector=donor.sector, donor_kind=donor.kind, item=item, quantity=share,
                          point=point, status=Offer.Status.IN_STOCK, received_quantity=share, accepted_quantity=share,
                          pledged_at=now - timedelta(days=3), received_at=now - timedelta(days=2),
                          inspected_at=now - timedelta(days=2), stocked_at=now - timedelta(days=2),
                          expiry=today + timedelta(days=days) if code == "food-ration" else None)
            offers.append(offer)
            lots.append(Lot(item=item, point=point, quantity=share, initial_quantity=share, expiry=offer.expiry,
                            received_at=now - timedelta(days=2), offer=offer,
                            source=f"{donor.name} ({donor.sector})"))
        if code == "food-ration":  # an expired lot: shown as expired, never issued or allocated
            lots.append(Lot(item=item, point=point, quantity=40, initial_quantity=40,
                            expiry=today - timedelta(days=1), received_at=now - timedelta(days=20),
                            source="old reserve"))
    for point in points.values():
        donors = _donors(point.place)
        offers.append(Offer(donor=donors[-1], donor_sector=donors[-1].sector, donor_kind=donors[-1].kind,
                            item=items["hygiene-kit"], quantity=200, point=point, pledged_at=now))
        offers.append(Offer(donor=donors[1], donor_sector=donors[1].sector, donor_kind=donors[1].kind,
                            item=items["water-5l"], quantity=300, point=point, status=Offer.Status.RECEIVED,
                            received_quantity=280, pledged_at=now - timedelta(days=1), received_at=now))
    Offer.objects.bulk_create(offers)
    for lot in lots:
        lot.offer_id = lot.offer.pk if lot.offer else None
    Lot.objects.bulk_create(lots)
    LedgerEntry.objects.bulk_create([
        LedgerEntry(at=lot.received_at, kind=LedgerEntry.Kind.RECEIPT, item=lot.item, point=lot.point, lot=lot,
                    quantity=lot.initial_quantity, balance_after=lot.initial_quantity, reason=lot.source,
                    offer_id=lot.offer_id) for lot in lots])
    audit.record_bulk(user=None, event=ReliefEvent.DEMO_LOADED, model=Lot,
                      ids=[f"Offer:{o.pk}" for o in offers] + [f"Lot:{lot.pk}" for lot in lots],
                      counts={"offers": len(offers), "lots": len(lots)}, summary="")
    return len(offers), sum(lot.quantity for lot in lots if lot.expiry is None or lot.expiry >= today)


def _donors(community: Place) -> list[Actor]:
    """A state, a capital and a society actor serving the community (falling back to any of that sector)."""
    serving = Actor.objects.filter(service_area__path__in=ancestors(community.path))
    donors = []
    for sector in ("state", "capital", "society"):
        actor = serving.filter(sector=sector).order_by("code").first() or Actor.objects.filter(
            sector=sector).order_by("code").first()
        if actor is not None:
            donors.append(actor)
    if not donors:
        raise RuntimeError("the demo needs at least one actor in the registry to donate stock")
    return donors
