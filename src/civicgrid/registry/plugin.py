"""What the registry contributes to the platform (see civicgrid.core.plugins)."""

from django.utils.translation import gettext_lazy as _

from civicgrid.core.models import AuditLog
from civicgrid.core.plugins import AppPlugin, NavItem
from civicgrid.core.scoping import STAFF_ROLES, ScopeRule
from civicgrid.registry.crei import REGISTRY_INDICATORS
from civicgrid.registry.crei import TALLIES as REGISTRY_TALLIES
from civicgrid.registry.events import RegistryEvent
from civicgrid.registry.models import Actor, Household, Person, Place, Post, Resident
from civicgrid.registry.work import glance

_EVERYTHING = ("places", "households", "residents", "actors", "people", "audit", "import", "export", "edit")

PLUGIN = AppPlugin(
    urls=True,
    api=True,
    nav=(
        NavItem("registry:places", _("Places"), "places", 10),
        NavItem("registry:households", _("Households"), "households", 11, roles=STAFF_ROLES),
        NavItem("registry:actors", _("Actors"), "actors", 12, roles=STAFF_ROLES),
        NavItem("registry:import", _("Import"), "import", 80),
        NavItem("registry:export", _("Export"), "export", 81),
        NavItem("registry:audit", _("Audit log"), "audit", 90),
    ),
    access={
        "district_official": _EVERYTHING,
        "community_director": _EVERYTHING,
        "grid_member": ("places", "households", "residents", "actors", "people", "export", "edit"),
        "org_staff": ("places", "households", "residents", "actors"),
        "volunteer": ("households", "residents", "actors"),
        "resident": ("households", "residents", "actors"),
    },
    scope_rules={
        Place: ScopeRule(area_path="path"),
        Household: ScopeRule(record_path="place_path", household="id"),
        Resident: ScopeRule(record_path="household__place_path", household="household_id"),
        Actor: ScopeRule(actor="id", serving_area_path="service_area__path"),
        Post: ScopeRule(via=("actor", Actor)),
        Person: ScopeRule(via=("posts__actor", Actor)),
        AuditLog: ScopeRule(record_path="place_path"),
    },
    audit_events=RegistryEvent,
    crei_indicators=REGISTRY_INDICATORS,
    tallies=REGISTRY_TALLIES,
    glance=glance,
)
