"""Sentences and tables for the pages, in the reader's language."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from civicgrid.engine.allocation import POLICIES, quoted_weight_reason
from civicgrid.registry.vulnerability_words import summary_text
from civicgrid.relief.models import RoundAllocation
from civicgrid.relief.rounds import RULE_VERSION


def allocation_sentence(allocation: RoundAllocation) -> str:
    """What a household got from a round and why. English readers get the engine's own sentence (it quotes
    the reasons for the household's weight), the item named as the catalogue names it: the engine knows items
    by their codes ("medicine-week"); others a translated one from the same numbers."""
    item = allocation.item
    if not (get_language() or "").startswith("zh"):
        return re.sub(rf"(?<![\w-]){re.escape(item.code)}(?![\w-])", lambda _: str(item.label),
                      allocation.explanation)
    figures = {"n": allocation.quantity, "need": allocation.need_quantity, "unit": item.unit_label,
               "item": item.label, "pct": int(min(1.0, allocation.stock_coverage) * 100), "weight": allocation.weight}
    reasons = _weight_reasons(allocation.explanation)
    if reasons:
        text = _("You received %(n)d of %(need)d %(unit)s of %(item)s; stock covered %(pct)d%% of all requests "
                 "for it; your weight is %(weight).1f, for: %(reasons)s.") % {**figures, "reasons": reasons}
    else:
        text = _("You received %(n)d of %(need)d %(unit)s of %(item)s; stock covered %(pct)d%% of all requests "
                 "for it; your weight is %(weight).1f.") % figures
    if allocation.quantity >= allocation.need_quantity:
        return text
    if allocation.tier == 0:
        return text + " " + _("Life-critical requests are served first, but stock ran out before yours was met.")
    if allocation.floor and allocation.quantity >= allocation.floor:
        return text + " " + _("Every household's survival minimum came first and yours (%(floor)d) was met; the "
                              "rest was shared by need and weight.") % {"floor": allocation.floor}
    if allocation.floor:
        return text + " " + _("Survival minimums are served first, but stock ran out before yours (%(floor)d) "
                              "was reached.") % {"floor": allocation.floor}
    return text


def _weight_reasons(explanation: str) -> str:
    """The reasons the engine's sentence quotes for the household's weight (the registry's summary, in the
    engine's English), in the reader's language; "" when it quotes none."""
    quoted = quoted_weight_reason(explanation)
    return summary_text(quoted) if quoted else ""


# the policies' names in words (column heads, the preview's sentence and chart), never the engine's codes
POLICY_SHORT = {"equity": gettext_lazy("Equity first"), "proportional": gettext_lazy("Proportional to need"),
                "equal": gettext_lazy("Equal shares"), "fcfs": gettext_lazy("First come, first served"),
                "lottery": gettext_lazy("Lottery")}

_PERCENT, _INDEX, _UNITS = "percent", "index", "units"
METRIC_ROWS: list[tuple[str, Any, str, str]] = [
    # (key, label, format, better: "high" / "low" / "")
    ("allocated", gettext_lazy("Units allocated"), _UNITS, ""),
    ("coverage", gettext_lazy("Requests that reached their survival minimum"), _PERCENT, "high"),
    ("groups.vulnerable.coverage", gettext_lazy("… of vulnerable households"), _PERCENT, "high"),
    ("groups.other.coverage", gettext_lazy("… of other households"), _PERCENT, "high"),
    ("unmet_share", gettext_lazy("Unmet need"), _PERCENT, "low"),
    ("groups.vulnerable.unmet_share", gettext_lazy("… of vulnerable households"), _PERCENT, "low"),
    ("groups.other.unmet_share", gettext_lazy("… of other households"), _PERCENT, "low"),
    ("groups.vulnerable.mean_satisfaction", gettext_lazy("Share of need met, vulnerable households (mean)"),
     _PERCENT, "high"),
    ("groups.other.mean_satisfaction", gettext_lazy("Share of need met, other households (mean)"), _PERCENT,
     "high"),
    ("gini", gettext_lazy("Gini of the share of need met"), _INDEX, "low"),
    ("theil", gettext_lazy("Theil index"), _INDEX, "low"),
    ("atkinson", gettext_lazy("Atkinson index (ε = 0.5)"), _INDEX, "low"),
    ("concentration_by_weight", gettext_lazy("Concentration index by vulnerability (> 0: toward the "
                                             "vulnerable)"), _INDEX, "high"),
]


def _lookup(metrics: dict[str, Any], key: str) -> Any:
    value: Any = metrics
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _format(value: Any, kind: str) -> str:
    if value is None:
        return "–"
    if kind == _PERCENT:
        return f"{value * 100:.1f}%"
    if kind == _UNITS:
        return f"{int(value):,}"
    return f"{value:.3f}"


def policy_rows(by_policy: dict[str, dict[str, Any]], *, recommended: str = "equity") -> list[dict[str, Any]]:
    """One row per metric, one cell per policy (in POLICIES order). The recommended policy's cells are
    marked; another policy's cell is marked best only where it ties with the recommended one, so that a
    highlight never argues against the recommendation."""
    policies = [p for p in POLICIES if p in by_policy]
    rows = []
    for key, label, kind, better in METRIC_ROWS:
        values = [_lookup(by_policy[p], key) for p in policies]
        known = [v for v in values if v is not None]
        best = (max(known) if better == "high" else min(known)) if known and better else None
        distinct = len(set(known)) > 1  # nothing to highlight when every policy gives the same
        mine = _lookup(by_policy[recommended], key) if recommended in by_policy else None
        best_is_mine = distinct and best is not None and mine == best
        rows.append({"key": key, "label": label, "cells": [
            {"policy": p, "label": POLICY_SHORT[p], "text": _format(v, kind), "recommended": p == recommended,
             "best": best_is_mine and v == best}
            for p, v in zip(policies, values, strict=True)]})
    return rows


# a round's rules in words, by the version code it stored (``rounds.RULE_VERSION``): the code itself names the
# engine's fields ("tier", "floor_units") and is never shown
RULE_WORDS = {RULE_VERSION: gettext_lazy("life-critical needs first, then urgent, then normal; survival minimums "
                                         "by the Sphere standards, other items by their own minimum units")}


def rule_version_label(code: str) -> str:
    """The rules a round was allocated by, in the reader's language: the version's number and, for a version this
    code knows, what the rules are."""
    number = re.search(r"\d{4}\.\d+", code)
    version = number.group(0) if number else "?"
    words = RULE_WORDS.get(code)
    if words is None:
        return _("rules version %(version)s") % {"version": version}
    return _("rules version %(version)s: %(words)s") % {"version": version, "words": words}
