"""What the alerts app contributes to the platform (see civicgrid.core.plugins)."""

from django.utils.translation import gettext_lazy as _

from civicgrid.alerts.crei import INDICATORS, TALLIES
from civicgrid.alerts.events import AlertEvent
from civicgrid.alerts.models import Acknowledgement, Alert, Clarification, Delivery
from civicgrid.alerts.work import glance, work_items
from civicgrid.core.plugins import AppPlugin, NavItem
from civicgrid.core.scoping import ScopeRule

_ALL_ROLES = ("district_official", "community_director", "grid_member", "org_staff", "volunteer", "resident")

PLUGIN = AppPlugin(
    urls=True,
    api=True,
    nav=(
        NavItem("alerts:notices", _("Notices"), "alerts", 6),
        NavItem("alerts:list", _("Alerts"), "alerts_publish", 31),
    ),
    access={role: ("alerts", "alerts_publish") if role in {"district_official", "community_director", "grid_member"}
            else ("alerts",) for role in _ALL_ROLES},
    # An alert is seen from inside its area and from the places containing it.
    scope_rules={
        Alert: ScopeRule(serving_area_path="area_path"),
        Delivery: ScopeRule(via=("alert", Alert)),
        Acknowledgement: ScopeRule(via=("alert", Alert)),
        Clarification: ScopeRule(via=("alert", Alert)),
    },
    audit_events=AlertEvent,
    periodic_jobs=("alerts_send",),
    crei_indicators=INDICATORS,
    tallies=TALLIES,
    work_items=work_items,
    glance=glance,
    job_labels={"alerts_send": _("Send queued alerts"),
                "civicgrid.alerts.outbox.send_job": _("Send a published alert")},
)
