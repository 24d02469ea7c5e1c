"""What the fund app contributes to the platform (see civicgrid.core.plugins)."""

from django.utils.translation import gettext_lazy as _

from civicgrid.core.plugins import AppPlugin, NavItem
from civicgrid.core.scoping import ScopeRule
from civicgrid.fund import models as m
from civicgrid.fund.crei import INDICATORS, TALLIES
from civicgrid.fund.demo import demo_load
from civicgrid.fund.events import FundEvent
from civicgrid.fund.governance import contributions
from civicgrid.fund.work import glance, work_items

# a fund and its rounds are seen in their community and by everyone living or serving there
_COMMUNITY = "community__path"

PLUGIN = AppPlugin(
    urls=True,
    api=True,
    nav=(NavItem("fund:index", _("Community fund"), "fund", 45),),
    access={
        "district_official": ("fund", "fund_manage", "fund_codes"),
        "community_director": ("fund", "fund_manage", "fund_codes"),
        "grid_member": ("fund", "fund_codes"),
        "org_staff": ("fund",),
        "volunteer": ("fund",),
        "resident": ("fund",),
    },
    scope_rules={
        m.Fund: ScopeRule(area_path=_COMMUNITY, serving_area_path=_COMMUNITY),
        m.Round: ScopeRule(area_path=f"fund__{_COMMUNITY}", serving_area_path=f"fund__{_COMMUNITY}"),
        m.Proposal: ScopeRule(area_path=f"round__fund__{_COMMUNITY}", serving_area_path=f"round__fund__{_COMMUNITY}"),
        m.LedgerEntry: ScopeRule(area_path=f"fund__{_COMMUNITY}", serving_area_path=f"fund__{_COMMUNITY}"),
        m.PaperSheet: ScopeRule(area_path=f"round__fund__{_COMMUNITY}"),
        m.Voter: ScopeRule(record_path="household__place_path"),
    },
    audit_events=FundEvent,
    demo_load=demo_load,
    crei_indicators=INDICATORS,
    tallies=TALLIES,
    governance_contributions=contributions,
    work_items=work_items,
    glance=glance,
)
