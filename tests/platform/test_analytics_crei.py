"""The CREI over the registry: indicator values against independent counts from the generated tables,
the index against a hand computation, missing indicators reported, and the page."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from django.test import Client

from civicgrid.analytics.crei import catalogue, crei
from civicgrid.registry.models import Place

pytestmark = pytest.mark.django_db


@pytest.fixture
def grid_outcome():
    return crei(places=list(Place.objects.filter(level__in=["grid", "community"])), level="grid")


def _grid_of_households(c) -> pd.Series:
    building_parent = dict(zip(c.places["code"], c.places["parent_code"], strict=True))
    return c.households.set_index("code")["building_code"].map(building_parent)


def test_volunteers_and_grid_member_load_match_the_generated_tables(grid_outcome, community) -> None:
    grid_of = _grid_of_households(community)
    residents_per_grid = community.residents["household_code"].map(grid_of).value_counts()
    volunteer_people = community.posts.loc[community.posts["role"] == "volunteer", "person_code"]
    resident_of = community.people.set_index("code")["resident_code"]
    household_of = community.residents.set_index("code")["household_code"]
    volunteer_grids = volunteer_people.map(resident_of).map(household_of).map(grid_of).value_counts()
    members = community.posts.loc[community.posts["role"] == "grid_member", "place_code"].value_counts()
    households_per_grid = grid_of.value_counts()
    for grid in grid_outcome.values.index:
        expected_volunteers = 1000 * volunteer_grids.get(grid, 0) / residents_per_grid[grid]
        assert grid_outcome.values.loc[grid, "volunteers_per_1000"] == pytest.approx(expected_volunteers)
        assert grid_outcome.values.loc[grid, "households_per_grid_member"] == pytest.approx(
            households_per_grid[grid] / members[grid])


def test_missing_indicators_are_reported_not_invented(grid_outcome) -> None:
    names = {e["name"] for e in catalogue()["indicators"]}
    missing = {m["name"] for m in grid_outcome.missing}
    present = set(grid_outcome.values.columns)
    assert present | missing == names and not present & missing
    # modules that do not exist yet in this build record nothing: their indicators must be missing
    for entry in catalogue()["indicators"]:
        if entry["source"] == "social":
            assert entry["name"] in missing


def test_index_equals_a_hand_computation(grid_outcome) -> None:
    """Percentile rank p = (rank-1)/(N-1) with ties at the lowest rank, 1 - p where higher is worse
    (the engine's documented rule, CDC's for reversed indicators), arithmetic mean within each
    mechanism, then over mechanisms."""
    entries = {e["name"]: e for e in catalogue()["indicators"]}
    values = grid_outcome.values
    n = len(values)
    percent = {name: (values[name].rank(method="min") - 1) / (n - 1) for name in values.columns}
    normalised = pd.DataFrame({name: p if entries[name]["direction"] == 1 else 1 - p
                               for name, p in percent.items()})
    mechanisms = {}
    for name in values.columns:
        mechanisms.setdefault(entries[name]["mechanism"], []).append(name)
    by_mechanism = pd.DataFrame({m: normalised[cols].mean(axis=1) for m, cols in mechanisms.items()})
    expected = by_mechanism.mean(axis=1)
    np.testing.assert_allclose(grid_outcome.result.scores["CREI"].loc[values.index], expected, atol=1e-9)


def test_page_shows_the_director_their_grids_with_map_and_uncertainty() -> None:
    client = Client()
    client.login(username="director", password="civicgrid-demo")
    body = client.get("/analytics/crei/").content.decode()
    community = Place.objects.get(code="D01-S01-C01")
    grids = Place.objects.filter(parent=community, level="grid")
    ranking = body[body.index('id="crei-ranking"'): body.index('id="breakdown"')]
    assert all(g.code in ranking for g in grids)
    assert "D01-S01-C02-G01" not in ranking
    assert 'id="crei-map"' in body and 'id="crei-uncertainty"' in body
    assert client.get("/analytics/crei/", {"unit": "D01-S01-C02-G01"}).status_code == 404
    grid = Client()
    grid.login(username="grid", password="civicgrid-demo")
    assert grid.get("/analytics/crei/").status_code == 403


def test_the_grid_map_draws_each_tile_in_its_scores_colour_with_its_label() -> None:
    from plotly.colors import sample_colorscale

    from civicgrid.analytics.charts import grid_map_figure

    def square(x: float) -> dict:
        return {"type": "Polygon", "coordinates": [[[x, 0], [x + 1, 0], [x + 1, 1], [x, 1], [x, 0]]]}

    scores = {"g1": 0.1, "g2": 0.5, "g3": 0.9}
    figure = grid_map_figure(geometries={"g1": square(0), "g2": square(1), "g3": square(2), "gx": square(3)},
                             scores=scores, names={"g1": "一", "g2": "二", "g3": "三"}, title="CREI")
    tiles = [t for t in figure.data if t.fill == "toself"]
    assert [t.name for t in tiles] == ["一", "二", "三"]  # gx has no score: not drawn
    assert [t.fillcolor for t in tiles] == [sample_colorscale("RdYlGn", [v])[0] for v in scores.values()]
    labels = figure.layout.annotations
    assert [(a.text, a.x, a.y) for a in labels] == [("一<br>0.10", 0.5, 0.5), ("二<br>0.50", 1.5, 0.5),
                                                    ("三<br>0.90", 2.5, 0.5)]
    assert figure.data[-1].marker.showscale  # the colour bar
