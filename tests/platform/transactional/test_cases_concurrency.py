"""Grid cases under real concurrency (threads, their own connections, commits): escalation runs that overlap (a
run longer than the minute between runs, or two workers) escalate each overdue case once, batch by batch.
Transactional: builds its own small world (the database is emptied afterwards)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from civicgrid.cases import services
from civicgrid.cases.models import Case, CaseCategory, CaseEvent
from civicgrid.core.models import AuditLog
from civicgrid.registry.models import Place
from tests.platform.transactional.racing import race

pytestmark = pytest.mark.django_db(transaction=True)
RUNS = 3


def _place(code: str, level: str, parent: Place | None) -> Place:
    return Place.objects.create(code=code, name=code, level=level, parent=parent,
                                path=(parent.path if parent else "") + code + "/")


def test_escalation_runs_at_once_escalate_each_case_once(monkeypatch: pytest.MonkeyPatch) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    district = _place(f"ED{tag}", "district", None)
    community = _place(f"{district.code}-C", "community", _place(f"{district.code}-S", "subdistrict", district))
    grid = _place(f"{community.code}-G", "grid", community)
    category = CaseCategory.objects.create(code=f"c-{tag.lower()}", name_en="lamp", name_zh="路灯",
                                           time_limit_hours=24)
    now = timezone.now()
    cases = [Case.objects.create(code=f"E{tag}{i:02d}", category=category, place=grid, place_path=grid.path,
                                 grid=grid, description="路灯坏了", reported_at=now - timedelta(days=3),
                                 due_at=now - timedelta(hours=1 + i), level_due_at=now - timedelta(hours=1 + i))
             for i in range(7)]
    monkeypatch.setattr(services, "ESCALATION_BATCH", 3)  # three batches each: the runs meet inside them
    results = race([lambda: services.cases_escalate_overdue(now=now)] * RUNS)
    assert not [r for r in results if isinstance(r, Exception)], results
    escalated = sorted(c.pk for r in results for c in r)
    assert escalated == sorted(c.pk for c in cases)  # every case, each by one run
    for case in cases:
        case.refresh_from_db()
        assert (case.level, case.level_due_at) == ("community", now + timedelta(hours=24))
        assert CaseEvent.objects.filter(case=case, action="escalate").count() == 1
        assert AuditLog.objects.filter(event="cases.escalate", object_id=str(case.pk)).count() == 1
