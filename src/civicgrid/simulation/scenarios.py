"""The scenarios a run may name: the engine's bundled examples, with their titles in both languages."""

from __future__ import annotations

from functools import cache

from django.utils.translation import get_language

from civicgrid.engine.simulation import Scenario, bundled_scenarios, load_scenario


@cache
def scenarios() -> dict[str, Scenario]:
    return {name: load_scenario(path) for name, path in bundled_scenarios().items()}


def scenario_by_name(name: str) -> Scenario:
    return scenarios()[name]


def _in_language(texts: dict[str, str] | object, fallback: str) -> str:
    if not isinstance(texts, dict) or not texts:
        return fallback
    language = (get_language() or "zh-hans").lower()
    key = "zh" if language.startswith("zh") else "en"
    return str(texts.get(key) or texts.get("en") or fallback)


def title(name: str) -> str:
    scenario = scenarios().get(name)
    return _in_language(dict(scenario.title), name) if scenario else name


def description(name: str) -> str:
    scenario = scenarios().get(name)
    return _in_language(dict(scenario.description), "") if scenario else ""


def choices() -> list[tuple[str, str]]:
    return [(name, title(name)) for name in scenarios()]
