"""What the emergency app contributes to the platform (see civicgrid.core.plugins)."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from civicgrid.core.plugins import AppPlugin, NavItem
from civicgrid.core.scoping import STAFF_ROLES, ScopeRule
from civicgrid.emergency import models as m
from civicgrid.emergency.crei import INDICATORS
from civicgrid.emergency.demo import demo_load
from civicgrid.emergency.events import EmergencyEvent
from civicgrid.emergency.work import glance, work_items


def _visit_households(user: Any) -> list[int]:
    """Households of the open sweep visits given to this user's person (volunteers)."""
    from civicgrid.accounts.models import Role

    person_id = Role.objects.filter(user_id=getattr(user, "pk", None) or 0).values_list("person_id", flat=True).first()
    if not person_id:
        return []
    return list(m.SweepVisit.objects.filter(assignee_id=person_id, state__in=m.SweepVisit.TO_DO,
                                          sweep__closed_at__isnull=True).values_list("household_id", flat=True))


# An emergency is seen from inside its community and from the places above it.
PLUGIN = AppPlugin(
    urls=True,
    api=True,
    nav=(
        NavItem("emergency:now", _("Emergency now"), "emergency", 5),
        NavItem("emergency:isolations", _("Home isolation"), "residents", 33, roles=STAFF_ROLES),
        NavItem("emergency:index", _("Modes and plans"), "emergency", 34),
    ),
    access={
        "district_official": ("emergency", "emergency_manage"),
        "community_director": ("emergency", "emergency_manage"),
        "grid_member": ("emergency",),
        # what is given to their organisation: its live tasks, the emergency pages (nothing to manage)
        "org_staff": ("emergency",),
    },
    scope_rules={
        m.Emergency: ScopeRule(serving_area_path="community__path"),
        m.Drill: ScopeRule(serving_area_path="community__path"),
        m.Sweep: ScopeRule(serving_area_path="emergency__community__path"),
        m.LiveTask: ScopeRule(serving_area_path="place_path", actor="actor_id"),
        m.SweepVisit: ScopeRule(record_path="place_path", household="household_id"),
        m.Isolation: ScopeRule(record_path="place_path", household="household_id"),
        m.CheckIn: ScopeRule(record_path="isolation__place_path", household="isolation__household_id"),
        m.MissedCheckIn: ScopeRule(record_path="isolation__place_path", household="isolation__household_id"),
        m.ChecklistCompletion: ScopeRule(record_path="place_path", household="household_id"),
    },
    task_households=(_visit_households,),
    audit_events=EmergencyEvent,
    periodic_jobs=("emergency_flag_missed",),
    demo_load=demo_load,
    crei_indicators=INDICATORS,
    work_items=work_items,
    glance=glance,
    job_labels={"emergency_flag_missed": _("Flag missed check-ins")},
)
