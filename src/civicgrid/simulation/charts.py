"""The what-if charts: a daily series (unmet need per household, the share short, days waited for the
needs arising each day), one line per policy and group, with the Monte Carlo interval as a band (drawn by the analytics app's Plotly mechanism, no inline script)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from civicgrid.simulation.words import GROUP_NAMES, policy_name

COLOURS = {"equity": "#0b6e4f", "fcfs": "#c0392b", "proportional": "#2c5fd4", "equal": "#8e44ad",
           "lottery": "#b7791f"}
DASH = {"vulnerable": "solid", "other": "dot"}


def unmet_figure(result: dict[str, Any], *, metric: str, title: str, y_title: str, day_title: str,
                 interval_word: str) -> go.Figure:
    figure = go.Figure()
    for policy, groups in result["series"].get(metric, {}).items():
        colour = COLOURS.get(policy, "#475467")
        for group in ("vulnerable", "other"):
            if group not in groups:
                continue
            s = groups[group]
            # a series may skip days (no need arose that day); runs saved before it kept no days
            days = s.get("day") or list(range(1, result["days"] + 1))
            name = f"{policy_name(policy)} · {GROUP_NAMES[group]}"
            figure.add_scatter(x=days + days[::-1], y=s["high"] + s["low"][::-1], fill="toself", mode="lines",
                               line={"width": 0}, fillcolor=colour, opacity=0.15, hoverinfo="skip",
                               showlegend=False, name=f"{name} ({interval_word})")
            figure.add_scatter(x=days, y=s["mean"], mode="lines", name=name,
                               line={"color": colour, "dash": DASH[group], "width": 2})
    figure.update_layout(title=title, height=380, margin={"l": 40, "r": 10, "t": 40, "b": 40},
                         legend={"orientation": "h", "y": -0.25}, xaxis_title=day_title, yaxis_title=y_title,
                         plot_bgcolor="white")
    figure.update_xaxes(gridcolor="#eaecf0")
    figure.update_yaxes(gridcolor="#eaecf0", rangemode="tozero")
    return figure
