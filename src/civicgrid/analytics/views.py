"""Analytics pages: governance balance and the CREI. Thin: data from selectors and the engine."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from django import forms
from django.db.models import TextField
from django.db.models.functions import Cast
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control

from civicgrid.analytics import charts, kept, selectors, words
from civicgrid.analytics.governance_data import governance_inputs
from civicgrid.core.limits import int_param
from civicgrid.core.paging import paginate
from civicgrid.core.replica import replica_reads
from civicgrid.core.views import scoped_view
from civicgrid.engine import governance as gov


class StressForm(forms.Form):
    actor = forms.ChoiceField(label=_("Remove an actor"), required=False)
    sector = forms.ChoiceField(label=_("or a whole sector"), required=False,
                               choices=[("", "—"), ("state", _("State")), ("capital", _("Capital")),
                                        ("society", _("Society"))])
    volunteer_loss = forms.IntegerField(label=_("and this share of volunteers (%)"), required=False,
                                        min_value=0, max_value=100)

    def __init__(self, *args: Any, actors: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["actor"].choices = [("", "—"), *actors]  # type: ignore[attr-defined]

    def scenario(self) -> gov.StressScenario | None:
        data = self.cleaned_data
        if not (data.get("actor") or data.get("sector") or data.get("volunteer_loss")):
            return None
        return gov.StressScenario(
            name=str(_("your scenario")),
            remove_actors=(data["actor"],) if data.get("actor") else (),
            remove_sectors=(data["sector"],) if data.get("sector") else (),
            volunteer_loss=(data.get("volunteer_loss") or 0) / 100)


@scoped_view
@replica_reads()  # read-only and read-heavy: on a read replica when one is configured
def governance(request: HttpRequest, scope: Any) -> HttpResponse:
    communities = selectors.communities(scope=scope)
    chosen = request.GET.get("community")
    community = selectors.community_get(scope=scope, community_id=int_param(chosen, "community")) if chosen else communities.first()
    context: dict[str, Any] = {"communities": communities, "community": community}
    if community is not None:
        inputs = governance_inputs(community=community)
        names = {a.id: a.name for a in inputs.actors}
        form = StressForm(request.GET if "run" in request.GET else None,
                          actors=[(a.id, f"{a.name} ({words.word(words.SECTORS, a.sector)})") for a in inputs.actors])
        custom = form.scenario() if form.is_bound and form.is_valid() else None
        report = gov.governance_report(inputs=inputs)
        tested = gov.stress_test(inputs=inputs, scenario=custom, baseline=report.coverage) if custom else None
        context.update(
            report=report, form=form, names=names, page=words.governance_page(report, names=names),
            custom=words.stress_row(tested, names=names) if tested else None,
            shares_chart=charts.to_div(charts.sector_shares_figure(report, title=str(_("Sector shares")))),
            network_chart=charts.to_div(charts.network_figure(report, names=names)),
        )
    return render(request, "analytics/governance.html", context)


RANKING_PAGE = 100  # units of the ranking a page draws


@scoped_view
@replica_reads()
def crei_page(request: HttpRequest, scope: Any) -> HttpResponse:
    from civicgrid.analytics.crei import catalogue, crei, crei_uncertainty
    from civicgrid.core.tallies import as_of, recount_only
    from civicgrid.engine.index import plot_rank_intervals

    level = "community" if request.GET.get("level") == "community" else "grid"
    # the outlines as their stored text, decoded only when the map is drawn anew: decoding (and digesting) a
    # district's 3,600 outlines was 40-50 ms of every request at 1,000,000 households; and each place a plain row
    # with the fields the index reads, not a model instance (issue 15)
    places: list[Any] = list(selectors.places_for_index(scope=scope).annotate(outline=Cast("geometry", TextField()))
                  .values_list("id", "level", "code", "name", "parent_id", "outline", named=True))
    outcome = crei(places=places, level=level)
    book = catalogue()
    entries = {e["name"]: e for e in book["indicators"]}
    mechanism_names = {m: words.indicator_name({**e, "name": m}) for m, e in book["mechanisms"].items()}
    missing = {m["name"]: words.word(words.MISSING_REASONS, m["reason"]) for m in outcome.missing}
    context: dict[str, Any] = {"level": level, "outcome": outcome, "counted_at": as_of(recount_only()),
                               "catalogue_rows": [
        {"name": words.indicator_name(e), "mechanism": mechanism_names.get(e["mechanism"], e["mechanism"]),
         "formula": words.localised(e, "formula"), "source": words.word(words.SOURCES, e.get("source", "")), "why": words.localised(e, "why"),
         "missing": missing.get(e["name"])} for e in book["indicators"]]}
    if outcome.result is not None:
        scores = outcome.result.scores
        ranking = scores.assign(rank=outcome.result.ranks["CREI"]).sort_values("rank")
        unit = request.GET.get("unit") or ranking.index[0]
        if unit not in scores.index:
            from django.http import Http404
            raise Http404(_("Not found in your area."))
        mechanisms = [c for c in scores.columns if c != "CREI"]
        # a page of the ranking at a time: a district's 3,600 grids drawn with every mechanism's score were
        # 30,000 cells, a third of the page's time at 1,000,000 households (issue 15)
        shown = paginate(ranking.index.tolist(), RANKING_PAGE, request.GET.get("page"))
        context.update(
            ranking=[{"code": code, "name": outcome.names.get(code, code), "rank": int(row["rank"]),
                      "crei": words.number(row["CREI"]), "cells": [words.number(row[m]) for m in mechanisms]}
                     for code, row in ranking.loc[list(shown)].iterrows()],
            ranking_page=shown,
            mechanisms=[mechanism_names.get(m, m) for m in mechanisms],
            unit=unit, unit_name=outcome.names.get(unit, unit),
            breakdown=[{"name": words.indicator_name(entries[name]) if name in entries else name,
                        "raw": words.number(outcome.values.loc[unit, name], 2),
                        "normalised": words.number(outcome.result.normalised.loc[unit, name])}
                       for name in outcome.values.columns],
        )
        if level == "grid":
            outlines = {p.code: p.outline for p in places if p.level == "grid" and p.outline is not None}
            drawn = {"scores": scores["CREI"].to_dict(), "names": outcome.names,
                     "short_names": {p.code: p.name for p in places if p.level == "grid"},
                     "title": str(_("CREI by grid"))}
            # a district's 3,600 tiles: drawn again only when a score, a name or an outline changed (kept.py);
            # an outline's text decodes to the geometry the field reads
            context["map_chart"] = kept.kept("crei.map", kept.digest(drawn, outlines), lambda: charts.to_div(
                charts.grid_map_spec(geometries=_geometries(outlines), **drawn)))
        intervals = crei_uncertainty(outcome)
        if intervals is not None:
            intervals = intervals.rename(index=lambda code: outcome.names.get(code, code))
            figure = plot_rank_intervals(
                intervals, top=40, title=str(_("Rank intervals (weights, normalisation, aggregation varied)")))
            for trace, name in zip(figure.data, (_("median rank"), _("nominal rank")), strict=False):
                trace.name = str(name)
            figure.update_layout(xaxis_title=str(_("grid or community")),
                                 yaxis_title=str(_("rank (1 = highest score)")))  # the engine's are English
            context["uncertainty_chart"] = charts.to_div(figure)
    return render(request, "analytics/crei.html", context)


def _geometries(outlines: dict[str, str]) -> dict[str, Any]:
    """Each grid's GeoJSON outline from its stored text, as the model field decodes it (empty ones left out)."""
    return {code: geometry for code, text in outlines.items() if (geometry := json.loads(text))}


@lru_cache(maxsize=1)
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


@cache_control(max_age=86400, public=True)
def plotly_js(request: HttpRequest) -> HttpResponse:
    """plotly.js from the installed plotly package: the charts need no internet."""
    return HttpResponse(_plotly_js(), content_type="application/javascript")
