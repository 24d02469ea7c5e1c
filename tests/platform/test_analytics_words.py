"""The governance and resilience pages in words: actors, functions, sectors, indicators and mechanisms by
their names, never codes; "no data yet" instead of NaN; a community with no recorded contributions is "not
enough data", never a balance; grids carry their community's name; the map's tiles are labelled."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.utils import translation

from civicgrid.analytics import words
from civicgrid.analytics.governance_data import governance_inputs
from civicgrid.engine.registry_format import CRITICAL_FUNCTIONS
from civicgrid.registry.models import Actor, Place
from tests.platform.factories import user

pytestmark = pytest.mark.django_db
CODE = re.compile(r"\bD\d\d-S\d\d(-C\d\d)?(-[AG]\d\d)?\b")


def _client(username: str = "director", language: str = "zh-hans") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user(username))
    return client


def _visible(html: str) -> str:
    """The page's text as a reader sees it: no scripts, tags or attributes."""
    main = html.split("<main", 1)[1] if "<main" in html else html
    main = re.sub(r"<script.*?</script>", " ", main, flags=re.S)
    main = re.sub(r"<select.*?</select>", " ", main, flags=re.S)  # option values are not read
    return re.sub(r"<[^>]+>", " ", main)


def _figure(html: str, chart_id: str) -> dict:
    part = html.split(f'id="{chart_id}"', 1)[1]
    block = re.search(r'<script type="application/json" class="plotly-figure">(.*?)</script>', part, re.S)
    assert block is not None
    return json.loads(block.group(1))["figure"]


def test_governance_page_names_actors_functions_and_sectors_in_words() -> None:
    community = user("director").role.place
    html = _client().get("/analytics/governance/", {"community": community.pk}).content.decode()
    text = _visible(html)
    assert not CODE.search(text), CODE.search(text)
    assert not any(code in text for code in CRITICAL_FUNCTIONS)
    assert not re.search(r"\b(state|capital|society|without|declared)\b", text)
    actors = set(Actor.objects.filter(code__in=[a.id for a in governance_inputs(community=community).actors])
                 .values_list("name", flat=True))
    providers = text.split("提供者", 1)[1].split("单点失效", 1)[0]
    assert actors & set(re.split(r"[、\s]+", providers))  # providers by their names
    assert "食品供应" in text and "失去整个资本部门" in text
    legend = {trace.get("name") for trace in _figure(html, "network-chart")["data"] if trace.get("name")}
    assert legend == {"国家", "资本", "社会"}


def test_without_recorded_contributions_balance_is_not_enough_data() -> None:
    community = user("director").role.place
    assert not governance_inputs(community=community).contributions  # the demo records none yet
    html = _client().get("/analytics/governance/", {"community": community.pk}).content.decode()
    balance = html.split('id="balance">', 1)[1].split("</div>", 1)[0]
    society = html.split('id="society-strength">', 1)[1].split("</div>", 1)[0]
    assert "<b>数据不足</b>" in balance and "<b>数据不足</b>" in society
    assert not re.search(r"<b>\d", balance + society)
    english = _client(language="en").get("/analytics/governance/", {"community": community.pk}).content.decode()
    assert "<b>not enough data</b>" in english.split('id="balance">', 1)[1].split("</div>", 1)[0]


def test_crei_page_names_grids_with_their_community_and_labels_the_map() -> None:
    community = user("director").role.place
    grids = list(Place.objects.filter(parent=community, level="grid"))
    html = _client().get("/analytics/crei/").content.decode()
    ranking = _visible(html.split('id="crei-ranking"', 1)[1].split('id="breakdown"', 1)[0])
    assert all(f"{community.name} · {g.name}" in ranking for g in grids)
    assert not CODE.search(ranking) and "nan" not in ranking.lower()
    header = ranking.split("名次", 1)[1].split(community.name, 1)[0]
    assert "社会生长" in header and "social_growth" not in header
    labels = {a["text"].split("<br>")[0] for a in _figure(html, "crei-map")["layout"]["annotations"]}
    assert labels == {g.name for g in grids}
    catalogue = _visible(html.split('id="crei-catalogue"', 1)[1])
    assert "households_per_grid_member" not in catalogue and "网格员人均服务户数" in catalogue
    assert "no data recorded yet" not in catalogue and "暂无数据" in catalogue


def test_crei_rank_chart_has_its_axes_and_legend_in_the_readers_language() -> None:
    # the engine draws the chart with English axis titles (it knows no Django); the page puts them in words
    html = _client().get("/analytics/crei/").content.decode()
    figure = _figure(html, "crei-uncertainty")
    layout = figure["layout"]
    titles = [layout["xaxis"]["title"]["text"], layout["yaxis"]["title"]["text"]]
    assert titles == ["网格或社区", "排名（1 为得分最高）"]
    assert [t["name"] for t in figure["data"]] == ["排名中位数", "名义排名"]
    assert not re.search(r"[A-Za-z]", "".join(titles))
    english = _figure(_client(language="en").get("/analytics/crei/").content.decode(), "crei-uncertainty")
    assert english["layout"]["yaxis"]["title"]["text"] == "rank (1 = highest score)"


def test_a_missing_number_reads_no_data_yet() -> None:
    with translation.override("zh-hans"):
        assert words.number(float("nan")) == "暂无数据" and words.number(None) == "暂无数据"
        assert words.number(0.12345) == "0.123"
    with translation.override("en"):
        assert words.number(float("nan")) == "no data yet"


def test_with_recorded_contributions_the_balance_is_a_number_and_missing_kinds_are_named() -> None:
    from civicgrid.engine import governance as gov

    community = user("director").role.place
    inputs = governance_inputs(community=community)
    by_sector = {s: next(a.id for a in inputs.actors if a.sector == s) for s in ("state", "capital", "society")}
    recorded = gov.GovernanceInputs(
        community=inputs.community, actors=inputs.actors, households=inputs.households, posts=inputs.posts,
        contributions=[gov.Contribution(actor_id=a, kind="work", amount=1, basis="recorded")
                       for a in by_sector.values()])
    report = gov.governance_report(inputs=recorded)
    with translation.override("zh-hans"):
        page = words.governance_page(report, names={a.id: a.name for a in inputs.actors})
    assert page["enough_data"] and page["balance"] == "1.000"  # three even sectors, measured
    assert page["basis"] == "实际记录" and page["missing_kinds"] == "投入资源、参与决策"
