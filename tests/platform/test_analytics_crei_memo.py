"""The CREI page's rank intervals and grid map are reused for unchanged inputs and always equal a fresh
computation (issue 15: together a third of a district's page at 1,000,000 households)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from civicgrid.analytics import charts, kept
from civicgrid.analytics import crei as crei_module
from civicgrid.analytics.crei import crei, crei_uncertainty
from civicgrid.engine.index import rank_intervals
from civicgrid.registry.models import Place

pytestmark = pytest.mark.django_db


@pytest.fixture
def counted(monkeypatch):
    """The engine's rank intervals, counted; the kept intervals emptied before and after."""
    calls: list[int] = []

    def counting(*args, **kwargs):
        calls.append(1)
        return rank_intervals(*args, **kwargs)

    kept.forget()
    monkeypatch.setattr(crei_module, "rank_intervals", counting)
    yield calls
    kept.forget()


def _fresh(outcome, replications: int = 60) -> pd.DataFrame:
    return rank_intervals(outcome.values.reset_index(), spec=outcome.spec, n_replications=replications,
                          seed=1).intervals


def test_same_inputs_are_computed_once_and_equal_the_engine(counted) -> None:
    outcome = crei(places=list(Place.objects.filter(level__in=["grid", "community"])), level="grid")
    first = crei_uncertainty(outcome, replications=60)
    again = crei_uncertainty(crei(places=list(Place.objects.filter(level__in=["grid", "community"])),
                                  level="grid"), replications=60)
    assert len(counted) == 1
    assert_frame_equal(first, _fresh(outcome))
    assert_frame_equal(again, _fresh(outcome))
    first.iloc[0, 0] = -1.0  # a caller changing its frame does not change the kept one
    assert_frame_equal(crei_uncertainty(outcome, replications=60), _fresh(outcome))
    assert len(counted) == 1


def test_any_changed_input_is_computed_afresh(counted) -> None:
    outcome = crei(places=list(Place.objects.filter(level__in=["grid", "community"])), level="grid")
    crei_uncertainty(outcome, replications=60)
    values = outcome.values.copy()
    column = values.columns[0]
    values.iloc[0, values.columns.get_loc(column)] = values[column].max() * 10 + 1
    changed = dataclasses.replace(outcome, values=values)
    assert_frame_equal(crei_uncertainty(changed, replications=60), _fresh(changed))
    assert len(counted) == 2
    # the same values under another seed or number of replications are other inputs too
    crei_uncertainty(outcome, replications=61)
    crei_uncertainty(outcome, replications=60, seed=2)
    assert len(counted) == 4
    nan = outcome.values.copy()
    nan.iloc[1, 0] = float("nan")
    assert_frame_equal(crei_uncertainty(dataclasses.replace(outcome, values=nan), replications=60),
                       _fresh(dataclasses.replace(outcome, values=nan)))
    assert len(counted) == 5


def test_only_the_last_few_inputs_are_kept(counted) -> None:
    outcome = crei(places=list(Place.objects.filter(level__in=["grid", "community"])), level="grid")
    for seed in range(kept.KEPT + 3):
        crei_uncertainty(outcome, replications=20, seed=seed)
    assert kept.size("crei.intervals") == kept.KEPT
    crei_uncertainty(outcome, replications=20, seed=0)  # the oldest went first
    assert len(counted) == kept.KEPT + 4


def test_the_page_map_is_drawn_again_only_for_changed_inputs_and_equals_a_fresh_drawing(monkeypatch) -> None:
    from django.test import Client

    drawings: list[dict] = []
    draw = charts.grid_map_spec

    def counting(**kwargs):
        drawings.append(kwargs)
        return draw(**kwargs)

    kept.forget()
    monkeypatch.setattr(charts, "grid_map_spec", counting)
    client = Client(headers={"accept-language": "zh-hans"})
    client.login(username="director", password="civicgrid-demo")

    def map_div() -> str:
        body = client.get("/analytics/crei/").content.decode()
        start = body.index('<div class="plotly-graph-div"')
        return body[start: body.index("</script>", start) + len("</script>")]

    first = map_div()
    assert map_div() == first and len(drawings) == 1
    assert first == charts.to_div(draw(**drawings[0]))  # what a fresh drawing gives
    grid = Place.objects.filter(level="grid", parent__code="D01-S01-C01").order_by("code").first()
    grid.name = grid.name + "东"
    grid.save(update_fields=["name"])
    changed = map_div()
    assert len(drawings) == 2 and changed != first and drawings[1]["short_names"][grid.code] == grid.name
    assert changed == charts.to_div(draw(**drawings[1]))
    # the outlines drawn are those the model field reads (the page reads their stored text, issue 15)
    grids = Place.objects.filter(level="grid", path__startswith=grid.parent.path)
    assert drawings[1]["geometries"] == {g.code: g.geometry for g in grids if g.geometry}
    grid.geometry = {"type": "Polygon", "coordinates": [[[104.0, 30.0], [104.01, 30.0], [104.01, 30.01], [104.0, 30.0]]]}
    grid.save(update_fields=["geometry"])
    moved = map_div()  # an outline changed: drawn again, with the new outline
    assert len(drawings) == 3 and moved != changed and drawings[2]["geometries"][grid.code] == grid.geometry
    assert moved == charts.to_div(draw(**drawings[2]))
    kept.forget()
