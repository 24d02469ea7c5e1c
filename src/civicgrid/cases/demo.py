"""Demo data: the shipped categories (also installed by migration) and a few open cases in the first
community, in different states of the loop, one of them overdue. Idempotent: nothing if cases exist."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from civicgrid.cases.models import Case, CaseCategory, CaseEvent
from civicgrid.cases.selectors import handler_candidates
from civicgrid.cases.services import case_report
from civicgrid.cases.shipped import categories_install
from civicgrid.core.scoping import PLATFORM
from civicgrid.registry.models import Household, Place

DEMO_CASES = (  # category, description (zh), hours ago, how far through the loop
    ("facility_repair", "3栋楼道照明灯损坏，夜间出行不便。", 5, "reported"),
    ("sanitation", "小区东门垃圾桶满溢，需要及时清运。", 30, "registered"),
    ("elderly_care", "独居老人反映近几日无人探访，需上门关怀。", 40, "dispatched"),
    ("neighbour_dispute", "楼上住户夜间噪声引发邻里矛盾，需调解。", 10, "reported"),
)


def demo_load(*, households: int, seed: int) -> list[str]:
    created = categories_install(CaseCategory)
    if Case.objects.exists():
        return [f"cases: {CaseCategory.objects.count()} categories; cases already present"]
    community = Place.objects.filter(level="community").order_by("code").first()
    if community is None:
        return []
    with transaction.atomic():
        n = _cases(community)
    return [f"cases: {CaseCategory.objects.count()} categories ({created} new), {n} demo cases in {community.name}"]


def _cases(community: Place) -> int:
    now = timezone.now()
    homes = list(Household.objects.filter(place_path__startswith=community.path).order_by("-vulnerability_score",
                                                                                          "code")[:len(DEMO_CASES)])
    for (code, text, hours_ago, stage), home in zip(DEMO_CASES, homes, strict=False):
        case = case_report(user=None, scope=PLATFORM, category=CaseCategory.objects.get(code=code), description=text,
                           household=home, reporter_label="12345热线", now=now - timedelta(hours=hours_ago))
        # Earlier steps of the demo cases, written as the history a coordinator would have left.
        if stage in {"registered", "dispatched"}:
            case.state, case.registered_at = "registered", case.reported_at + timedelta(hours=1)
            CaseEvent.objects.create(case=case, at=case.registered_at, action="register", from_state="reported",
                                     to_state="registered", level=case.level, note="demo")
        if stage == "dispatched":
            case.state, case.dispatched_at = "dispatched", case.reported_at + timedelta(hours=2)
            case.handler = handler_candidates(case).filter(kind="social_organisation").first()
            CaseEvent.objects.create(case=case, at=case.dispatched_at, action="dispatch", from_state="registered",
                                     to_state="dispatched", level=case.level, handler=case.handler, note="demo")
        case.save()
    return len(homes)
