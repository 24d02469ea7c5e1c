"""What the relief app contributes to the platform (see civicgrid.core.plugins)."""

from django.utils.translation import gettext_lazy as _

from civicgrid.core.plugins import AppPlugin, NavItem
from civicgrid.core.scoping import STAFF_ROLES, ScopeRule
from civicgrid.relief import models as m
from civicgrid.relief.crei import INDICATORS, TALLIES
from civicgrid.relief.deliverables import DELIVERABLES
from civicgrid.relief.demo import demo_load
from civicgrid.relief.events import ReliefEvent
from civicgrid.relief.governance import contributions
from civicgrid.relief.need_sink import ReliefNeedSink
from civicgrid.relief.needcounts import TALLIES as NEED_TALLIES
from civicgrid.relief.selectors import task_households
from civicgrid.relief.work import glance, work_items

_HOUSEHOLD = ScopeRule(record_path="household__place_path", household="household_id")
# stock is visible where it is kept and to the places it serves (a grid sees its community's point)
_AT_POINT = ScopeRule(area_path="point__place__path", serving_area_path="point__place__path")

PLUGIN = AppPlugin(
    urls=True,
    api=True,
    nav=(
        NavItem("relief:needs", _("Needs"), "relief", 30),
        NavItem("relief:tasks", _("Deliveries"), "relief", 31, roles=STAFF_ROLES),
        NavItem("relief:rounds", _("Allocation"), "relief_manage", 32),
        NavItem("relief:stock", _("Stock"), "relief_manage", 33),
        NavItem("relief:offers", _("Offers"), "relief_manage", 34),
    ),
    access={
        "district_official": ("relief", "relief_manage"),
        "community_director": ("relief", "relief_manage"),
        "grid_member": ("relief",),
        "org_staff": ("relief",),
        "volunteer": ("relief",),
        "resident": ("relief",),
    },
    scope_rules={
        m.Need: _HOUSEHOLD,
        m.RoundAllocation: _HOUSEHOLD,
        m.DeliveryStop: _HOUSEHOLD,
        m.NeedFiling: ScopeRule(record_path="need__household__place_path", household="need__household_id"),
        m.DeliveryAttempt: ScopeRule(record_path="stop__household__place_path", household="stop__household_id"),
        m.DistributionPoint: ScopeRule(area_path="place__path", serving_area_path="place__path"),
        m.Lot: _AT_POINT,
        m.LedgerEntry: _AT_POINT,
        m.Offer: ScopeRule(area_path="point__place__path", actor="donor_id"),
        m.AllocationRound: ScopeRule(area_path="place__path", serving_area_path="place__path"),
        m.DeliveryTask: ScopeRule(area_path="place_path", actor="organisation_id"),
        # the common place of the selection: its district official or community director (relief_manage)
        m.RoundConfirmation: ScopeRule(area_path="place_path"),
    },
    task_households=(task_households,),
    audit_events=ReliefEvent,
    periodic_jobs=("relief_release_claims", "relief_confirmations_lost"),
    demo_load=demo_load,
    crei_indicators=INDICATORS,
    tallies={**TALLIES, **NEED_TALLIES},
    governance_contributions=contributions,
    need_sink=ReliefNeedSink(),
    work_items=work_items,
    glance=glance,
    deliverables=DELIVERABLES,
    job_labels={"relief_release_claims": _("Release lapsed delivery claims"),
                "relief_confirmations_lost": _("Fail round confirmations the queue will no longer run"),
                "civicgrid.relief.jobs.run_round_confirmation": _("Confirm an allocation round")},
)
