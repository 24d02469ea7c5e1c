"""The simulation pages' words: policy names and the plain sentence of what a run shows, in the reader's
language (never an engine code such as "fcfs")."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

POLICY_NAMES = {
    "equity": gettext_lazy("Equity first"),
    "proportional": gettext_lazy("In proportion to need"),
    "equal": gettext_lazy("Equal shares"),
    "fcfs": gettext_lazy("First come, first served"),
    "lottery": gettext_lazy("Lottery"),
}
GROUP_NAMES = {"vulnerable": gettext_lazy("vulnerable households"), "other": gettext_lazy("other households")}
STATUS_NAMES = {"queued": gettext_lazy("queued"), "running": gettext_lazy("running"),
                "done": gettext_lazy("done"), "failed": gettext_lazy("failed")}


def policy_name(code: str) -> str:
    return str(POLICY_NAMES.get(code, code))


def sentence(result: dict[str, Any]) -> str:
    """What the run shows, in one sentence: the first policy's unmet need of vulnerable households, its
    interval, and how it compares with the second policy's on the same draws."""
    policies = result["policies"]
    first = result["figures"][policies[0]]
    text = _("Under “%(policy)s”, each vulnerable household went %(mean).1f need-days unmet on average "
             "(95%% interval %(low).1f–%(high).1f) over %(days)s days.") % {
        "policy": policy_name(policies[0]), "mean": first["unmet_need_per_vulnerable_household_mean"],
        "low": first["unmet_need_per_vulnerable_household_low"],
        "high": first["unmet_need_per_vulnerable_household_high"], "days": result["days"]}
    if len(policies) > 1:
        change = result["vulnerable_change"]
        values = {"percent": round(abs(change) * 100), "other": policy_name(policies[1])}
        if change < -0.005:
            text += " " + _("That is %(percent)s%% less than under “%(other)s” on the same draws.") % values
        elif change > 0.005:
            text += " " + _("That is %(percent)s%% more than under “%(other)s” on the same draws.") % values
        else:
            text += " " + _("That is about the same as under “%(other)s” on the same draws.") % values
    return text
