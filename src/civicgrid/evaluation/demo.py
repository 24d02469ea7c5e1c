"""Demo data for the "what changed" page. The demo's own records span minutes, too few days for a
before/after comparison, so this adds, deterministically and labelled as such:

* a **past emergency** (a flood activation 35 days ago, closed 21 days ago, in the first community),
  through the emergency app's own services, unless an emergency at least 21 days old is already there;
* **historical daily case records** (``source = "demo-backfill"``, reporter "演示历史数据") for every
  grid of the first three communities over the 98 days before today: each a closed case with its
  reported, handled and closed times. Counts are Poisson (0.6 a grid a day, fewer at weekends); handling
  times are Gamma (mean 30 hours). In the emergency's community, from its activation on, cases are 50%
  more frequent and handled in 20 hours on average (a third faster): the effect the comparison should
  find. Written in one transaction with one summarising audit event; nothing if a backfill exists.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from civicgrid.cases.models import Case, CaseCategory
from civicgrid.core import audit
from civicgrid.core.scoping import PLATFORM
from civicgrid.emergency.models import Emergency, PlanTemplate
from civicgrid.evaluation.events import EvaluationEvent
from civicgrid.registry.models import Place

SOURCE = "demo-backfill"
DAYS = 98
WEEKDAY = (1.0, 1.1, 1.05, 1.0, 0.95, 0.7, 0.6)
PER_GRID_DAY = 0.6
HOURS_BEFORE, HOURS_AFTER, MORE_AFTER = 30.0, 20.0, 1.5


def demo_load(*, households: int, seed: int) -> list[str]:
    communities = list(Place.objects.filter(level="community").order_by("code")[:3])
    if not communities:
        return []
    if Case.objects.filter(source=SOURCE).exists():
        return ["evaluation: historical demo case records already present"]
    today = timezone.localdate()
    emergency = _past_emergency(communities[0], today)
    if emergency is None:
        return ["evaluation: no flood plan template; no historical demo records added"]
    with transaction.atomic():
        ids = _backfill(communities, emergency, today, seed)
        audit.record_bulk(user=None, event=EvaluationEvent.DEMO_BACKFILLED, model=Case, ids=ids,
                          counts={"cases": len(ids), "days": DAYS, "communities": len(communities)},
                          summary="")
    return [f"evaluation: {len(ids)} historical demo case records over {DAYS} days in {len(communities)} "
            f"communities, around the emergency of {emergency.activated_at.date()} in {emergency.community.name}"]


def _past_emergency(community: Place, today: object) -> Emergency | None:
    from civicgrid.emergency.services import emergency_activate, emergency_deactivate

    cutoff = timezone.now() - timedelta(days=21)
    found = Emergency.objects.filter(is_drill=False, activated_at__lte=cutoff).order_by("activated_at").first()
    if found is not None:
        return found
    plan = PlanTemplate.objects.filter(hazard="flood").order_by("pk").first()
    if plan is None:
        return None
    zone = timezone.get_current_timezone()
    start = datetime.combine(timezone.localdate() - timedelta(days=35), time(9, 0), tzinfo=zone)
    activation = emergency_activate(user=None, scope=PLATFORM, community=community, plan=plan, now=start)
    return emergency_deactivate(user=None, scope=PLATFORM, emergency=activation.emergency, now=start + timedelta(days=14),
                                summary="演示数据：历史防汛应急（用于前后对比页面）。")


def _backfill(communities: list[Place], emergency: Emergency, today: object, seed: int) -> list[int]:
    rng = np.random.default_rng(seed + 14)
    zone = timezone.get_current_timezone()
    category = CaseCategory.objects.order_by("order", "pk").first()
    assert category is not None  # installed by the cases app's migration
    event_day = timezone.localtime(emergency.activated_at).date()
    first = timezone.localdate() - timedelta(days=DAYS)
    cases = []
    for community in communities:
        grids = list(Place.objects.filter(level="grid", parent=community).order_by("code"))
        for offset in range(DAYS):
            day = first + timedelta(days=offset)
            after = community.pk == emergency.community_id and day >= event_day
            mean = PER_GRID_DAY * WEEKDAY[day.weekday()] * (MORE_AFTER if after else 1.0)
            hours = HOURS_AFTER if after else HOURS_BEFORE
            for grid in grids:
                for i in range(int(rng.poisson(mean))):
                    reported = datetime.combine(day, time(8, 0), tzinfo=zone) + timedelta(minutes=int(rng.integers(0, 720)))
                    handled = reported + timedelta(hours=float(rng.gamma(4.0, hours / 4.0)))
                    cases.append(Case(
                        code=f"B{day:%y%m%d}{grid.pk:05d}{i:02d}", category=category, place=grid,
                        place_path=grid.path, grid=grid, description="演示历史数据：已办结的网格事件。",
                        source=SOURCE, reporter_label="演示历史数据", state=Case.State.CLOSED,
                        reported_at=reported, due_at=reported + timedelta(hours=category.time_limit_hours),
                        level_due_at=reported + timedelta(hours=category.time_limit_hours),
                        registered_at=reported, dispatched_at=reported, handled_at=handled,
                        verified_at=handled, closed_at=handled))
    created = Case.objects.bulk_create(cases, batch_size=500)
    return [c.pk for c in created]
