"""What the volunteers app contributes to the platform (see civicgrid.core.plugins)."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from civicgrid.core.plugins import AppPlugin, Deliverable, NavItem
from civicgrid.core.scoping import STAFF_ROLES, ScopeRule
from civicgrid.volunteers import models as m
from civicgrid.volunteers.crei import INDICATORS, TALLIES
from civicgrid.volunteers.deliverables import care_visits_done
from civicgrid.volunteers.demo import demo_load
from civicgrid.volunteers.events import VolunteersEvent
from civicgrid.volunteers.governance import contributions
from civicgrid.volunteers.work import glance, work_items

_RESIDENT = ScopeRule(record_path="place_path", household="resident__household_id")


def task_households(user: Any) -> list[int]:
    """Households of the care visits a person holds (they see the resident they visit)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(m.CareVisit.objects.filter(visitor__isnull=False, visitor__role__user=user,
                                           status=m.CareVisit.Status.CLAIMED)
                .values_list("resident__household_id", flat=True).distinct())


PLUGIN = AppPlugin(
    urls=True,
    api=True,
    nav=(
        NavItem("volunteers:home", _("Volunteers"), "volunteers", 40, roles=STAFF_ROLES),
        NavItem("volunteers:hours", _("Volunteer hours"), "volunteers", 41, roles=STAFF_ROLES),
        NavItem("volunteers:helpers", _("Paired help"), "volunteers_manage", 42),
        NavItem("volunteers:timebank", _("Time bank"), "volunteers", 43, roles=STAFF_ROLES),
    ),
    access={
        "district_official": ("volunteers", "volunteers_manage"),
        "community_director": ("volunteers", "volunteers_manage"),
        "grid_member": ("volunteers", "volunteers_manage"),
        "org_staff": ("volunteers",),
        "volunteer": ("volunteers",),
    },
    scope_rules={
        m.Volunteer: ScopeRule(area_path="place_path"),
        m.Certificate: ScopeRule(area_path="volunteer__place_path"),
        m.HoursEntry: ScopeRule(area_path="place_path"),
        m.HoursApproval: ScopeRule(area_path="entry__place_path"),
        m.HelperAssignment: _RESIDENT,
        m.CareVisit: _RESIDENT,
        m.TimeAccount: ScopeRule(area_path="place_path", serving_area_path="place_path"),
        m.TimeTransfer: ScopeRule(area_path="place_path", serving_area_path="place_path"),
    },
    task_households=(task_households,),
    audit_events=VolunteersEvent,
    periodic_jobs=("volunteers_post_hours", "volunteers_care_visits"),
    demo_load=demo_load,
    crei_indicators=INDICATORS,
    tallies=TALLIES,
    governance_contributions=contributions,
    work_items=work_items,
    glance=glance,
    deliverables={"care_visits": Deliverable(_("care visits done"), care_visits_done)},
    job_labels={"volunteers_post_hours": _("Post volunteer hours"), "volunteers_care_visits": _("Care visits due")},
)
