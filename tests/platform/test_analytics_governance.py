"""The governance report over the registry: inputs built from the registry, the page and the CLI."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client

from civicgrid.analytics.governance_data import governance_inputs
from civicgrid.cli import main
from civicgrid.engine import governance as gov
from civicgrid.registry.models import Household, Place

pytestmark = pytest.mark.django_db


def _community_actor_codes(community, c) -> set[str]:  # type: ignore[no-untyped-def]
    """Actors serving a community, from the generated tables: its own, its grids' and its ancestors'."""
    parent = dict(zip(c.places["code"], c.places["parent_code"], strict=True))
    ancestors, node = set(), community.code
    while node:
        ancestors.add(node)
        node = parent.get(node) or ""
    area = c.actors["service_area_code"]
    return set(c.actors.loc[area.isin(ancestors) | area.str.startswith(community.code + "-"), "code"])


def test_inputs_follow_the_registry(community) -> None:  # type: ignore[no-untyped-def]
    place = Place.objects.get(code="D01-S01-C01")
    inputs = governance_inputs(community=place)
    households = Household.objects.filter(place_path__startswith=place.path)
    assert len(inputs.households) == households.count()
    vulnerable = households.filter(vulnerability_score__gte=settings.CIVICGRID_VULNERABLE_SCORE).count()
    assert sum(h.vulnerable for h in inputs.households) == vulnerable
    assert {a.id for a in inputs.actors} == _community_actor_codes(place, community)
    team = next(a for a in inputs.actors if a.kind == "volunteer_team")
    assert team.volunteer_share > 0.9  # a volunteer team rests on its volunteers


def test_fusion_matches_an_independent_count(community) -> None:  # type: ignore[no-untyped-def]
    place = Place.objects.get(code="D01-S01-C01")
    actors = _community_actor_codes(place, community)
    posts = community.posts[community.posts["actor_code"].isin(actors)]
    sector = dict(zip(community.actors["code"], community.actors["sector"], strict=True))
    sectors_of = posts.assign(sector=posts["actor_code"].map(sector)).groupby("person_code")["sector"].nunique()
    key = posts[posts["is_key"] == 1]
    fused = int((key["person_code"].map(sectors_of) > 1).sum())
    report = gov.governance_report(inputs=governance_inputs(community=place))
    assert (report.fusion.key_posts, report.fusion.fused_key_posts) == (len(key), fused)
    assert fused >= 1  # the generated party secretary also chairs the residents' committee


def test_page_shows_the_report_and_runs_a_stress_test() -> None:
    place = Place.objects.get(code="D01-S01-C01")
    inputs = governance_inputs(community=place)
    market = next(a for a in inputs.actors if a.kind == "shop")
    expected = gov.stress_test(inputs=inputs, scenario=gov.StressScenario(name="x", remove_actors=(market.id,)))
    client = Client()
    client.login(username="director", password="civicgrid-demo")
    response = client.get("/analytics/governance/", {"community": place.id, "run": "1", "actor": market.id})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="stress-result"><b>' + str(expected.max_newly_uncovered) + "</b>" in body
    assert 'id="network-chart"' in body and 'class="plotly-figure"' in body  # drawn by civicgrid.js


def test_roles_without_analytics_are_refused_and_other_communities_are_not_found() -> None:
    grid = Client()
    grid.login(username="grid", password="civicgrid-demo")
    assert grid.get("/analytics/governance/").status_code == 403
    director = Client()
    director.login(username="director", password="civicgrid-demo")
    other = Place.objects.get(code="D01-S01-C02")
    assert director.get("/analytics/governance/", {"community": other.id}).status_code == 404


def test_cli_prints_the_same_report_as_json(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["governance", "--community", "D01-S01-C02", "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    place = Place.objects.get(code="D01-S01-C02")
    direct = gov.report_to_dict(gov.governance_report(inputs=governance_inputs(community=place)))
    assert printed["balance"] == pytest.approx(direct["balance"])
    assert printed["fusion"] == direct["fusion"]
    assert main(["governance", "--community", "NOPE"]) == 2
