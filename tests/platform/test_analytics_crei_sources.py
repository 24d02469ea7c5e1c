"""CREI indicators supplied by the domain apps: once relief has a confirmed round, its equity gaps enter
the index, with values equal to a plain count over the round's allocations."""

from __future__ import annotations

import math

import pytest
from django.conf import settings

from civicgrid.analytics.crei import crei
from civicgrid.core.indicators import ratio_by_unit
from civicgrid.registry.models import Place
from civicgrid.relief import services
from civicgrid.relief.models import RoundAllocation
from tests.platform.relief_support import grid_households, lockdown, login

pytestmark = pytest.mark.django_db


def test_ratio_by_unit_sums_over_each_units_grids() -> None:
    import pandas as pd

    numerator, denominator = pd.Series({1: 2, 2: 1, 3: 0}), pd.Series({1: 4, 2: 4, 3: 0})
    out = ratio_by_unit({"a": [1, 2], "b": [3], "c": [1]}, numerator, denominator)
    assert out is not None and out["a"] == 3 / 8 and out["c"] == 0.5 and math.isnan(out["b"])
    assert ratio_by_unit({"a": [1]}, pd.Series(dtype=float), pd.Series(dtype=float)) is None


def test_relief_gaps_enter_the_index_after_a_confirmed_round() -> None:
    places = list(Place.objects.filter(level__in=["grid", "community"]))
    before = {m["name"] for m in crei(places=places, level="grid").missing}
    assert {"coverage_gap", "unmet_need_gap"} <= before

    lockdown(households=grid_households("C01-G01") + grid_households("C01-G02"), share=0.5)
    community = Place.objects.get(code__endswith="C01", level="community")
    user, scope = login("director")
    services.round_confirm(user=user, scope=scope, place_ids=[community.pk], item_codes=["t-food", "t-water"],
                           days=3, policy="fcfs", seed=1)

    outcome = crei(places=places, level="grid")
    # In this round both grids have vulnerable and other households and their gaps differ, so both
    # indicators must enter the index ("no variation between units" would drop them).
    missing = {m["name"]: m["reason"] for m in outcome.missing}
    assert "coverage_gap" not in missing and "unmet_need_gap" not in missing, missing
    gaps = []
    for grid_code in ("D01-S01-C01-G01", "D01-S01-C01-G02"):
        rows = list(RoundAllocation.objects.filter(household__grid__code=grid_code)
                    .values_list("quantity", "need_quantity", "floor", "household__vulnerability_score"))
        vulnerable = [r for r in rows if r[3] >= settings.CIVICGRID_VULNERABLE_SCORE]
        other = [r for r in rows if r[3] < settings.CIVICGRID_VULNERABLE_SCORE]
        assert vulnerable and other, f"{grid_code} lacks vulnerable or other households in the round"
        # plain counts: requests that reached their floor, and units given against units needed
        reached_other = sum(1 for quantity, _, floor, _ in other if quantity >= floor)
        reached_vulnerable = sum(1 for quantity, _, floor, _ in vulnerable if quantity >= floor)
        coverage_gap = reached_other / len(other) - reached_vulnerable / len(vulnerable)
        unmet_vulnerable = 1 - sum(r[0] for r in vulnerable) / sum(r[1] for r in vulnerable)
        unmet_other = 1 - sum(r[0] for r in other) / sum(r[1] for r in other)
        assert outcome.values.loc[grid_code, "coverage_gap"] == pytest.approx(coverage_gap)
        assert outcome.values.loc[grid_code, "unmet_need_gap"] == pytest.approx(unmet_vulnerable - unmet_other)
        gaps.append(coverage_gap)
    assert gaps[0] != pytest.approx(gaps[1])  # the counts themselves vary between the grids


def test_crei_command_prints_every_unit_and_indicator_with_the_reason_for_gaps(capsys) -> None:  # type: ignore[no-untyped-def]
    import csv
    import io
    import json

    from civicgrid.analytics.crei import NO_PROVIDER, catalogue, providers
    from civicgrid.cli import main

    assert main(["crei", "--level", "grid", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    grids = set(Place.objects.filter(level="grid").values_list("code", flat=True))
    names = [e["name"] for e in catalogue()["indicators"]]
    # one row per grid and indicator, nothing more, nothing less
    assert sorted((r["unit"], r["indicator"]) for r in rows) == sorted((g, n) for g in grids for n in names)
    for r in rows:  # a value or a reason, never both, never neither
        assert bool(r["value"]) != bool(r["missing"]), r
        if r["indicator"] not in providers():
            assert r["missing"] == NO_PROVIDER and r["in_index"] == "False"
    # a provided indicator's printed values are the provider's own
    from civicgrid.analytics.crei import units_for

    printed = {r["unit"]: float(r["value"]) for r in rows if r["indicator"] == "households_per_grid_member"
               and r["value"]}
    units, _ = units_for(list(Place.objects.filter(level="grid")), "grid")
    expected = providers()["households_per_grid_member"](units)
    assert printed and expected is not None
    assert printed == pytest.approx({u: v for u, v in expected.items() if not math.isnan(v)})

    assert main(["crei", "--level", "community", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    communities = Place.objects.filter(level="community").count()
    assert doc["units"] == communities and len(doc["rows"]) == communities * len(names)
    assert set(doc["missing_indicators"]) <= set(names)
