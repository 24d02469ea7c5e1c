"""What the mediation app contributes to the platform (see civicgrid.core.plugins)."""

from django.utils.translation import gettext_lazy as _

from civicgrid.core.plugins import AppPlugin, NavItem
from civicgrid.core.scoping import ScopeRule
from civicgrid.mediation.demo import demo_load
from civicgrid.mediation.events import MediationEvent
from civicgrid.mediation.models import Agreement, MediationCase, Party, Session
from civicgrid.mediation.work import glance, work_items

PLUGIN = AppPlugin(
    urls=True,
    api=True,
    nav=(NavItem("mediation:list", _("Mediation"), "mediation", 26),),
    access={
        # the district may open a case and name a community's mediator, and then sees no party either
        "district_official": ("mediation", "mediation_manage"),
        "community_director": ("mediation", "mediation_manage"),
        "grid_member": ("mediation",),
    },
    # The case is seen where it lies; its parties and texts only by its mediator and its community's
    # director, which the selectors decide (selectors.may_see_parties), never a scope alone.
    scope_rules={
        MediationCase: ScopeRule(record_path="place_path"),
        Party: ScopeRule(via=("case", MediationCase)),
        Session: ScopeRule(via=("case", MediationCase)),
        Agreement: ScopeRule(via=("case", MediationCase)),
    },
    audit_events=MediationEvent,
    periodic_jobs=("mediation_followups",),
    demo_load=demo_load,
    work_items=work_items,
    glance=glance,
    job_labels={"mediation_followups": _("Mediation follow-ups")},
)
