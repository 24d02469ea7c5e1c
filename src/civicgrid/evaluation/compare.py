"""One before/after comparison on the live records: the panel, the engine's estimates and placebos, the
verdict in both languages and the chart. Used by the "what changed" page and ``civicgrid compare``."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from civicgrid.engine import comparison as cmp
from civicgrid.evaluation.panel import SOURCES, build_panel
from civicgrid.registry.models import Place

DAYS_BEFORE = 84  # twelve weeks of records before the event, twelve at most after it
DAYS_AFTER = 84


@dataclass(frozen=True)
class Outcome:
    its: cmp.ItsResult
    did: cmp.DidResult | None
    verdict: dict[str, str]  # language -> sentence
    panel: pd.DataFrame
    seconds: float
    start: date
    end: date
    notes: tuple[str, ...] = field(default=())


def compare(*, community: Place, event: date, source: str, comparisons: list[Place], event_en: str, event_zh: str,
            today: date | None = None, progress: Callable[[int, int], None] | None = None) -> Outcome:
    """Interrupted time series of ``community``'s outcome around ``event`` (placebos in time, and in place
    in each comparison community) and, with comparison communities, the stacked difference-in-differences
    by grid (the event's community's grids against theirs; errors clustered by grid). ``today`` is the
    day after the last day of records read; ``progress(done, total)`` is called after each step."""
    started = time.perf_counter()
    steps = 4 if comparisons else 2
    tick = progress or (lambda done, total: None)
    spec = SOURCES[source]
    today = today or date.today()
    start, end = event - timedelta(days=DAYS_BEFORE), min(today, event + timedelta(days=DAYS_AFTER))
    panel = build_panel(source=source, units=[community, *comparisons], start=start, end=end)
    # Before the first record of any unit the platform was not recording yet: those days are not zeros.
    recorded = panel.loc[panel["weight"].notna() & (panel["value"] > 0), "date"]
    if len(recorded):
        start = max(start, recorded.min().date())
        panel = panel[panel["date"] >= pd.Timestamp(start)]
    tick(1, steps)
    treated = panel[panel["unit"] == community.code]
    others = panel[panel["unit"] != community.code]
    weight = None if spec.kind == "count" else "weight"
    its = cmp.interrupted_time_series(data=treated, event=pd.Timestamp(event), family=spec.family,  # type: ignore[arg-type]
                                      weight=weight, placebo_units=others if len(others) else None)
    tick(2, steps)
    did = None
    if comparisons:
        grids = build_panel(source=source, units=list(Place.objects.filter(
            level="grid", parent__in=[community, *comparisons]).order_by("code")), start=start, end=end)
        tick(3, steps)
        inside = set(Place.objects.filter(level="grid", parent=community).values_list("code", flat=True))
        did = cmp.difference_in_differences(data=grids, events={g: pd.Timestamp(event) for g in inside},
                                            family=spec.family, weight=weight, placebo=False,  # type: ignore[arg-type]
                                            event_study=False)
    # The verdict is on the difference-in-differences when there are comparison communities, with the
    # series' placebos (in time, and in place: each comparison community at the event's date). The stacked
    # estimator's own placebos would double the page's time (bench/bench_comparison.py) for the same checks.
    if did is not None:
        tick(4, steps)
    main = its if did is None else replace(did, placebos=its.placebos + did.placebos)
    verdict = {"en": cmp.verdict(main, outcome=spec.words, event=event_en, language="en"),
               "zh": cmp.verdict(main, outcome=spec.words, event=event_zh, language="zh")}
    return Outcome(its=its, did=did, verdict=verdict, panel=panel, seconds=time.perf_counter() - started,
                   start=start, end=end, notes=its.notes + (did.notes if did else ()))


def _number(value: float) -> float | None:
    """Rounded; None for a value that is not finite (JSON in PostgreSQL has no NaN)."""
    return round(float(value), 6) if math.isfinite(value) else None


def _effect(effect: cmp.Effect) -> dict[str, float | None]:
    return {"ratio": _number(effect.ratio), "low": _number(effect.low), "high": _number(effect.high),
            "p": _number(effect.p_value)}


def stored(outcome: Outcome) -> dict[str, Any]:
    """What a saved comparison keeps: the verdicts, the estimates, the placebos and the chart's curve, as
    plain JSON rounded so that a rerun on the same records compares equal (the time it took is apart)."""
    its, did = outcome.its, outcome.did
    placebos = its.placebos + (did.placebos if did else ())
    curve = its.curve
    return {
        "verdict": dict(outcome.verdict),
        "its": _effect(its.effect),
        "did": None if did is None else {**_effect(did.effect), "treated": did.units_treated,
                                         "control": did.units_control},
        "placebos": [{"kind": p.kind, "label": p.label, "alarm": bool(p.alarm), **_effect(p.effect)}
                     for p in placebos],
        "before": int(its.n_before), "after": int(its.n_after),
        "start": outcome.start.isoformat(), "end": outcome.end.isoformat(),
        "event": its.event.date().isoformat(),
        "curve": {"date": [d.date().isoformat() for d in curve["date"]],
                  **{k: [_number(v) for v in curve[k]]
                     for k in ("observed", "fitted", "counterfactual")}},
    }


def chart(outcome: Outcome | dict[str, Any], *, labels: dict[str, str]) -> go.Figure:
    """Observed values, the model's fit and the counterfactual (the fit without the event) for the event's
    unit, with the event marked (from a fresh outcome or a stored one, :func:`stored`)."""
    if isinstance(outcome, dict):
        curve = pd.DataFrame(outcome["curve"]).astype({"date": "datetime64[ns]"})
        event = pd.Timestamp(outcome["event"])
    else:
        curve, event = outcome.its.curve, outcome.its.event
    figure = go.Figure()
    figure.add_scatter(x=curve["date"], y=curve["observed"], mode="markers", name=labels["observed"],
                       marker={"size": 5, "color": "#475467"})
    figure.add_scatter(x=curve["date"], y=curve["fitted"], mode="lines", name=labels["fitted"],
                       line={"color": "#2c5fd4"})
    after = curve[curve["date"] >= event]
    figure.add_scatter(x=after["date"], y=after["counterfactual"], mode="lines", name=labels["counterfactual"],
                       line={"color": "#c0392b", "dash": "dash"})
    figure.add_vline(x=event.timestamp() * 1000, line={"color": "#101828", "width": 1})
    figure.update_layout(height=340, margin={"l": 10, "r": 10, "t": 30, "b": 30}, legend={"orientation": "h"},
                         yaxis_title=labels["y"])
    return figure
