"""The "what changed" pages: pick an event and an outcome and queue the comparison (a background job);
follow it as it runs and read what it found, in both languages. Thin: reads from selectors, writes
through services, the words and the chart from the stored result."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from civicgrid.analytics import charts
from civicgrid.core.errors import Invalid
from civicgrid.core.views import form_errors, scoped_view
from civicgrid.evaluation import selectors, services
from civicgrid.evaluation.compare import chart
from civicgrid.evaluation.forms import CompareForm
from civicgrid.evaluation.jobs import TOO_FEW_DAYS
from civicgrid.evaluation.models import Comparison
from civicgrid.evaluation.panel import SOURCES

RECENT = 20


def _reader_is_chinese() -> bool:
    return (translation.get_language() or "").startswith("zh")


def _event_shown(emergency: Any) -> str:
    en, zh = services.emergency_words(emergency)
    return zh if _reader_is_chinese() else en


def _percent(ratio: float | None) -> str:
    return "—" if ratio is None else f"{(ratio - 1) * 100:+.0f}%"


def _ratio_row(kind: str, label: str, effect: dict[str, Any], alarm: bool | None = None) -> dict[str, Any]:
    return {"kind": kind, "label": label, "change": _percent(effect["ratio"]),
            "interval": f"{_percent(effect['low'])} … {_percent(effect['high'])}",
            "p": "—" if effect["p"] is None else f"{effect['p']:.3f}", "alarm": alarm}


def _row(comparison: Comparison) -> dict[str, Any]:
    return {"c": comparison, "outcome": str(SOURCES[comparison.source].label) if comparison.source in SOURCES
            else comparison.source, "status": comparison.get_status_display(),
            "event": comparison.event_zh if _reader_is_chinese() else comparison.event_en}


@scoped_view
@require_http_methods(["GET", "POST"])
def what_changed(request: HttpRequest, scope: Any) -> HttpResponse:
    communities = list(selectors.communities(scope=scope))
    emergencies = list(selectors.emergencies(scope=scope)[:50])
    initial = {"emergency": str(emergencies[0].pk) if emergencies else "", "outcome": "cases.handling_hours"}
    initial.update({k: request.GET[k] for k in ("emergency", "outcome") if k in request.GET})  # the glance's link
    form = CompareForm(request.POST if request.method == "POST" else None,
                       emergencies=[(str(e.pk), _event_shown(e)) for e in emergencies],
                       communities=[(str(c.pk), c.name) for c in communities], initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            comparison = services.comparison_request(
                user=request.user, scope=scope, source=data["outcome"],
                emergency_id=int(data["emergency"]) if data.get("emergency") else None,
                community_id=int(data["community"]) if data.get("community") else None, day=data.get("day"),
                comparison_ids=[int(c) for c in data.get("comparisons") or ()])
        except Invalid as exc:
            form_errors(form, exc)
        else:
            return redirect("evaluation:comparison", comparison_id=comparison.pk)
    recent = [_row(c) for c in selectors.comparisons(scope=scope)[:RECENT]]
    return render(request, "evaluation/what_changed.html",
                  {"form": form, "has_events": bool(emergencies), "recent": recent})


@scoped_view
def comparison_page(request: HttpRequest, scope: Any, comparison_id: int) -> HttpResponse:
    comparison = selectors.comparison_get(scope=scope, comparison_id=comparison_id)
    context: dict[str, Any] = {"row": _row(comparison), "comparison": comparison,
                               "too_few_days": comparison.error.startswith(TOO_FEW_DAYS)}
    result = comparison.result
    if comparison.status == Comparison.Status.DONE and result:
        names = dict(selectors.communities(scope=scope).values_list("code", "name"))
        placebos = [_ratio_row(_("in time") if p["kind"] == "time" else _("in place"),
                               p["label"] if p["kind"] == "time" else names.get(p["label"], p["label"]), p,
                               p["alarm"]) for p in result["placebos"]]
        estimates = [_ratio_row(_("Interrupted time series"), comparison.community.name, result["its"])]
        if result["did"] is not None:
            estimates.append(_ratio_row(_("Difference in differences (by grid)"),
                                        _("%(n)d grids against %(m)d") % {"n": result["did"]["treated"],
                                                                           "m": result["did"]["control"]},
                                        result["did"]))
        labels = {"observed": _("observed"), "fitted": _("model"), "y": str(SOURCES[comparison.source].label),
                  "counterfactual": _("without the event (counterfactual)")}
        # the verdict is stored in both languages; each reader sees theirs (no English on a Chinese page)
        context.update(
            verdict=result["verdict"]["zh" if _reader_is_chinese() else "en"],
            estimates=estimates, placebos=placebos, seconds=f"{result.get('seconds', 0):.2f}",
            before=result["before"], after=result["after"], start=result["start"], end=result["end"],
            chart=charts.to_div(chart(result, labels=labels)),
        )
    return render(request, "evaluation/comparison.html", context)


@scoped_view
@require_POST
def rerun(request: HttpRequest, scope: Any, comparison_id: int) -> HttpResponse:
    comparison = services.comparison_rerun(user=request.user, scope=scope, comparison_id=comparison_id)
    return redirect("evaluation:comparison", comparison_id=comparison.pk)
