"""What a run keeps of the engine's result: the daily series with their intervals (for the charts) and
the end-of-run figures per policy, as plain JSON, rounded so that a rerun compares equal."""

from __future__ import annotations

from typing import Any

from civicgrid.engine.simulation import SimulationResult

SERIES = ("unmet_need_per_household", "unmet_share", "days_to_help")
GROUPS = ("vulnerable", "other")
FIGURES = ("unmet_need_per_vulnerable_household", "unmet_need_per_other_household", "unmet_need_critical",
           "days_to_help_vulnerable", "days_to_help_other", "gini_unmet_need", "concentration_unmet_need")


def _round(values: Any) -> list[float]:
    return [round(float(v), 4) for v in values]


def compact(result: SimulationResult) -> dict[str, Any]:
    intervals = result.intervals()
    series: dict[str, Any] = {}
    for metric in SERIES:
        chosen = intervals[(intervals["metric"] == metric) & intervals["group"].isin(GROUPS)]
        series[metric] = {
            policy: {group: {"day": [int(d) + 1 for d in rows.sort_values("day")["day"]],  # days from 1
                             **{column: _round(rows.sort_values("day")[column]) for column in ("mean", "low", "high")}}
                     for group, rows in by_policy.groupby("group", observed=True)}
            for policy, by_policy in chosen.groupby("policy", observed=True)
        }
    summary = result.summary().set_index("policy")
    figures = {policy: {f"{name}_{part}": round(float(summary.loc[policy, f"{name}_{part}"]), 4)
                        for name in FIGURES for part in ("mean", "low", "high")}
               for policy in summary.index}
    headline = result.headline()
    return {
        "policies": list(result.inputs["policies"]),
        "days": int(result.inputs["days"]),
        "households": int(result.inputs["households"]),
        "vulnerable_households": int(result.inputs["vulnerable_households"]),
        "series": series,
        "figures": figures,
        "vulnerable_change": round(float(headline.get("vulnerable_change", 0.0)), 4),
    }
