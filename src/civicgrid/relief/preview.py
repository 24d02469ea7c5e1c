"""The round preview in words: the sentence it leads with, the chart of vulnerable and other households'
coverage and unmet need under each policy, and the seed of its lottery."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import plotly.graph_objects as go
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from civicgrid.engine.allocation import POLICIES
from civicgrid.relief.text import POLICY_SHORT

RECOMMENDED = "equity"
SEED_LIMIT = 2**31


def round_seed(*, place_ids: Iterable[Any], item_codes: Iterable[str], days: int, on: date) -> int:
    """The lottery's seed for a selection on a day: the same places, items, days and date give the same
    seed, so the lottery column does not change when the preview is reloaded."""
    key = "|".join([",".join(sorted(str(p) for p in place_ids)), ",".join(sorted(str(i) for i in item_codes)),
                    str(int(days)), on.isoformat()])
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % SEED_LIMIT


def percent(value: float | None) -> int | None:
    """A share as a whole percentage, as the sentence and the chart say it."""
    return None if value is None else int(round(value * 100))


def _group(metrics: Mapping[str, Any], group: str, key: str) -> float | None:
    value = metrics.get("groups", {}).get(group, {}).get(key)
    return None if value is None else float(value)


def lead_sentence(by_policy: Mapping[str, Mapping[str, Any]], *, recommended: str = RECOMMENDED) -> str:
    """One plain sentence: the recommended policy's coverage of vulnerable and other households, and the
    policy that would leave vulnerable households worst off."""
    chosen = by_policy.get(recommended) or {}
    if not chosen.get("requests"):
        return _("There are no open requests to allocate for this selection.")
    name = str(POLICY_SHORT[recommended])
    vulnerable = percent(_group(chosen, "vulnerable", "coverage"))
    other = percent(_group(chosen, "other", "coverage"))
    if vulnerable is None:
        return _("With %(policy)s, %(other)d%% of the requests reach their survival minimum; none of them is "
                 "from a vulnerable household.") % {"policy": name, "other": other or 0}
    text = _("With %(policy)s, %(vulnerable)d%% of vulnerable households' requests reach their survival "
             "minimum") % {"policy": name, "vulnerable": vulnerable}
    if other is not None:
        text += _(", %(other)d%% of other households'") % {"other": other}
    others = [(percent(_group(m, "vulnerable", "coverage")), p) for p, m in by_policy.items() if p != recommended]
    known = [(v, p) for v, p in others if v is not None]
    if not known:
        return text + pgettext("end of a sentence", ".")
    worst, worst_policy = min(known, key=lambda pair: (pair[0], POLICIES.index(pair[1])))
    best, best_policy = max(known, key=lambda pair: (pair[0], -POLICIES.index(pair[1])))
    if worst < vulnerable:
        text += _("; with %(policy)s only %(worst)d%% of vulnerable households' would.") % {
            "policy": POLICY_SHORT[worst_policy], "worst": worst}
    else:
        text += _("; no other policy does worse for vulnerable households (lowest: %(worst)d%%).") % {
            "worst": worst}
    if best > vulnerable:  # said plainly, never hidden: another policy brings more of them to the minimum
        text += " " + _("Note: with %(policy)s %(best)d%% of vulnerable households' requests would reach their "
                        "survival minimum, more than with %(recommended)s.") % {
            "policy": POLICY_SHORT[best_policy], "best": best, "recommended": name}
    return text


def chart(by_policy: Mapping[str, Mapping[str, Any]]) -> go.Figure:
    """Vulnerable and other households' coverage and unmet need, one group of bars per policy."""
    policies = [p for p in POLICIES if p in by_policy]
    names = [str(POLICY_SHORT[p]) for p in policies]
    series = [
        (_("Vulnerable: reached survival minimum"), "vulnerable", "coverage", "#1f6f5c"),
        (_("Others: reached survival minimum"), "other", "coverage", "#7fb8a4"),
        (_("Vulnerable: unmet need"), "vulnerable", "unmet_share", "#b42318"),
        (_("Others: unmet need"), "other", "unmet_share", "#f4a09a"),
    ]
    figure = go.Figure()
    for label, group, key, colour in series:
        values = [percent(_group(by_policy[p], group, key)) for p in policies]
        figure.add_bar(name=label, x=names, y=values, marker_color=colour,
                       text=[f"{v}%" if v is not None else "" for v in values], textposition="outside")
    figure.update_layout(barmode="group", yaxis={"title": "%", "range": [0, 110]}, height=360,
                         margin={"l": 40, "r": 10, "t": 20, "b": 40}, legend={"orientation": "h", "y": -0.2})
    return figure
