"""What the procurement app contributes to the platform (see civicgrid.core.plugins)."""

from django.utils.translation import gettext_lazy as _

from civicgrid.core.plugins import AppPlugin, NavItem
from civicgrid.core.scoping import ScopeRule
from civicgrid.procurement import models as m
from civicgrid.procurement.crei import INDICATORS
from civicgrid.procurement.demo import demo_load
from civicgrid.procurement.events import ProcurementEvent
from civicgrid.procurement.governance import contributions
from civicgrid.procurement.work import glance, work_items

# A call is seen in its area and by whoever serves it (an organisation's staff see the calls they could answer);
# applications, contracts and payments by those who manage the area (record paths) and the organisation itself.
_CALL = ScopeRule(area_path="place__path", serving_area_path="place__path")

PLUGIN = AppPlugin(
    urls=True,
    api=True,
    nav=(
        NavItem("procurement:calls", _("Purchased services"), "procurement", 60),
        NavItem("procurement:contracts", _("Service contracts"), "procurement", 61),
    ),
    access={
        "district_official": ("procurement", "procurement_manage"),
        "community_director": ("procurement", "procurement_manage"),
        "grid_member": ("procurement",),  # as named reviewers
        "org_staff": ("procurement",),  # apply, see their contracts
    },
    scope_rules={
        m.Appropriation: ScopeRule(area_path="place__path"),
        m.Call: _CALL,
        m.Reviewer: ScopeRule(record_path="call__place__path"),
        m.Application: ScopeRule(record_path="call__place__path", actor="organisation__actor_id"),
        m.Score: ScopeRule(record_path="application__call__place__path"),
        m.Contract: ScopeRule(record_path="call__place__path", actor="organisation__actor_id"),
        m.Milestone: ScopeRule(record_path="contract__call__place__path", actor="contract__organisation__actor_id"),
        m.Payment: ScopeRule(record_path="milestone__contract__call__place__path",
                             actor="milestone__contract__organisation__actor_id"),
    },
    audit_events=ProcurementEvent,
    demo_load=demo_load,
    crei_indicators=INDICATORS,
    governance_contributions=contributions,
    work_items=work_items,
    glance=glance,
)
