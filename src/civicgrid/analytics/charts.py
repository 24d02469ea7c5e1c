"""Plotly figures for the analytics pages (rendered to HTML divs; plotly.js is served by the app, so
the charts work offline)."""

from __future__ import annotations

import json
from typing import Any

import networkx as nx
import plotly.graph_objects as go
import plotly.io as pio

from civicgrid.engine.governance import GovernanceReport

SECTOR_COLOURS = {"state": "#c0392b", "capital": "#2c5fd4", "society": "#0b6e4f"}


def to_div(figure: go.Figure | dict[str, Any]) -> str:
    """The chart's div and its figure as a JSON data block (not a script: the Content-Security-Policy
    allows no inline script), drawn by the app's civicgrid.js."""
    config = json.dumps({"displayModeBar": False, "responsive": True})
    spec = f'{{"figure": {pio.to_json(figure, validate=False)}, "config": {config}}}'
    spec = spec.translate({ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"})
    return ('<div class="plotly-graph-div" style="height:100%; width:100%;"></div>'
            f'<script type="application/json" class="plotly-figure">{spec}</script>')


def sector_shares_figure(report: GovernanceReport, *, title: str) -> go.Figure:
    """Each sector's share of what was contributed (or, without recorded contributions, of the declared
    capacities), in words."""
    from civicgrid.analytics.words import BASES, CONTRIBUTIONS, SECTORS, word

    rows = list(report.shares) or ([report.capacity_shares] if report.capacity_shares else [])
    figure = go.Figure()
    for sector in ("state", "capital", "society"):
        figure.add_bar(name=word(SECTORS, sector), y=[f"{word(CONTRIBUTIONS, r.kind)} ({word(BASES, r.basis)})"
                                                     for r in rows],
                       x=[100 * r.shares[sector] for r in rows], orientation="h",
                       marker_color=SECTOR_COLOURS[sector])
    figure.update_layout(barmode="stack", title=title, xaxis_title="%", height=120 + 60 * len(rows),
                         margin={"l": 10, "r": 10, "t": 40, "b": 30}, legend={"orientation": "h"})
    return figure


def network_figure(report: GovernanceReport, *, names: dict[str, str]) -> go.Figure:
    """Actors as named points coloured by sector; a line's hover says how the two are tied, in words."""
    from civicgrid.analytics.words import RELATIONS, SECTORS, word

    graph: nx.Graph = report.network
    position = nx.spring_layout(graph, seed=7) if graph.number_of_nodes() else {}
    figure = go.Figure()
    for u, v, data in graph.edges(data=True):
        (x0, y0), (x1, y1) = position[u], position[v]
        figure.add_scatter(x=[x0, x1], y=[y0, y1], mode="lines", hoverinfo="text",
                           text=f"{names.get(u, u)} – {names.get(v, v)}: "
                                + "、".join(word(RELATIONS, r) for r in data.get("relations", ())),
                           line={"width": 1 + 2 * min(data.get("shared_people", 0) or 1, 3), "color": "#98a2b3"},
                           showlegend=False)
    for sector, colour in SECTOR_COLOURS.items():
        nodes = [n for n, d in graph.nodes(data=True) if d.get("sector") == sector]
        figure.add_scatter(x=[position[n][0] for n in nodes], y=[position[n][1] for n in nodes],
                           mode="markers+text", name=word(SECTORS, sector), text=[names.get(n, n) for n in nodes],
                           textposition="top center", marker={"size": 14, "color": colour})
    figure.update_layout(height=460, margin={"l": 10, "r": 10, "t": 20, "b": 10}, legend={"orientation": "h"},
                         xaxis={"visible": False}, yaxis={"visible": False})
    return figure


def grid_map_figure(*, geometries: dict[str, dict], scores: dict[str, float], names: dict[str, str],
                    title: str, short_names: dict[str, str] | None = None) -> go.Figure:
    """Grids coloured by score, drawn from their own GeoJSON outlines on longitude/latitude axes
    (no base-map tiles, so it works offline); each tile labelled with its (short) name and score."""
    return go.Figure(grid_map_spec(geometries=geometries, scores=scores, names=names, title=title,
                                   short_names=short_names), _validate=False)


def grid_map_spec(*, geometries: dict[str, dict], scores: dict[str, float], names: dict[str, str],
                  title: str, short_names: dict[str, str] | None = None) -> dict[str, Any]:
    """:func:`grid_map_figure` as the plain figure dict :func:`to_div` draws: a ``go.Figure`` deep-copies its
    traces twice (made, then written out), 0.6 s of a district's CREI page for 3,600 tiles (issue 15)."""
    short_names = short_names or {}
    from plotly.colors import sample_colorscale

    # every trace and label is built first and handed to plotly once: adding them one by one re-validates
    # the whole figure each time (a district's 100 tiles took most of the page's time)
    traces: list[dict[str, Any]] = []
    labels: list[dict[str, Any]] = []
    drawn = [code for code, geometry in geometries.items()
             if code in scores and geometry.get("type") in {"Polygon", "MultiPolygon"}]
    # one call for every tile: the colour scale is parsed and checked once, not once per grid
    colours = dict(zip(drawn, sample_colorscale("RdYlGn", [min(max(scores[c], 0.0), 1.0) for c in drawn]),
                       strict=True)) if drawn else {}
    for code in drawn:
        geometry = geometries[code]
        polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        colour = colours[code]
        largest: list[list[float]] = []
        for polygon in polygons:
            ring = polygon[0]
            largest = ring if len(ring) > len(largest) else largest
            traces.append({"type": "scatter", "x": [p[0] for p in ring], "y": [p[1] for p in ring], "fill": "toself",
                           "mode": "lines", "fillcolor": colour, "line": {"color": "white", "width": 1},
                           "showlegend": False, "hoveron": "fills", "name": names.get(code, code),
                           "text": f"{names.get(code, code)}: {scores[code]:.3f}", "hoverinfo": "text"})
        if largest:  # the tile's label: its name and score, at the middle of its outline
            corners = largest[:-1] if len(largest) > 1 and largest[0] == largest[-1] else largest
            labels.append({"x": sum(p[0] for p in corners) / len(corners),
                           "y": sum(p[1] for p in corners) / len(corners),
                           "text": f"{short_names.get(code, names.get(code, code))}<br>{scores[code]:.2f}",
                           "showarrow": False, "font": {"size": 11, "color": "#101828"}})
    # An invisible marker carries the colour bar.
    traces.append({"type": "scatter", "x": [None], "y": [None], "mode": "markers", "showlegend": False,
                   "hoverinfo": "skip", "marker": {"colorscale": "RdYlGn", "cmin": 0, "cmax": 1, "color": [0],
                                                   "colorbar": {"title": "CREI"}, "showscale": True}})
    # built by the code above from known keys: plotly's per-property validation of hundreds of traces
    # took most of a district page's time, so it is skipped (the tests check the figure's shape)
    return {"data": traces, "layout": {
        "annotations": labels, "title": title, "height": 420, "margin": {"l": 0, "r": 0, "t": 40, "b": 0},
        "plot_bgcolor": "white", "xaxis": {"visible": False},
        "yaxis": {"visible": False, "scaleanchor": "x", "scaleratio": 1.15},  # ~1/cos(30°) at Chengdu
        "template": pio.templates[pio.templates.default]}}  # as a go.Figure writes itself out
