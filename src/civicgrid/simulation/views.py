"""The what-if pages: pick a scenario and policies and run it (a background job); follow a run as it goes
and see what it shows. Thin: reads from selectors, writes through services."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods, require_POST

from civicgrid.analytics.charts import to_div
from civicgrid.core.errors import Invalid
from civicgrid.core.views import form_errors, scoped_view
from civicgrid.simulation import scenarios, selectors, services
from civicgrid.simulation.charts import unmet_figure
from civicgrid.simulation.forms import RunForm
from civicgrid.simulation.models import SimulationRun
from civicgrid.simulation.words import STATUS_NAMES, policy_name, sentence

RECENT = 20


@scoped_view
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest, scope: Any) -> HttpResponse:
    communities = [(c.pk, c.name) for c in selectors.communities(scope=scope)]
    form = RunForm(request.POST or None, communities=communities)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            run = services.run_request(user=request.user, scope=scope, community_id=data["community"],
                                       scenario=data["scenario"], policies=list(data["policies"]),
                                       runs=data["runs"], days=data["days"])
        except Invalid as exc:
            form_errors(form, exc)
        else:
            return redirect("simulation:run", run_id=run.pk)
    runs = [_row(run) for run in selectors.runs(scope=scope)[:RECENT]]
    described = [(scenarios.title(name), scenarios.description(name)) for name in scenarios.scenarios()]
    return render(request, "simulation/index.html", {"form": form, "runs": runs, "described": described})


def _row(run: SimulationRun) -> dict[str, Any]:
    return {"run": run, "scenario": scenarios.title(run.scenario), "status": STATUS_NAMES[run.status],
            "policies": "、".join(policy_name(p) for p in run.policies)}


@scoped_view
def run_page(request: HttpRequest, scope: Any, run_id: int) -> HttpResponse:
    run = selectors.run_get(scope=scope, run_id=run_id)
    context: dict[str, Any] = {"row": _row(run), "run": run,
                               "description": scenarios.description(run.scenario)}
    if run.status == SimulationRun.Status.DONE and run.result:
        result = run.result
        labels = {"day_title": pgettext("simulation", "Day"), "interval_word": _("interval over the runs")}
        context.update(
            sentence=sentence(result),
            need_chart=to_div(unmet_figure(result, metric="unmet_need_per_household",
                                           title=_("Unmet need per household (need-days)"),
                                           y_title=_("need-days"), **labels)),
            short_chart=to_div(unmet_figure(result, metric="unmet_share",
                                            title=_("Share of households below their survival minimum"),
                                            y_title=_("share"), **labels)),
            wait_chart=to_div(unmet_figure(result, metric="days_to_help",
                                           title=_("Days waited for help, by the day the need arose"),
                                           y_title=_("days"), **labels))
            if "days_to_help" in result["series"] else None,  # runs saved before the series existed
            figures=[{"policy": policy_name(p), **result["figures"][p]} for p in result["policies"]],
        )
    return render(request, "simulation/run.html", context)


@scoped_view
@require_POST
def rerun(request: HttpRequest, scope: Any, run_id: int) -> HttpResponse:
    run = services.run_rerun(user=request.user, scope=scope, run_id=run_id)
    return redirect("simulation:run", run_id=run.pk)
