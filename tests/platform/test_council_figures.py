"""What the council feeds: the CREI's ``resident_body_decisions`` against a plain count, the governance
balance's "decisions" contributions by sector, and the demo year (deterministic, shaped by each
community's growth profile)."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from django.db import transaction

from civicgrid.analytics.governance_data import governance_inputs
from civicgrid.council.crei import resident_body_decisions
from civicgrid.council.demo import demo_load
from civicgrid.council.models import Covenant, Decision, Meeting, Signature
from civicgrid.engine.social_growth import growth_profiles
from civicgrid.registry.models import Actor, Place

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def _communities() -> list[Place]:
    return list(Place.objects.filter(level="community").order_by("code"))


def _summary() -> list[tuple[str, int, int, int, int, int]]:
    out = []
    for c in _communities():
        d = Decision.objects.filter(place_path=c.path)
        out.append((c.code, Meeting.objects.filter(community=c).count(), d.count(),
                    d.filter(residents_body=True).count(), d.filter(case__isnull=False).count(),
                    Signature.objects.filter(version__covenant__community=c).count()))
    return out


def test_without_decisions_the_indicator_is_missing() -> None:
    assert resident_body_decisions({"x": [1, 2]}) is None


def test_demo_year_follows_the_growth_profiles_and_is_deterministic() -> None:
    with transaction.atomic():
        lines = demo_load(households=0, seed=5)
        first = _summary()
        transaction.set_rollback(True)
    demo_load(households=0, seed=5)
    assert _summary() == first and len(lines) == len(_communities())
    assert demo_load(households=0, seed=5) == []  # idempotent
    profiles = growth_profiles([c.code for c in _communities()])
    shares = {}
    for c, (_code, meetings, decisions, residents, _cases, _signed) in zip(_communities(), first, strict=True):
        assert meetings == profiles[c.code].meetings + 1  # the year's and one coming
        shares[profiles[c.code].style] = residents / decisions
    assert shares["hub"] > 0.5 > shares["fused"]  # hub: residents' bodies; fused: enterprise and state
    assert sum(row[4] for row in first) > 0  # some decisions opened cases
    for c in _communities():
        covenant = Covenant.objects.get(community=c)
        assert covenant.versions.filter(state="in_force").count() == 1
        assert covenant.versions.filter(state="draft").count() == 1


def test_indicator_and_governance_contributions_against_a_plain_count() -> None:
    demo_load(households=0, seed=5)
    units = {c.code: list(Place.objects.filter(level="grid", parent=c).values_list("id", flat=True))
             for c in _communities()}
    first_grid = next(iter(units.values()))[0]
    units["one-grid"] = [first_grid]
    units["nowhere"] = []
    values = resident_body_decisions(units)
    assert values is not None
    for c in _communities():
        rows = list(Decision.objects.filter(place_path=c.path).values_list("residents_body", flat=True))
        assert values[c.code] == pytest.approx(sum(rows) / len(rows))
    assert values["one-grid"] == values[_communities()[0].code]  # a grid's community's share
    assert math.isnan(values["nowhere"])

    for c in _communities():
        recorded = Counter(Decision.objects.filter(place_path=c.path).values_list("body__actor__code", flat=True))
        contributed = {x.actor_id: x.amount for x in governance_inputs(community=c).contributions
                       if x.kind == "decisions"}
        assert contributed == {k: float(v) for k, v in recorded.items()}
        sectors = Counter()
        for code, n in recorded.items():
            sectors[Actor.objects.get(code=code).sector] += n
        assert sectors == Counter(Decision.objects.filter(place_path=c.path).values_list("sector", flat=True))
