"""The "what changed" page: before/after comparison around an event, from the platform's own records.
Thin: the form, the comparison (evaluation.compare), the words and the chart."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from civicgrid.analytics import charts
from civicgrid.core.views import scoped_view
from civicgrid.evaluation import selectors
from civicgrid.evaluation.compare import chart, compare
from civicgrid.evaluation.forms import CompareForm
from civicgrid.evaluation.panel import SOURCES


def _emergency_words(emergency: Any) -> tuple[str, str, str]:
    """The event in English and Chinese (for both verdicts) and in the reader's language (for the menu)."""
    day = emergency.activated_at.date().isoformat()
    with translation.override("en"):
        en = f"the {str(emergency.get_hazard_display()).lower()} emergency of {day} in {emergency.community.name}"
    with translation.override("zh-hans"):
        zh = f"{emergency.community.name}{day}启动{emergency.get_hazard_display()}应急"
    return en, zh, zh if (translation.get_language() or "").startswith("zh") else en


def _ratio_row(kind: str, label: str, effect: Any, alarm: bool | None = None) -> dict[str, Any]:
    return {"kind": kind, "label": label, "change": f"{(effect.ratio - 1) * 100:+.0f}%",
            "interval": f"{(effect.low - 1) * 100:+.0f}% … {(effect.high - 1) * 100:+.0f}%",
            "p": f"{effect.p_value:.3f}", "alarm": alarm}


@scoped_view
@require_GET
def what_changed(request: HttpRequest, scope: Any) -> HttpResponse:
    communities = list(selectors.communities(scope=scope))
    emergencies = list(selectors.emergencies(scope=scope)[:50])
    names = {c.code: c.name for c in communities}
    form = CompareForm(request.GET if "outcome" in request.GET else None,
                       emergencies=[(str(e.pk), _emergency_words(e)[2]) for e in emergencies],
                       communities=[(str(c.pk), c.name) for c in communities],
                       initial={"emergency": str(emergencies[0].pk) if emergencies else "",
                                "outcome": "cases.handling_hours"})
    context: dict[str, Any] = {"form": form, "has_events": bool(emergencies)}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data.get("emergency"):
            emergency = selectors.emergency_get(scope=scope, emergency_id=int(data["emergency"]))
            community, day = emergency.community, emergency.activated_at.date()
            event_en, event_zh, _shown = _emergency_words(emergency)
        else:
            community = next(c for c in communities if str(c.pk) == data["community"])
            day = data["day"]
            event_en = f"{day.isoformat()} in {community.name}"
            event_zh = f"{community.name}{day.isoformat()}"
        others = [c for c in communities if str(c.pk) in set(data.get("comparisons") or ()) and c != community]
        try:
            outcome = compare(community=community, event=day, source=data["outcome"], comparisons=others,
                              event_en=event_en, event_zh=event_zh)
        except ValueError:
            form.add_error(None, _("Not enough records around this date to compare: at least 14 days are "
                                   "needed on each side of the event."))
        else:
            language = "zh" if (translation.get_language() or "").startswith("zh") else "en"
            its = outcome.its
            placebos = [_ratio_row(_("in time") if p.kind == "time" else _("in place"),
                                   p.label if p.kind == "time" else names.get(p.label, p.label), p.effect, p.alarm)
                        for p in (its.placebos + (outcome.did.placebos if outcome.did else ()))]
            estimates = [_ratio_row(_("Interrupted time series"), community.name, its.effect)]
            if outcome.did is not None:
                estimates.append(_ratio_row(_("Difference in differences (by grid)"),
                                            _("%(n)d grids against %(m)d") % {"n": outcome.did.units_treated,
                                                                               "m": outcome.did.units_control},
                                            outcome.did.effect))
            labels = {"observed": _("observed"), "fitted": _("model"), "y": str(SOURCES[data["outcome"]].label),
                      "counterfactual": _("without the event (counterfactual)")}
            context.update(
                outcome=outcome, community=community, day=day, verdict=outcome.verdict[language],
                estimates=estimates, placebos=placebos, seconds=f"{outcome.seconds:.2f}",
                before=its.n_before, after=its.n_after,
                chart=charts.to_div(chart(outcome, labels=labels)),
            )
    return render(request, "evaluation/what_changed.html", context)
