"""The plugin contract: every app passes it, and a mistake in a declaration stops the start-up."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from civicgrid.core import audit, plugins
from civicgrid.core.plugins import AppPlugin, CivicgridApp, NavItem, check_plugins
from civicgrid.core.scoping import ROLES, access, rule_for
from civicgrid.relief.need_sink import ReliefNeedSink

# The role grants as the platform had them in one shared table before each app declared its own
# (core/scoping.py at commit d4db924): the declarations must add up to exactly this.
_MANAGERS = {"places", "households", "residents", "actors", "people", "audit", "import", "export", "edit", "cases",
             "cases_manage", "relief", "relief_manage", "emergency", "emergency_manage", "alerts", "alerts_publish",
             "analytics"}
BEFORE = {
    "district_official": _MANAGERS,
    "community_director": _MANAGERS,
    "grid_member": {"places", "households", "residents", "actors", "people", "export", "edit", "cases", "relief",
                    "emergency", "alerts", "alerts_publish"},
    "org_staff": {"places", "households", "residents", "actors", "cases", "relief", "alerts"},
    "volunteer": {"households", "residents", "actors", "relief", "alerts"},
    "resident": {"households", "residents", "actors", "cases", "relief", "alerts"},
}


def _civicgrid_apps() -> list[Any]:
    return [c for c in apps.get_app_configs() if c.name.startswith("civicgrid.") and c.label != "core"]


@pytest.mark.parametrize("label", [c.label for c in _civicgrid_apps()])
def test_every_app_declares_its_plugin(label: str) -> None:
    config = apps.get_app_config(label)
    assert isinstance(config, CivicgridApp), f"{config.name}'s AppConfig must subclass CivicgridApp"
    assert isinstance(plugins.plugins()[label], AppPlugin)


def test_the_declarations_hold_together() -> None:
    assert check_plugins() == []


def test_role_grants_add_up_to_the_former_table() -> None:
    granted = access()
    for role in ROLES:
        assert granted[role] >= BEFORE[role], role
    # what was added since is named here, so a grant cannot appear unnoticed
    grievances = {"grievances", "grievances_handle", "grievances_review"}  # issue 13: complaints and appeals
    mediation = {"mediation", "mediation_manage"}  # issue 13: dispute mediation
    added = {"district_official": {"jobs", "simulation"} | grievances | mediation,  # Jobs page; what-if page
             "community_director": {"jobs", "simulation"} | grievances | mediation,
             "grid_member": {"grievances", "grievances_handle", "mediation"},
             "resident": {"grievances"},
             "org_staff": {"emergency"}}  # issue 10: the emergency tasks given to their organisation
    council = {"district_official": {"council", "council_manage"}, "community_director": {"council", "council_manage"},
               "grid_member": {"council"}, "org_staff": {"council"}, "resident": {"council"}}  # issue 13 §2-3
    added = {r: added.get(r, set()) | council.get(r, set()) for r in ROLES}
    # issue 12: volunteers' profiles, hours and care visits; coordinators manage them (approve, pair, transfer)
    for role, resources in {"district_official": {"volunteers", "volunteers_manage"},
                            "community_director": {"volunteers", "volunteers_manage"},
                            "grid_member": {"volunteers", "volunteers_manage"}, "org_staff": {"volunteers"},
                            "volunteer": {"volunteers"}}.items():
        added[role] = added.get(role, set()) | resources
    # issue 13: the community fund (everyone reads their community's; coordinators manage; grid members and
    # coordinators hand out ballot codes and enter paper ballots)
    fund = {"district_official": {"fund", "fund_manage", "fund_codes"},
            "community_director": {"fund", "fund_manage", "fund_codes"}, "grid_member": {"fund", "fund_codes"},
            "org_staff": {"fund"}, "volunteer": {"fund"}, "resident": {"fund"}}
    added = {r: added.get(r, set()) | fund[r] for r in ROLES}
    # issue 12: the register of social organisations (coordinators manage; grid members and staff read)
    social = {"district_official": {"social", "social_manage"}, "community_director": {"social", "social_manage"},
              "grid_member": {"social"}, "org_staff": {"social"}}
    added = {r: added.get(r, set()) | social.get(r, set()) for r in ROLES}
    # issue 12 §4: officials and directors buy services, staff apply, grid members review
    for role, resources in {"district_official": {"procurement", "procurement_manage"},
                            "community_director": {"procurement", "procurement_manage"},
                            "grid_member": {"procurement"}, "org_staff": {"procurement"}}.items():
        added[role] = added.get(role, set()) | resources
    assert {r: set(granted[r]) - BEFORE[r] for r in ROLES} == {r: added.get(r, set()) for r in ROLES}


def test_every_audit_event_is_registered_and_named_after_its_app() -> None:
    names = [name for name, _label in audit.event_choices()]
    assert len(names) == len(set(names)) > 30
    labels = {c.label for c in _civicgrid_apps()}
    assert {n.split(".")[0] for n in names} <= labels


def test_scope_rules_are_declared_for_every_scoped_model() -> None:
    from civicgrid.cases.models import Case
    from civicgrid.emergency.models import SweepVisit
    from civicgrid.registry.models import Household
    from civicgrid.relief.models import Need

    for model in (Case, SweepVisit, Household, Need):
        assert rule_for(model) is not None


def test_relief_provides_the_need_sink() -> None:
    assert isinstance(plugins.need_sink(), ReliefNeedSink)


# --- a mistake fails loudly ------------------------------------------------------------------------
def _check(plugin: AppPlugin, label: str = "cases") -> None:
    plugins._check(apps.get_app_config(label), plugin)


def test_a_misspelt_field_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        AppPlugin(periodic_job=("cases_escalate",))  # type: ignore[call-arg]


def test_an_unknown_periodic_job_stops_the_start() -> None:
    with pytest.raises(ImproperlyConfigured, match="cases_escalat"):
        _check(AppPlugin(urls=True, api=True, periodic_jobs=("cases_escalat",)))


def test_a_declared_module_that_is_missing_stops_the_start() -> None:
    with pytest.raises(ImproperlyConfigured, match="api"):
        _check(AppPlugin(urls=True, api=True), label="analytics")


def test_an_existing_module_that_is_not_declared_stops_the_start() -> None:
    with pytest.raises(ImproperlyConfigured, match="urls"):
        _check(AppPlugin(api=True))


def test_an_event_outside_the_app_namespace_stops_the_start() -> None:
    from django.db import models

    class Events(models.TextChoices):
        DONE = "relief.done", "done"

    with pytest.raises(ImproperlyConfigured, match="relief.done"):
        _check(AppPlugin(urls=True, api=True, audit_events=Events))


def test_an_indicator_missing_from_the_app_catalogue_stops_the_start() -> None:
    with pytest.raises(ImproperlyConfigured, match="cases_on_tim"):
        _check(AppPlugin(urls=True, api=True, crei_indicators={"cases_on_tim": lambda units: None}))


def test_a_second_need_sink_or_a_drifted_signature_stops_the_start() -> None:
    with pytest.raises(ImproperlyConfigured, match="already provided"):
        _check(AppPlugin(urls=True, api=True, need_sink=ReliefNeedSink()))

    class Drifted(ReliefNeedSink):
        def file(self, *, user: Any, scope: Any, household_id: int, item: str, amount: int, key: str,  # type: ignore[override]
                 urgency: str, note: str, channel: str) -> int:
            return 0

    relief = plugins._PLUGINS.pop("relief")
    try:
        with pytest.raises(ImproperlyConfigured, match="NeedSink.file"):
            _check(AppPlugin(urls=True, api=True, need_sink=Drifted()))
    finally:
        plugins._PLUGINS["relief"] = relief


def test_a_menu_item_naming_no_page_or_no_granted_resource_is_reported() -> None:
    cases = plugins._PLUGINS["cases"]
    plugins._PLUGINS["cases"] = dataclasses.replace(cases, nav=(NavItem("cases:lst", "x", "cases"),
                                                                NavItem("cases:list", "x", "cases_admin")))
    try:
        problems = check_plugins()
    finally:
        plugins._PLUGINS["cases"] = cases
    assert any("cases:lst" in p for p in problems) and any("cases_admin" in p for p in problems)


@pytest.mark.django_db
def test_an_unregistered_audit_event_is_refused() -> None:
    from django.db import transaction

    from civicgrid.registry.models import Place

    with transaction.atomic(), pytest.raises(ValueError, match="unknown audit event"):
        audit.record(user=None, event="registry.household_moved", instance=Place.objects.first(), new={})
