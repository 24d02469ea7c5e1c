"""The home page's appeals to review: each appeal's handling chain asked for all shown appeals at once, the same
appeals listed for every role as when each chain was asked apart, in a number of queries that does not grow with
the appeals (issue 15: ~58 queries on the district's home page)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.core.plugins import WORK_LIMIT
from civicgrid.grievances import chain, selectors, services
from civicgrid.grievances.demo import demo_load
from civicgrid.grievances.models import Appeal, Grievance, Step
from civicgrid.grievances.work import work_items
from tests.platform.factories import user

pytestmark = pytest.mark.django_db
NOW = timezone.now().replace(microsecond=0)


def _appealed(*, handler: str, closer: str = "grid", days_ago: int = 5) -> Appeal:
    resident = user("resident")
    filed = NOW - timedelta(days=days_ago)
    g = services.grievance_file(user=resident, scope=scope_for(resident), kind="decision", subject_ref="停车位分配",
                                description="我家的意见没有被听取。", now=filed)
    for name, action, hours in ((handler, "respond", 3), (closer, "close", 30)):
        u = user(name)
        g = services.grievance_act(user=u, scope=scope_for(u), grievance=g, action=action,
                                   now=filed + timedelta(hours=hours), note="已处理。")
    return services.grievance_appeal(user=resident, scope=scope_for(resident), grievance=g, reason="答复不公",
                                     now=filed + timedelta(days=2))


def _world() -> None:
    demo_load(households=700, seed=5)
    _appealed(handler="director")
    _appealed(handler="grid", days_ago=6)
    # a complaint that reached the sub-district and the district, with the district official's own step
    g = _appealed(handler="grid", days_ago=7).grievance
    Step.objects.create(grievance=g, at=NOW - timedelta(days=6), action="escalate", level="subdistrict", note="")
    Step.objects.create(grievance=g, at=NOW - timedelta(days=6), user=user("district"), action="respond",
                        level="district", note="")


def _reference(u, scope) -> list[int]:
    """The appeals listed before: the first WORK_LIMIT pending by due date, each chain asked on its own."""
    shown = selectors.pending_appeals(scope=scope).order_by("due_at")[:WORK_LIMIT]
    return [a.grievance_id for a in shown if u.pk not in chain.handling_chain(a.grievance)]


def test_the_batched_chains_equal_each_chain_asked_apart() -> None:
    _world()
    grievances = list(Grievance.objects.all())
    assert len(grievances) > 20
    some = 0
    for u in get_user_model().objects.all():
        expected = {g.pk for g in grievances if u.pk in chain.handling_chain(g)}
        assert chain.chains_holding(u, grievances) == expected, u.username
        some += bool(expected)
    assert some >= 3  # grid member, director and district official each hold some chains
    assert chain.chains_holding(None, grievances) == set()
    assert chain.chains_holding(user("district"), []) == set()


def test_the_same_appeals_are_listed_for_every_role_in_queries_that_do_not_grow() -> None:
    _world()
    counts = {}
    for u in get_user_model().objects.all():
        scope = scope_for(u)
        listed = [i.url for i in work_items(user=u, scope=scope) if i.kind == "grievances.appeal"]
        expected = [f"/grievances/{pk}/" for pk in _reference(u, scope)] if scope.may("grievances_review") else []
        assert listed == expected, u.username
        counts[u.username] = len(listed)
    assert counts["district"] >= 2 and counts["director"] >= 1
    district = user("district")
    scope = scope_for(district)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            work_items(user=district, scope=scope)
        return len(captured.captured_queries)

    queries()  # the user's role read once, as on any page
    before = queries()
    for k in range(4):
        _appealed(handler="director", days_ago=8 + k)
    assert selectors.pending_appeals(scope=scope_for(district)).count() >= 6
    assert queries() == before
