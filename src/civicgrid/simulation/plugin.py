"""What the simulation app contributes to the platform (see civicgrid.core.plugins): the "what if" page
for community directors and district officials."""

from django.utils.translation import gettext_lazy as _

from civicgrid.core.plugins import AppPlugin, NavItem
from civicgrid.core.scoping import ScopeRule
from civicgrid.simulation.events import SimulationEvent
from civicgrid.simulation.models import SimulationRun

PLUGIN = AppPlugin(
    urls=True,
    nav=(NavItem("simulation:index", _("What if"), "simulation", 62),),
    access={"district_official": ("simulation",), "community_director": ("simulation",)},
    scope_rules={SimulationRun: ScopeRule(area_path="place_path")},
    audit_events=SimulationEvent,
    job_labels={"civicgrid.simulation.jobs.run_simulation": _("What-if run")},
)
