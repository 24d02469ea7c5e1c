"""The governance and resilience pages in words: sectors, critical functions, bases, relations, scenarios
and indicators by their names in the reader's language, never the engine's codes; "no data yet" for a
missing number."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from civicgrid.engine import governance as gov

SECTORS = {"state": gettext_lazy("State"), "capital": gettext_lazy("Capital"), "society": gettext_lazy("Society")}
FUNCTIONS = {
    "food_supply": gettext_lazy("Food supply"),
    "medicine": gettext_lazy("Medicine"),
    "care_vulnerable": gettext_lazy("Care of vulnerable people"),
    "information_release": gettext_lazy("Information release"),
    "access_control": gettext_lazy("Access control"),
    "shelter": gettext_lazy("Shelter"),
}
BASES = {"recorded": gettext_lazy("recorded"), "declared": gettext_lazy("declared capacities"),
         "mixed": gettext_lazy("recorded and declared"), "none": gettext_lazy("no data yet")}
CONTRIBUTIONS = {"resources": gettext_lazy("Resources given"), "decisions": gettext_lazy("Decisions taken"),
                 "work": gettext_lazy("Work done"), "capacity": gettext_lazy("Declared capacities")}
RELATIONS = {"shared_people": gettext_lazy("people holding posts in both"), "funding": gettext_lazy("funding"),
             "command": gettext_lazy("command line")}
SOURCES = {"registry": gettext_lazy("Registry"), "cases": gettext_lazy("Grid cases"),
           "emergency": gettext_lazy("Emergency mode"), "alerts": gettext_lazy("Alerts"),
           "relief": gettext_lazy("Relief"), "social": gettext_lazy("Social organisations"),
           "volunteers": gettext_lazy("Volunteers and paired help"),
           "procurement": gettext_lazy("Purchased services"), "fund": gettext_lazy("Community fund and budgeting"),
           "council": gettext_lazy("Council and covenants"), "grievances": gettext_lazy("Grievances and appeals"),
           "mediation": gettext_lazy("Mediation")}
MISSING_REASONS = {"no app records it yet": gettext_lazy("not recorded by any module yet"),
                   "no data recorded yet": gettext_lazy("no data yet"),
                   "no variation between units": gettext_lazy("no difference between units yet")}


def word(table: Mapping[str, Any], code: str) -> str:
    """The code's words, or the code itself for a value nobody has named (data, not a code of ours)."""
    return str(table[code]) if code in table else code


def no_data() -> str:
    return _("no data yet")


def number(value: Any, digits: int = 3) -> str:
    """A figure for the page: "no data yet" instead of NaN or nothing."""
    if value is None:
        return no_data()
    try:
        value = float(value)
    except (TypeError, ValueError):
        return no_data()
    if math.isnan(value) or math.isinf(value):
        return no_data()
    return f"{value:.{digits}f}"


def functions(codes: Iterable[str]) -> str:
    return "、".join(word(FUNCTIONS, c) for c in codes) if _chinese() else ", ".join(word(FUNCTIONS, c) for c in codes)


def _chinese() -> bool:
    return (get_language() or "").startswith("zh")


def scenario_name(scenario: gov.StressScenario, *, names: Mapping[str, str]) -> str:
    """A stress scenario in words (the engine names its default ones in English)."""
    parts = [_("without %(actor)s") % {"actor": names.get(a, a)} for a in scenario.remove_actors]
    parts += [_("without the %(sector)s sector") % {"sector": word(SECTORS, s)} for s in scenario.remove_sectors]
    if scenario.volunteer_loss:
        parts.append(_("%(share)d%% of volunteers lost") % {"share": round(scenario.volunteer_loss * 100)})
    return ("；" if _chinese() else "; ").join(parts) or scenario.name


def localised(entry: Mapping[str, Any], key: str) -> str:
    """A catalogue text in the reader's language where the catalogue has it (``why_zh``), else as written."""
    return str(entry.get(f"{key}_zh") or entry.get(key, "")) if _chinese() else str(entry.get(key, ""))


def indicator_name(entry: Mapping[str, Any]) -> str:
    return str(entry.get("zh") if _chinese() else entry.get("en")) or str(entry["name"])


def governance_page(report: gov.GovernanceReport, *, names: Mapping[str, str]) -> dict[str, Any]:
    """What the governance page shows, in words. Balance and society strength need recorded
    contributions: without any they are "not enough data", never a number from declared capacities."""
    enough = bool(report.shares)
    return {
        "enough_data": enough,
        "balance": number(report.balance) if enough else None,
        "society_strength": number(report.society_strength) if enough else None,
        "declared_balance": number(report.balance) if not enough else None,
        "basis": word(BASES, report.balance_basis),
        "missing_kinds": ("、" if _chinese() else ", ").join(
            word(CONTRIBUTIONS, k) for k in gov.CONTRIBUTION_KINDS if k not in {s.kind for s in report.shares})
        if enough else "",
        "fusion": number(report.fusion.score),
        "centralization": number(report.centralization),
        "coverage": [{"function": word(FUNCTIONS, c.function), "demand": c.demand, "capacity": c.capacity,
                      "uncovered": c.uncovered, "uncovered_vulnerable": c.uncovered_vulnerable,
                      "providers": [names.get(p, p) for p in c.providers]} for c in report.coverage],
        "single_points": [{"sector": s.sector, "sector_name": word(SECTORS, s.sector), "name": s.name,
                           "households": s.households_without_provider,
                           "vulnerable": s.vulnerable_without_provider, "functions": functions(s.functions)}
                          for s in report.single_points_of_failure],
        "stress": [stress_row(s, names=names) for s in report.stress_tests],
    }


def stress_row(result: gov.StressResult, *, names: Mapping[str, str]) -> dict[str, Any]:
    return {"name": scenario_name(result.scenario, names=names), "households": result.max_newly_uncovered,
            "vulnerable": result.max_newly_uncovered_vulnerable,
            "functions": functions(result.functions_losing_coverage),
            "by_function": [(word(FUNCTIONS, f), n) for f, n in result.newly_uncovered.items() if n]}
