"""The governance report over the registry: inputs built from the registry, the page and the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from django.conf import settings
from django.test import Client

from civicgrid.analytics.governance_data import governance_inputs
from civicgrid.cli import main
from civicgrid.engine import governance as gov
from civicgrid.registry.models import Household, Place

pytestmark = pytest.mark.django_db


def _community_actor_codes(community, c) -> set[str]:
    """Actors serving a community, from the generated tables: its own, its grids' and its ancestors'."""
    parent = dict(zip(c.places["code"], c.places["parent_code"], strict=True))
    ancestors, node = set(), community.code
    while node:
        ancestors.add(node)
        node = parent.get(node) or ""
    area = c.actors["service_area_code"]
    return set(c.actors.loc[area.isin(ancestors) | area.str.startswith(community.code + "-"), "code"])


def _capacities(c, codes: set[str]) -> dict[str, dict[str, int]]:
    """Declared capacities of the actors ``codes``, from the generated tables (a JSON column)."""
    rows = c.actors[c.actors["code"].isin(codes)]
    return {code: json.loads(text) if text else {} for code, text in zip(rows["code"], rows["capacities"],
                                                                          strict=True)}


def _fusion_count(community, c) -> tuple[int, int]:
    """(key posts, key posts held by someone with posts in two or more sectors), counted from the tables."""
    actors = _community_actor_codes(community, c)
    posts = c.posts[c.posts["actor_code"].isin(actors)]
    sector = dict(zip(c.actors["code"], c.actors["sector"], strict=True))
    sectors_of = posts.assign(sector=posts["actor_code"].map(sector)).groupby("person_code")["sector"].nunique()
    key = posts[posts["is_key"] == 1]
    return len(key), int((key["person_code"].map(sectors_of) > 1).sum())


def test_inputs_follow_the_registry(community) -> None:
    place = Place.objects.get(code="D01-S01-C01")
    inputs = governance_inputs(community=place)
    households = Household.objects.filter(place_path__startswith=place.path)
    assert len(inputs.households) == households.count()
    vulnerable = households.filter(vulnerability_score__gte=settings.CIVICGRID_VULNERABLE_SCORE).count()
    assert sum(h.vulnerable for h in inputs.households) == vulnerable
    assert {a.id for a in inputs.actors} == _community_actor_codes(place, community)
    team = next(a for a in inputs.actors if a.kind == "volunteer_team")
    assert team.volunteer_share > 0.9  # a volunteer team rests on its volunteers


def test_fusion_matches_an_independent_count(community) -> None:
    place = Place.objects.get(code="D01-S01-C01")
    key, fused = _fusion_count(place, community)
    report = gov.governance_report(inputs=governance_inputs(community=place))
    assert (report.fusion.key_posts, report.fusion.fused_key_posts) == (key, fused)
    assert fused >= 1  # the generated party secretary also chairs the residents' committee


def test_page_shows_the_report_and_runs_a_stress_test(community) -> None:
    place = Place.objects.get(code="D01-S01-C01")
    codes = _community_actor_codes(place, community)
    serving = community.actors[community.actors["code"].isin(codes)]
    # Every actor of this community serves all of it (its service area is the community or above), so
    # a function's uncovered households are plain arithmetic: max(0, demand - capacity).
    assert not serving["service_area_code"].str.startswith(place.code + "-").any()
    capacities = _capacities(community, codes)
    market = sorted(serving.loc[serving["kind"] == "shop", "code"])[0]
    households = Household.objects.filter(place_path__startswith=place.path)
    vulnerable = households.filter(vulnerability_score__gte=settings.CIVICGRID_VULNERABLE_SCORE).count()
    rises = []
    for function in {f for caps in capacities.values() for f in caps}:
        demand = vulnerable if function == "care_vulnerable" else households.count()  # care: the vulnerable
        capacity = sum(caps.get(function, 0) for caps in capacities.values())
        lost = capacities[market].get(function, 0)
        rises.append(max(0, demand - (capacity - lost)) - max(0, demand - capacity))
    expected = max(rises)
    assert expected > 0  # the shop carries food beyond what the others can cover
    client = Client()
    client.login(username="director", password="civicgrid-demo")
    response = client.get("/analytics/governance/", {"community": place.id, "run": "1", "actor": market})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="stress-result"><b>' + str(expected) + "</b>" in body
    assert 'id="network-chart"' in body and 'class="plotly-figure"' in body  # drawn by civicgrid.js


def test_roles_without_analytics_are_refused_and_other_communities_are_not_found() -> None:
    grid = Client()
    grid.login(username="grid", password="civicgrid-demo")
    assert grid.get("/analytics/governance/").status_code == 403
    director = Client()
    director.login(username="director", password="civicgrid-demo")
    other = Place.objects.get(code="D01-S01-C02")
    assert director.get("/analytics/governance/", {"community": other.id}).status_code == 404


def test_cli_prints_the_same_report_as_json(capsys, community) -> None:
    assert main(["governance", "--community", "D01-S01-C02", "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    place = Place.objects.get(code="D01-S01-C02")
    direct = gov.report_to_dict(gov.governance_report(inputs=governance_inputs(community=place)))
    assert printed["balance"] == pytest.approx(direct["balance"])
    assert printed["fusion"] == direct["fusion"]
    # Independently: with no recorded contributions, balance is the normalised entropy of the sectors'
    # declared capacities (households summed over functions), -sum p ln p / ln 3.
    assert printed["balance_basis"] == "declared"
    capacities = _capacities(community, _community_actor_codes(place, community))
    sector = dict(zip(community.actors["code"], community.actors["sector"], strict=True))
    totals = np.array([sum(sum(caps.values()) for code, caps in capacities.items() if sector[code] == s)
                       for s in ("state", "capital", "society")], dtype=float)
    p = totals / totals.sum()
    assert printed["balance"] == pytest.approx(-(p * np.log(p)).sum() / math.log(3))
    key, fused = _fusion_count(place, community)
    assert (printed["fusion"]["key_posts"], printed["fusion"]["fused_key_posts"]) == (key, fused)
    assert printed["fusion"]["score"] == pytest.approx(fused / key)
    assert main(["governance", "--community", "NOPE"]) == 2
