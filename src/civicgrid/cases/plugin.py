"""What the cases app contributes to the platform (see civicgrid.core.plugins)."""

from django.utils.translation import gettext_lazy as _

from civicgrid.cases.crei import INDICATORS, TALLIES
from civicgrid.cases.demo import demo_load
from civicgrid.cases.events import CaseAuditEvent
from civicgrid.cases.governance import contributions
from civicgrid.cases.models import Case, CaseEvent
from civicgrid.cases.work import glance, work_items
from civicgrid.core.plugins import AppPlugin, NavItem
from civicgrid.core.scoping import ScopeRule

PLUGIN = AppPlugin(
    urls=True,
    api=True,
    nav=(NavItem("cases:list", _("Cases"), "cases", 20),),
    access={
        "district_official": ("cases", "cases_manage"),
        "community_director": ("cases", "cases_manage"),
        "grid_member": ("cases",),
        "org_staff": ("cases",),
        "resident": ("cases",),
    },
    # Seen where it lies, by the household concerned, and by the actor handling it.
    scope_rules={
        Case: ScopeRule(record_path="place_path", household="household_id", actor="handler_id"),
        CaseEvent: ScopeRule(via=("case", Case)),
    },
    audit_events=CaseAuditEvent,
    periodic_jobs=("cases_escalate",),
    demo_load=demo_load,
    crei_indicators=INDICATORS,
    tallies=TALLIES,
    governance_contributions=contributions,
    work_items=work_items,
    glance=glance,
    job_labels={"cases_escalate": _("Escalate overdue cases")},
)
