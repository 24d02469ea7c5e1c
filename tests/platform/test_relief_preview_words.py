"""The round preview people can act on: it leads with a sentence whose percentages are a plain count over the
preview's own tables, a chart of vulnerable and other households under each policy, the equity indices folded
away, highlights that never argue against the recommended policy, policy names in words, and a lottery that
draws the same on every reload of the same selection."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from civicgrid.engine.allocation import POLICIES
from civicgrid.registry.models import Place
from civicgrid.relief import selectors
from tests.platform.relief_support import World, client_for, grid_households, lockdown, login

pytestmark = [pytest.mark.django_db]

DAYS = 3
ITEMS = ["t-food", "t-water"]
CHINESE_NAMES = {"equity": "公平优先", "proportional": "按需比例", "equal": "平均分配", "fcfs": "先到先得",
                 "lottery": "抽签"}


@pytest.fixture
def world() -> World:
    return lockdown(households=grid_households("C01-G01") + grid_households("C01-G02"), share=0.6)


@pytest.fixture
def place() -> Place:
    return Place.objects.get(code__endswith="C01", level="community")


def _get(place: Place, language: str, **extra: Any) -> Any:
    page = client_for("director", language).get(
        "/relief/rounds/preview/", {"places": place.pk, "items": ITEMS, "days": DAYS, **extra})
    assert page.status_code == 200
    return page


def _hand_count(place: Place, seed: int) -> dict[str, dict[str, int]]:
    """Per policy, the whole percentage of vulnerable and other requests whose allocation reached their floor:
    counted request by request, not through the metrics."""
    _, scope = login("director")
    preview = selectors.round_preview(scope=scope, place_ids=[place.pk], item_codes=ITEMS, days=DAYS, seed=seed)
    requests = preview.inputs.requests
    counts: dict[str, dict[str, int]] = {}
    for outcome in preview.outcomes:
        tally = {"vulnerable": [0, 0], "other": [0, 0]}
        for i in requests.index:
            group = "vulnerable" if bool(requests.at[i, "vulnerable"]) else "other"
            tally[group][1] += 1
            if int(outcome.result.at[i, "allocated"]) >= int(outcome.result.at[i, "floor"]):
                tally[group][0] += 1
        counts[outcome.policy] = {g: int(round(100 * met / n)) for g, (met, n) in tally.items() if n}
    return counts


def test_the_sentence_says_what_a_hand_count_of_the_tables_says(world: World, place: Place) -> None:
    page = _get(place, "zh-hans")
    seed = page.context["seed"]
    counts = _hand_count(place, seed)
    assert counts["equity"]["vulnerable"] > 0
    worst = min((p for p in POLICIES if p != "equity"), key=lambda p: (counts[p]["vulnerable"], POLICIES.index(p)))
    expected = (f"以公平优先分配，脆弱户覆盖率 {counts['equity']['vulnerable']}%，"
                f"其他住户 {counts['equity']['other']}%")
    if counts[worst]["vulnerable"] < counts["equity"]["vulnerable"]:
        expected += f"；{CHINESE_NAMES[worst]}时脆弱户只有 {counts[worst]['vulnerable']}%。"
    html = page.content.decode()
    sentence = re.search(r'<p class="relief-lead" id="preview-sentence">(.*?)</p>', html)
    assert sentence is not None and sentence.group(1).startswith(expected)
    # the sentence comes before the chart, the chart before the folded indices
    assert html.index('id="preview-sentence"') < html.index('id="preview-chart"') < html.index("<details")
    assert html.index("<details") < html.index('id="policy-table"')


def test_the_chart_draws_coverage_and_unmet_need_of_both_groups_per_policy_in_words(
        world: World, place: Place) -> None:
    html = _get(place, "zh-hans").content.decode()
    block = re.search(r'<script type="application/json" class="plotly-figure">(.*?)</script>', html, re.S)
    assert block is not None and "<script>" not in html  # a data block, never an inline script
    figure = json.loads(block.group(1))["figure"]
    assert len(figure["data"]) == 4
    seed = int(re.search(r'name="seed" min="0" inputmode="numeric" value="(\d+)"', html).group(1))  # type: ignore[union-attr]
    counts = _hand_count(place, seed)
    coverage = figure["data"][0]
    assert coverage["x"] == [CHINESE_NAMES[p] for p in POLICIES]
    assert coverage["y"] == [counts[p]["vulnerable"] for p in POLICIES]
    assert figure["data"][1]["y"] == [counts[p]["other"] for p in POLICIES]


def test_policy_names_are_words_in_both_languages(world: World, place: Place) -> None:
    for language, names in (("zh-hans", CHINESE_NAMES),
                            ("en", {"equity": "Equity first", "fcfs": "First come, first served"})):
        html = _get(place, language).content.decode()
        header = html.split('id="policy-table"')[1].split("</thead>")[0]
        assert all(name in header for name in names.values())
        visible = re.sub(r"<[^>]+>", " ", header)
        assert not any(re.search(rf"\b{code}\b", visible) for code in POLICIES)


def test_a_highlight_never_falls_outside_the_recommended_policy(world: World, place: Place) -> None:
    page = _get(place, "en")
    rows = page.context["rows"]
    highlighted = 0
    for row in rows:
        recommended = next(c for c in row["cells"] if c["recommended"])
        assert recommended["policy"] == "equity"
        for cell in row["cells"]:
            if cell["best"]:
                highlighted += 1
                assert recommended["best"] and cell["text"] == recommended["text"], row["key"]
    html = page.content.decode()
    assert html.count(' best"') == highlighted


def test_the_lottery_draws_the_same_on_reload_and_says_its_seed(world: World, place: Place) -> None:
    first, second = _get(place, "en"), _get(place, "en")
    assert first.context["seed"] == second.context["seed"]
    lottery = [[c["text"] for c in r["cells"] if c["policy"] == "lottery"] for r in first.context["rows"]]
    assert lottery == [[c["text"] for c in r["cells"] if c["policy"] == "lottery"] for r in second.context["rows"]]
    seed = first.context["seed"]
    assert f"seed {seed}" in first.content.decode()
    assert first.context["form"].initial["seed"] == seed  # the confirmation uses the seed shown
    other_days = client_for("director").get(
        "/relief/rounds/preview/", {"places": place.pk, "items": ITEMS, "days": DAYS + 1})
    assert other_days.context["seed"] != seed  # another selection, another draw
    chosen = _get(place, "en", seed=12345)
    assert chosen.context["seed"] == 12345 and "the seed you set: 12345" in chosen.content.decode()


def _metrics(vulnerable: float | None, other: float) -> dict[str, Any]:
    groups: dict[str, Any] = {"other": {"coverage": other, "unmet_share": 0.1}}
    if vulnerable is not None:
        groups["vulnerable"] = {"coverage": vulnerable, "unmet_share": 0.1}
    return {"requests": 10, "groups": groups}


def test_the_sentence_names_the_worst_policy_and_never_hides_a_better_one() -> None:
    from django.utils import translation

    from civicgrid.relief.preview import lead_sentence

    with translation.override("zh-hans"):
        plain = lead_sentence({"equity": _metrics(0.91, 0.86), "proportional": _metrics(0.6, 0.9),
                               "equal": _metrics(0.7, 0.9), "fcfs": _metrics(0.47, 0.95),
                               "lottery": _metrics(0.5, 0.9)})
        assert plain == "以公平优先分配，脆弱户覆盖率 91%，其他住户 86%；先到先得时脆弱户只有 47%。"
        mixed = lead_sentence({"equity": _metrics(0.61, 0.0), "proportional": _metrics(0.0, 0.0),
                               "fcfs": _metrics(0.893, 0.826)})
        assert mixed.startswith("以公平优先分配，脆弱户覆盖率 61%，其他住户 0%；按需比例时脆弱户只有 0%。")
        assert "先到先得时脆弱户覆盖率为 89%，高于公平优先" in mixed
        assert lead_sentence({"equity": {"requests": 0}}) == "所选范围内没有待分配的需求。"
