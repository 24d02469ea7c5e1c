"""What the evaluation app contributes to the platform (see civicgrid.core.plugins): the "what changed"
page (before/after comparison from the records) for district officials and community directors, its
place in their menu and home, and the demo's historical records."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.core.plugins import AppPlugin, Glance, NavItem
from civicgrid.core.scoping import Scope, ScopeRule
from civicgrid.evaluation.demo import demo_load
from civicgrid.evaluation.events import EvaluationEvent
from civicgrid.evaluation.models import Comparison


def glance(*, user: Any, scope: Scope) -> list[Glance]:
    """For coordinators: the latest emergency to look back on, linking to its comparison."""
    if not scope.may("analytics") or scope.role not in {"district_official", "community_director"}:
        return []
    from civicgrid.evaluation import selectors

    latest = selectors.emergencies(scope=scope).first()
    if latest is None:
        return []
    url = f"{reverse('evaluation:what_changed')}?emergency={latest.pk}&outcome=cases.handling_hours"
    return [Glance(key="evaluation.latest", label=_("What changed"), app="evaluation", order=80, url=url,
                   value=latest.community.name,
                   lines=(_("Before and after the emergency of %(day)s") % {
                       "day": latest.activated_at.date().isoformat()},))]


PLUGIN = AppPlugin(
    urls=True,
    nav=(NavItem("evaluation:what_changed", gettext_lazy("What changed"), "analytics", 62),),
    access={"district_official": ("analytics",), "community_director": ("analytics",)},
    scope_rules={Comparison: ScopeRule(area_path="place_path")},
    audit_events=EvaluationEvent,
    demo_load=demo_load,
    glance=glance,
    job_labels={"civicgrid.evaluation.jobs.run_comparison": gettext_lazy("Before/after comparison")},
)
