"""What the grievances app contributes to the platform (see civicgrid.core.plugins)."""

from django.utils.translation import gettext_lazy as _

from civicgrid.core.plugins import AppPlugin, NavItem
from civicgrid.core.scoping import ScopeRule
from civicgrid.grievances.crei import INDICATORS
from civicgrid.grievances.demo import demo_load
from civicgrid.grievances.events import GrievanceEvent
from civicgrid.grievances.models import Appeal, Grievance, Pause, Step
from civicgrid.grievances.work import glance, work_items

PLUGIN = AppPlugin(
    urls=True,
    api=True,
    nav=(NavItem("grievances:list", _("Complaints"), "grievances", 25),),
    access={
        "district_official": ("grievances", "grievances_handle", "grievances_review"),
        "community_director": ("grievances", "grievances_handle", "grievances_review"),
        "grid_member": ("grievances", "grievances_handle"),
        "resident": ("grievances",),
    },
    # Seen where it may be seen (its place, or for the sensitive track the level above the grid: see
    # chain.visible_path) and by the household that filed it.
    scope_rules={
        Grievance: ScopeRule(record_path="visible_path", household="household_id"),
        Pause: ScopeRule(via=("grievance", Grievance)),
        Step: ScopeRule(via=("grievance", Grievance)),
        Appeal: ScopeRule(via=("grievance", Grievance)),
    },
    audit_events=GrievanceEvent,
    periodic_jobs=("grievances_tick",),
    demo_load=demo_load,
    crei_indicators=INDICATORS,
    work_items=work_items,
    glance=glance,
    job_labels={"grievances_tick": _("Grievance reminders and escalation")},
)
