"""What the council app contributes to the platform (see civicgrid.core.plugins)."""

from django.utils.translation import gettext_lazy as _

from civicgrid.core.plugins import AppPlugin, NavItem
from civicgrid.core.scoping import STAFF_ROLES, ScopeRule
from civicgrid.council import models as m
from civicgrid.council.crei import INDICATORS
from civicgrid.council.demo import demo_load
from civicgrid.council.events import CouncilEvent
from civicgrid.council.governance import contributions
from civicgrid.council.work import glance, work_items

# Meetings, decisions and covenants lie in a community: seen by the staff of its area and by everyone
# living or serving in it (a resident's home, a grid member's grid); invitations, votes and signatures
# name households and are seen like household records.
_COMMUNITY = ScopeRule(area_path="place_path", serving_area_path="place_path")
_HOUSEHOLD = ScopeRule(record_path="household__place_path", household="household_id")

PLUGIN = AppPlugin(
    urls=True,
    api=True,
    nav=(
        NavItem("council:meetings", _("Council"), "council", 40, roles=STAFF_ROLES),
        NavItem("council:decisions", _("Decisions"), "council", 41),
        NavItem("council:covenants", _("Covenant"), "council", 42),
    ),
    access={
        "district_official": ("council", "council_manage"),
        "community_director": ("council", "council_manage"),
        "grid_member": ("council",),
        "org_staff": ("council",),
        "resident": ("council",),
    },
    scope_rules={
        m.Body: ScopeRule(area_path="actor__service_area__path", serving_area_path="actor__service_area__path"),
        m.Meeting: _COMMUNITY,
        m.Decision: _COMMUNITY,
        m.Covenant: _COMMUNITY,
        m.AgendaItem: ScopeRule(via=("meeting", m.Meeting)),
        m.Poll: ScopeRule(via=("meeting", m.Meeting)),
        m.Invitation: _HOUSEHOLD,
        m.Vote: _HOUSEHOLD,
        m.Signature: _HOUSEHOLD,
        m.CovenantVersion: ScopeRule(via=("covenant", m.Covenant)),
        m.Clause: ScopeRule(via=("version__covenant", m.Covenant)),
        m.ClauseComment: ScopeRule(via=("clause__version__covenant", m.Covenant)),
    },
    audit_events=CouncilEvent,
    demo_load=demo_load,
    crei_indicators=INDICATORS,
    governance_contributions=contributions,
    work_items=work_items,
    glance=glance,
)
