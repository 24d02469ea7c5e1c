"""Every page and every API operation of every app, asked by each of the six demo roles, answers as the
access table below says (issue 11, section 4).

The expectations are written here, not read from the code under test: ``GRANTS`` is the role table the
platform had before each app declared its own (``tests/platform/test_plugins.py``, ``BEFORE``) plus the
Jobs page, and ``ROUTES`` names the resource each route needs. Every route the URLconf and the API
declare must be in ``ROUTES`` (a new route without an entry fails ``test_every_route_is_in_the_table``).

For each role and route:

* a role without the route's resource is refused: 403 (a page shows the error page, the API answers JSON
  with a ``detail``), whatever the id, and before any check of the input;
* a role with the resource gets 200/302 for a GET and 200/201/302/400/409 for a POST with an empty body
  on an object it may see, and 404 on an object outside its scope (for the district, which sees all, an id
  that does not exist);
* nothing answers 500.

Parametrised routes are filled with objects made here in the session's generated community: community
C01 (the director's; the grid member's grid G01 and the resident's household are in it) and C02 (outside
every demo role but the district official and, for what serves the whole sub-district, the social
organisation's staff). Which roles see each object is written next to it, from the README's scope rules.
Every request runs in a savepoint that is rolled back, so no request changes what the next one finds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from tests.platform.factories import user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

# --- who may use what ------------------------------------------------------------------------------
USERS = {"district": "district_official", "director": "community_director", "grid": "grid_member",
         "orgstaff": "org_staff", "volunteer": "volunteer", "resident": "resident"}
_MANAGERS = {"places", "households", "residents", "actors", "people", "audit", "import", "export", "edit", "cases",
             "cases_manage", "relief", "relief_manage", "emergency", "emergency_manage", "alerts", "alerts_publish",
             "analytics", "jobs", "volunteers", "volunteers_manage", "simulation"}
GRANTS: dict[str, set[str]] = {
    # the register of social organisations and admission to an emergency are coordinators' (issue 12)
    "district": _MANAGERS | {"templates_edit", "fund", "fund_manage", "fund_codes", "social", "social_manage",
                             "procurement", "procurement_manage"},  # templates are district-wide (finding 10)
    "director": _MANAGERS | {"fund", "fund_manage", "fund_codes", "social", "social_manage", "procurement",
                             "procurement_manage"},
    "grid": {"places", "households", "residents", "actors", "people", "export", "edit", "cases", "relief",
             "emergency", "alerts", "alerts_publish", "volunteers", "volunteers_manage", "grievances",
             "grievances_handle", "mediation", "fund", "fund_codes", "social",
             "procurement"},  # procurement: as a named reviewer
    # social-organisation staff see the emergencies of the area they serve and the tasks given to them
    # (issue 10: "the emergency task assigned to their organisation is invisible"), and apply for admission
    "orgstaff": {"places", "households", "residents", "actors", "cases", "relief", "alerts", "emergency", "volunteers",
                 "fund", "social", "procurement"},
    "volunteer": {"households", "residents", "actors", "relief", "alerts", "volunteers", "fund"},
    "resident": {"households", "residents", "actors", "cases", "relief", "alerts", "grievances", "fund"},
}
# issue 13: complaints and appeals, dispute mediation
for _name in ("district", "director"):
    GRANTS[_name] |= {"grievances", "grievances_handle", "grievances_review", "mediation", "mediation_manage"}
ANY = "any logged-in user"  # pages every role has (home, account, notices)
PUBLIC = "public"  # no log-in at all (health, public alerts, static script)
# issue 13 §2-3: council meetings, decisions and covenants (the council app)
for _user in ("district", "director", "grid", "orgstaff", "resident"):
    GRANTS[_user].add("council")
GRANTS["district"].add("council_manage")
GRANTS["director"].add("council_manage")
for _grants in GRANTS.values():
    _grants.add(ANY)
    _grants.add(PUBLIC)


@dataclass(frozen=True)
class R:
    """A route's entry: the resource it needs, the methods to try and the kind of object its ids name."""

    resource: str
    methods: tuple[str, ...] = ("GET",)
    kind: str | None = None  # key of the objects table; None = no id in the path
    # a different resource for the POST (a page whose GET shows and whose POST manages)
    post_resource: str | None = None
    # the API's POST body: empty, except where the path names a record (then a body of the right shape but
    # wrong content, so that the record is looked up before the content is refused: 404 before 400)
    body: str = "{}"
    form: tuple[tuple[str, str], ...] = ()  # likewise for a page's POST ({stop_id} is filled in)


G, P, GP = ("GET",), ("POST",), ("GET", "POST")

# Pages by URL name; API operations by "METHOD /api/<app>/<path>" as in the OpenAPI schema.
ROUTES: dict[str, R] = {
    # the site
    "home": R(ANY), "home:text_size": R(PUBLIC, P), "login": R(PUBLIC), "logout": R(PUBLIC, P), "set_language": R(PUBLIC, P),
    "accounts:password_change": R(ANY, GP),
    # registry
    "registry:places": R("places"), "registry:place": R("places", G, "place"),
    "registry:households": R("households"), "registry:household_suggest": R("households"),
    "registry:household": R("households", G, "household"),
    "registry:household_edit": R("edit", GP, "household"),
    "registry:resident_add": R("edit", GP, "household"),
    "registry:resident_edit": R("edit", GP, "resident"),
    "registry:actors": R("actors"), "registry:actor": R("actors", G, "actor"),
    "registry:import": R("import", GP), "registry:import_template": R("import"),
    "registry:export": R("export", GP), "registry:audit": R("audit"),
    # cases
    "cases:list": R("cases"), "cases:new": R("cases", GP), "cases:figures": R("cases"),
    "cases:detail": R("cases", G, "case"), "cases:act": R("cases", P, "case"),
    "cases:photo": R("cases", G, "case"),
    # emergency
    "emergency:index": R("emergency"), "emergency:now": R("emergency"),
    "emergency:activate": R("emergency_manage", P),
    "emergency:detail": R("emergency", G, "emergency"),
    "emergency:deactivate": R("emergency_manage", P, "emergency"),
    "emergency:sweep_start": R("emergency_manage", P, "emergency"),
    "emergency:task_done": R("emergency", P, "live_task"),
    "emergency:drill_start": R("emergency_manage", P),
    "emergency:drill": R("emergency", GP, "drill", post_resource="emergency_manage"),
    "emergency:plans": R("emergency"), "emergency:plan": R("emergency", G, "plan"),
    "emergency:plan_edit": R("templates_edit", GP, "plan"),
    "emergency:checklist_template": R("emergency", GP, "checklist", post_resource="templates_edit"),
    "emergency:checklist_overview": R("emergency", G, "checklist"),
    "emergency:sheet": R("residents", GP, "sheet"),
    "emergency:sweep": R("emergency", G, "sweep"),
    "emergency:sweep_print": R("emergency", G, "sweep_grid"),
    "emergency:visit": R("households", GP, "visit"),  # also volunteers given the visit
    "emergency:isolations": R("residents", GP, post_resource="emergency"),
    "emergency:isolation": R("residents", GP, "isolation"),
    # alerts: the list is the publishers'; anyone else opening it is sent to their notices (302)
    "alerts:list": R("alerts"), "alerts:new": R("alerts_publish", GP),
    "alerts:feed": R(PUBLIC), "alerts:detail": R("alerts", G, "alert"),
    "alerts:cap": R(PUBLIC, G, "public_alert"), "alerts:ack": R("alerts", P, "alert_ack"),
    "alerts:clarify": R("alerts_publish", P, "alert"),
    "alerts:notices": R(ANY), "alerts:notices_read": R(ANY, P),
    # relief
    "relief:needs": R("relief"), "relief:need_new": R("relief", GP), "relief:need": R("relief", G, "need"),
    "relief:need_cancel": R("relief", P, "need_filing"), "relief:my_needs": R(ANY),
    "relief:stock": R("relief", GP, post_resource="relief_manage"), "relief:ledger": R("relief"),
    "relief:offers": R("relief", GP), "relief:offer_step": R("relief_manage", P, "offer"),
    "relief:rounds": R("relief_manage"), "relief:round_preview": R("relief_manage", GP),
    "relief:round": R("relief_manage", G, "round"),
    "relief:round_confirmation": R("relief_manage", G, "round_confirmation"),
    "relief:tasks": R("relief"), "relief:task": R("relief", G, "relief_task"),
    "relief:task_claim": R("relief", P, "claim_task"), "relief:task_release": R("relief", P, "held_task"),
    "relief:task_assign": R("relief_manage", P, "relief_task"),
    "relief:stop_new_code": R("relief_manage", P, "stop"),
    "relief:stop_deliver": R("relief", P, "held_stop", form=(("s{stop_id}-code", "000000"),)),
    "relief:stop_fail": R("relief", P, "held_stop", form=(("f{stop_id}-reason", "not_home"),)),
    "relief:stop_call": R("relief", P, "held_stop"),
    # council (issue 13 §2-3)
    "council:meetings": R("council"), "council:meeting_new": R("council_manage", GP),
    "council:meeting": R("council", G, "meeting"),
    "council:agenda_add": R("council_manage", P, "meeting"), "council:invite": R("council_manage", P, "meeting"),
    "council:attend": R("council_manage", P, "meeting"), "council:minutes": R("council_manage", P, "meeting"),
    "council:close": R("council_manage", P, "meeting"), "council:poll_open": R("council_manage", P, "meeting"),
    "council:decide": R("council_manage", P, "meeting"),
    "council:checkin": R("council", GP, "checkin"),
    "council:vote": R("council", P, "poll"), "council:poll_close": R("council_manage", P, "poll"),
    "council:decisions": R("council"),
    "council:publish": R("council_manage", P, "decision"), "council:decision_case": R("council_manage", P, "decision"),
    "council:covenants": R("council"), "council:covenant_new": R("council_manage", P),
    "council:covenant": R("council", G, "covenant"), "council:version_draft": R("council_manage", P, "covenant"),
    "council:version": R("council", G, "version"), "council:clause_save": R("council_manage", P, "version"),
    "council:version_adopt": R("council_manage", P, "version"), "council:version_sign": R("council", P, "sign_version"),
    "council:clause_comment": R("council", P, "clause"),
    # volunteers
    "volunteers:home": R("volunteers"), "volunteers:register": R("volunteers_manage", GP),
    "volunteers:profile": R("volunteers", G, "volunteer"), "volunteers:certificate": R("volunteers", G, "volunteer"),
    "volunteers:certificate_grant": R("volunteers_manage", P, "volunteer"),
    "volunteers:hours": R("volunteers", GP), "volunteers:hours_decide": R("volunteers_manage", P, "hours_entry"),
    "volunteers:visits": R("volunteers", GP, post_resource="volunteers_manage"),
    "volunteers:visit": R("volunteers", G, "care_visit"),
    "volunteers:visit_claim": R("volunteers", P, "claim_visit"),
    "volunteers:visit_record": R("volunteers", P, "held_visit"),
    "volunteers:helpers": R("volunteers_manage", GP),
    "volunteers:timebank": R("volunteers", GP, post_resource="volunteers_manage"),
    # grievances and mediation (issue 13)
    "grievances:list": R("grievances"), "grievances:new": R("grievances", GP), "grievances:rates": R("grievances"),
    "grievances:detail": R("grievances", G, "grievance"), "grievances:act": R("grievances", P, "grievance"),
    "grievances:appeal": R("grievances", P, "grievance"), "grievances:decide": R("grievances_review", P, "appeal"),
    "mediation:list": R("mediation"), "mediation:new": R("mediation_manage", GP), "mediation:export": R("mediation"),
    "mediation:detail": R("mediation", G, "mediation"), "mediation:act": R("mediation", P, "mediation"),
    # fund (the ballot page needs no log-in: the household's code is the credential)
    "fund:index": R("fund", GP, post_resource="fund_manage"), "fund:fund": R("fund", GP, "fund", post_resource="fund_manage"),
    "fund:round": R("fund", G, "fund_round"), "fund:propose": R("fund", GP, "fund_round"),
    "fund:advance": R("fund_manage", P, "fund_round"), "fund:publish": R("fund_manage", P, "fund_round"),
    "fund:codes": R("fund_codes", GP, "fund_round"), "fund:paper": R("fund_codes", GP, "fund_round"),
    "fund:vote": R(PUBLIC, GP, "fund_public_round"), "fund:cosign": R("fund", P, "fund_proposal"),
    "fund:review": R("fund_manage", P, "fund_proposal"), "fund:spend": R("fund_manage", P, "fund_proposal"),
    # social organisations (issue 12)
    "social:organisations": R("social"), "social:register": R("social_manage", GP),
    "social:organisation": R("social", G, "organisation"),
    "social:verify": R("social_manage", P, "organisation"), "social:stage": R("social_manage", P, "organisation"),
    "social:assess": R("social_manage", GP, "organisation"),
    "social:training": R("social_manage", P, "organisation"), "social:funding": R("social_manage", P, "organisation"),
    "social:complain": R("social", P, "organisation"),
    "social:complaint_resolve": R("social_manage", P, "org_complaint"),
    "social:admissions": R("social", GP), "social:decide": R("social_manage", P, "admission"),
    "social:board": R("social"), "social:board_export": R("social"),
    # procurement (government purchase of services)
    "procurement:calls": R("procurement"), "procurement:contracts": R("procurement"),
    "procurement:payments": R("procurement"),
    "procurement:appropriation_new": R("procurement_manage", GP), "procurement:call_new": R("procurement_manage", GP),
    "procurement:call": R("procurement", G, "call"), "procurement:ocds": R("procurement", G, "call"),
    "procurement:call_reviewer": R("procurement_manage", P, "call"),
    "procurement:apply": R("procurement", GP, "call"), "procurement:award": R("procurement_manage", GP, "call"),
    "procurement:application": R("procurement", G, "application"),
    "procurement:application_score": R("procurement", P, "score_application"),
    "procurement:contract": R("procurement", G, "contract"),
    "procurement:milestone_decide": R("procurement", P, "milestone"),
    "procurement:milestone_pay": R("procurement_manage", P, "milestone"),
    # analytics and ops
    "analytics:governance": R("analytics"), "analytics:crei": R("analytics"), "analytics:plotly_js": R(PUBLIC),
    "evaluation:what_changed": R("analytics", GP), "evaluation:comparison": R("analytics", G, "comparison"),
    "evaluation:rerun": R("analytics", P, "comparison"),
    "ops:jobs": R("jobs"), "ops:healthz": R(PUBLIC), "ops:readyz": R(PUBLIC),
    "simulation:index": R("simulation", ("GET", "POST")), "simulation:run": R("simulation", ("GET",), "what_if"),
    "simulation:rerun": R("simulation", ("POST",), "what_if"),
    # the API's own pages
    "api:openapi-json": R(PUBLIC), "api:openapi-view": R(PUBLIC),
    # --- API operations
    "GET /api/registry/places": R("places"), "GET /api/registry/places/{place_id}": R("places", G, "place"),
    "GET /api/registry/households": R("households"),
    "GET /api/registry/households/{household_id}": R("households", G, "household"),
    "GET /api/registry/residents": R("residents"),
    "GET /api/registry/residents/{resident_id}": R("residents", G, "resident"),
    "GET /api/registry/actors": R("actors"), "GET /api/registry/actors/{actor_id}": R("actors", G, "actor"),
    "GET /api/registry/people": R("people"), "GET /api/registry/people/{person_id}": R("people", G, "person"),
    "GET /api/registry/audit": R("audit"),
    "GET /api/cases/cases": R("cases"), "POST /api/cases/cases": R("cases", P),
    "GET /api/cases/cases/{case_id}": R("cases", G, "case"),
    "POST /api/cases/cases/{case_id}/act": R("cases", P, "case", body='{"action": "no-such-action"}'),
    "GET /api/cases/figures": R("cases"),
    "GET /api/emergency/modes": R("emergency"),
    "GET /api/emergency/emergencies/{emergency_id}": R("emergency", G, "emergency"),
    "GET /api/emergency/emergencies/{emergency_id}/tasks": R("emergency", G, "emergency"),
    "POST /api/emergency/activate": R("emergency_manage", P),
    "GET /api/emergency/sweeps/{sweep_id}/progress": R("emergency", G, "sweep"),
    "GET /api/alerts/mine": R("alerts"), "GET /api/alerts/area": R("alerts_publish"),
    "POST /api/alerts/{alert_id}/ack": R("alerts", P, "alert_ack"),
    "POST /api/relief/needs": R("relief", P), "GET /api/relief/needs": R("relief"),
    "GET /api/relief/needs/{need_id}": R("relief", G, "need"),
    "GET /api/relief/tasks": R("relief"), "GET /api/relief/tasks/{task_id}": R("relief", G, "relief_task"),
    "POST /api/relief/tasks/{task_id}/claim": R("relief", P, "claim_task"),
    "POST /api/relief/tasks/{task_id}/release": R("relief", P, "held_task"),
    "POST /api/relief/stops/{stop_id}/deliver": R("relief", P, "held_stop", body='{"code": "000000"}'),
    "POST /api/relief/stops/{stop_id}/fail": R("relief", P, "held_stop", body='{"reason": "not_home"}'),
    "POST /api/relief/stock/issue": R("relief_manage", P),
    # allocation rounds: who may use the allocation pages (relief:round_preview, relief:round, ...)
    "POST /api/relief/rounds/preview": R("relief_manage", P), "POST /api/relief/rounds/confirm": R("relief_manage", P),
    "GET /api/relief/rounds/confirmations": R("relief_manage"),
    "GET /api/relief/rounds/confirmations/{confirmation_id}": R("relief_manage", G, "round_confirmation"),
    "GET /api/relief/rounds/{round_id}": R("relief_manage", G, "round"),
    "GET /api/council/meetings": R("council"), "GET /api/council/meetings/{meeting_id}": R("council", G, "meeting"),
    "POST /api/council/checkin": R("council", P),
    "POST /api/council/polls/{poll_id}/vote": R("council", P, "poll", body='{"choice": "yes"}'),
    "GET /api/council/decisions": R("council"),
    "POST /api/council/decisions/{decision_id}/case": R("council_manage", P, "decision",
                                                         body='{"category_id": 987654321, "place_id": 987654321}'),
    "GET /api/council/covenants/{covenant_id}": R("council", G, "covenant"),
    "POST /api/council/versions/{version_id}/sign": R("council", P, "sign_version"),
    "POST /api/council/versions/{version_id}/adopt": R("council_manage", P, "version",
                                                        body='{"decision_id": 987654321}'),
    "GET /api/volunteers/visits": R("volunteers"),
    "POST /api/volunteers/visits/{visit_id}/claim": R("volunteers", P, "claim_visit"),
    "POST /api/volunteers/visits/{visit_id}/record": R("volunteers", P, "held_visit",
                                                        body='{"outcome": "well", "minutes": 30}'),
    "GET /api/volunteers/hours": R("volunteers"), "POST /api/volunteers/hours": R("volunteers", P),
    "POST /api/volunteers/hours/{entry_id}/decide": R("volunteers_manage", P, "hours_entry",
                                                      body='{"approved": false}'),
    "GET /api/volunteers/coverage": R("volunteers_manage"),
    "POST /api/volunteers/time-transfers": R("volunteers_manage", P),
    "GET /api/grievances/grievances": R("grievances"), "POST /api/grievances/grievances": R("grievances", P),
    "GET /api/grievances/grievances/{grievance_id}": R("grievances", G, "grievance"),
    "POST /api/grievances/grievances/{grievance_id}/act": R("grievances", P, "grievance",
                                                            body='{"action": "no-such-action"}'),
    "GET /api/grievances/rates": R("grievances"),
    "GET /api/mediation/cases": R("mediation"), "GET /api/mediation/cases/{case_id}": R("mediation", G, "mediation"),
    "GET /api/fund/rounds": R("fund"), "GET /api/fund/rounds/{round_id}": R("fund", G, "fund_round"),
    "POST /api/fund/rounds/{round_id}/ballot": R(PUBLIC, P, "fund_public_round",
                                                 body='{"code": "AAAA-AAAA-AAAA", "choices": [1], "revision": 0}'),
    "POST /api/fund/proposals/{proposal_id}/spending": R("fund_manage", P, "fund_proposal", body='{"amount_fen": 1}'),
    "GET /api/social/organisations": R("social"), "POST /api/social/organisations": R("social_manage", P),
    "GET /api/social/organisations/{organisation_id}": R("social", G, "organisation"),
    "POST /api/social/organisations/{organisation_id}/verification": R(
        "social_manage", P, "organisation", body='{"state": "verified", "reason": ""}'),
    "POST /api/social/organisations/{organisation_id}/stage": R(
        "social_manage", P, "organisation", body='{"to_stage": "growing", "on": "2026-01-01", "reason": ""}'),
    "POST /api/social/admissions": R("social", P),
    "POST /api/social/admissions/{admission_id}/decision": R("social_manage", P, "admission",
                                                             body='{"admit": false, "reason": ""}'),
    "GET /api/social/board": R("social"),
    "GET /api/procurement/calls": R("procurement"),
    "GET /api/procurement/calls/{call_id}": R("procurement", G, "call"),
    "GET /api/procurement/calls/{call_id}/ocds": R("procurement", G, "call"),
    "GET /api/procurement/calls/{call_id}/applications": R("procurement", G, "call"),
    "POST /api/procurement/calls/{call_id}/applications": R(
        "procurement", P, "call", body='{"organisation_id": 987654321, "amount_fen": 1, "proposal": "x"}'),
    "POST /api/procurement/applications/{application_id}/score": R("procurement", P, "score_application",
                                                                    body='{"marks": {}}'),
    "POST /api/procurement/milestones/{milestone_id}/decide": R("procurement", P, "decide_milestone",
                                                                 body='{"accept": true}'),
    "POST /api/procurement/milestones/{milestone_id}/pay": R("procurement_manage", P, "milestone"),
}


# --- every route the site declares -----------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    key: str
    template: str  # a path with {name} placeholders
    methods: tuple[str, ...] = ()  # API operations: the method; pages: none (the table says)


def _pages(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            if ns == "api":  # the API's operations come from its schema; its own pages are below
                for sub in entry.url_patterns:
                    if isinstance(sub, URLPattern) and sub.name in {"openapi-json", "openapi-view"}:
                        yield Route(f"api:{sub.name}", "/" + prefix + route + str(sub.pattern))
                continue
            yield from _pages(entry.url_patterns, prefix + route, ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace else str(entry.name)
            path = "/" + prefix + route
            yield Route(name, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path))


def _api() -> Iterator[Route]:
    from civicgrid.config.api import api

    for path, operations in api.get_openapi_schema()["paths"].items():
        for method in operations:
            yield Route(f"{method.upper()} {path}", path, (method.upper(),))


def every_route() -> list[Route]:
    return list(_pages(get_resolver().url_patterns)) + list(_api())


def test_every_route_is_in_the_table() -> None:
    """A route added without deciding who may use it fails here; so does an entry for a route gone."""
    keys = [r.key for r in every_route()]
    assert len(keys) == len(set(keys)), "two routes share a name"
    assert sorted(set(keys) - set(ROUTES)) == [], "routes missing from ROUTES"
    assert sorted(set(ROUTES) - set(keys)) == [], "ROUTES names routes that no longer exist"
    for key, entry in ROUTES.items():
        assert entry.resource in GRANTS["district"], (key, entry.resource)
        if key.startswith(("GET ", "POST ")):
            assert entry.methods == (key.split()[0],), key


# --- the objects the ids name ----------------------------------------------------------------------
MISSING = 987_654_321  # an id that names nothing


@dataclass
class Candidate:
    ids: dict[str, int]  # path parameter -> id
    seen_by: set[str]  # the demo users who may see it (written from the scope rules, not computed)
    label: str = ""
    refused: set[str] = field(default_factory=set)  # users who see it but to whom the act is not theirs: 403
    query: str = ""  # what the page needs besides the path (a checklist sheet's household)


@dataclass
class World:
    kinds: dict[str, list[Candidate]] = field(default_factory=dict)

    def add(self, kind: str, ids: dict[str, int], seen_by: set[str], label: str = "", refused: set[str] | None = None,
            query: str = "") -> None:
        self.kinds.setdefault(kind, []).append(Candidate(ids, seen_by, label, refused or set(), query))

    def inside(self, kind: str, username: str) -> Candidate | None:
        return next((c for c in self.kinds[kind] if username in c.seen_by), None)

    def refused(self, kind: str, username: str) -> Candidate | None:
        return next((c for c in self.kinds[kind] if username in c.refused), None)

    def outside(self, kind: str, username: str) -> Candidate:
        found = next((c for c in self.kinds[kind] if username not in c.seen_by | c.refused), None)
        if found is not None:
            return found
        names = self.kinds[kind][0].ids
        return Candidate({n: MISSING for n in names}, set(), "missing")


ALL = set(USERS)


def _photo() -> Any:
    from io import BytesIO

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    data = BytesIO()
    Image.new("RGB", (4, 4), "red").save(data, "PNG")
    return SimpleUploadedFile("photo.png", data.getvalue(), content_type="image/png")


def _build_world() -> World:
    from civicgrid.accounts.roles import scope_for
    from civicgrid.alerts import services as alerts
    from civicgrid.alerts.models import Alert
    from civicgrid.cases.models import CaseCategory
    from civicgrid.cases.services import case_report
    from civicgrid.core.scoping import PLATFORM
    from civicgrid.emergency import services as emergency
    from civicgrid.emergency.models import ChecklistTemplate, LiveTask, PlanTemplate, SweepVisit
    from civicgrid.registry.models import Actor, Household, Person, Place
    from civicgrid.relief import services as relief
    from civicgrid.relief.models import DeliveryStop, DeliveryTask, Offer
    from tests.platform.relief_support import catalogue, key, point_for

    world = World()
    district = user("district")
    d_scope = scope_for(district)
    c01 = Place.objects.get(level="community", code__endswith="C01")
    c02 = Place.objects.get(level="community", code__endswith="C02")
    g01 = Place.objects.get(level="grid", code__endswith="C01-G01")
    home = user("resident").role.household  # in G01
    assert home.grid_id == g01.pk

    # registry (the social organisation serves the whole sub-district: C01 and C02)
    world.add("place", {"place_id": g01.pk}, {"district", "director", "grid", "orgstaff"}, "grid G01")
    world.add("place", {"place_id": c02.pk}, {"district", "orgstaff"}, "community C02")
    world.add("place", {"place_id": Place.objects.get(level="district").pk}, {"district"}, "the district")
    team = Actor.objects.get(pk=user("volunteer").role.person.posts.get().actor_id)  # serves C01
    world.add("actor", {"actor_id": team.pk}, ALL, "volunteer team of C01")
    other_actor = Actor.objects.filter(service_area__path__startswith=c02.path).order_by("code").first()
    world.add("actor", {"actor_id": other_actor.pk}, {"district", "orgstaff"}, "an actor of C02")
    grid_person = user("grid").role.person
    world.add("person", {"person_id": grid_person.pk}, {"district", "director", "grid"}, "the grid member")
    c02_person = Person.objects.exclude(posts__actor__service_area__path__startswith=c01.path).filter(
        posts__actor__service_area__path__startswith=c02.path).order_by("code").first()
    world.add("person", {"person_id": c02_person.pk}, {"district"}, "a person of C02 only")

    # relief: needs in G01, G02 and C02-G01; one confirmed round per community; the task of the resident's
    # building claimed by the volunteer, one task of G02 given to the social organisation
    items = catalogue()
    for community in (c01, c02):
        point = point_for(community)
        relief.stock_receive(user=None, scope=PLATFORM, item=items["food"], point=point, quantity=500, source="t")
        relief.offer_pledge(user=district, scope=d_scope, donor_id=team.pk if community == c01 else other_actor.pk,
                            item=items["water"], quantity=10, point_id=point.pk)
    g02_homes = list(Household.objects.filter(grid__code__endswith="C01-G02").order_by("code")[:3])
    c02_homes = list(Household.objects.filter(grid__code__endswith="C02-G01").order_by("code")[:3])
    needs = {}
    for h in [home, *g02_homes, *c02_homes]:
        needs[h.pk] = relief.need_file(user=district, scope=d_scope, household_id=h.pk, item=items["food"],
                                       quantity=2, key=key()).need
    rounds = {c.pk: relief.round_confirm(user=district, scope=d_scope, place_ids=[c.pk], item_codes=["t-food"],
                                         days=3, policy="equity", seed=1) for c in (c01, c02)}
    home_task = DeliveryTask.objects.get(stops__household=home)
    volunteer = user("volunteer")
    relief.delivery_task_claim(user=volunteer, scope=scope_for(volunteer), task_id=home_task.pk)
    org = user("orgstaff").role.actor
    org_task = DeliveryTask.objects.filter(stops__household__in=g02_homes).distinct().first()
    relief.delivery_task_assign(user=district, scope=d_scope, task_id=org_task.pk, organisation_id=org.pk)
    c02_task = DeliveryTask.objects.filter(round=rounds[c02.pk]).first()
    org_home = org_task.stops.order_by("id").first().household
    c02_home = c02_task.stops.order_by("id").first().household

    world.add("household", {"household_id": home.pk}, {"district", "director", "grid", "resident", "volunteer"},
              "the resident's household")
    world.add("household", {"household_id": org_home.pk}, {"district", "director", "orgstaff"},
              "a G02 household of the organisation's task")
    world.add("household", {"household_id": c02_home.pk}, {"district"}, "a C02 household")
    for kind_seen in world.kinds["household"]:
        resident = Household.objects.get(pk=kind_seen.ids["household_id"]).residents.order_by("id").first()
        world.add("resident", {"resident_id": resident.pk}, kind_seen.seen_by, kind_seen.label)
    for kind_seen in world.kinds["household"]:
        need = needs[kind_seen.ids["household_id"]]
        world.add("need", {"need_id": need.pk}, kind_seen.seen_by, kind_seen.label)
        # a need is filed and withdrawn by its household or the staff of its area, not by whoever delivers
        world.add("need_filing", {"need_id": need.pk}, kind_seen.seen_by - {"volunteer", "orgstaff"}, kind_seen.label)
    # a task is overseen in its area (the organisation's staff serve the whole sub-district), claimed by the
    # volunteers and staff of the organisation it is given to or that serves its area, and worked on (released,
    # delivered, called) only by its holder: anyone else who sees it is refused
    tasks = ((home_task, "the volunteer's claimed task in G01", {"district", "director", "grid", "volunteer", "orgstaff"},
              {"volunteer", "orgstaff"}, {"volunteer"}),
             (org_task, "the organisation's open task in G02", {"district", "director", "orgstaff"}, {"orgstaff"}, set()),
             (c02_task, "an open C02 task", {"district", "orgstaff"}, {"orgstaff"}, set()))
    for task, label, seen, claimers, holders in tasks:
        stop = DeliveryStop.objects.filter(task=task).order_by("id").first()
        ids = {"task_id": task.pk, "stop_id": stop.pk}
        world.add("relief_task", {"task_id": task.pk}, seen, label)
        world.add("stop", ids, seen, label)
        world.add("claim_task", {"task_id": task.pk}, claimers, label)
        world.add("held_task", {"task_id": task.pk}, holders, label, refused=seen - holders)
        world.add("held_stop", ids, holders, label, refused=seen - holders)
    world.add("round", {"round_id": rounds[c01.pk].pk}, {"district", "director", "grid", "orgstaff", "resident"},
              "the C01 round")
    world.add("round", {"round_id": rounds[c02.pk].pk}, {"district", "orgstaff"}, "the C02 round")
    # a confirmation queued as a job (no worker runs it here), seen where its places are, by who manages relief
    for community, seen in ((c01, {"district", "director"}), (c02, {"district"})):
        queued = relief.round_confirmation_request(user=district, scope=d_scope, place_ids=[community.pk],
                                                   item_codes=["t-food"], days=2, policy="equity", seed=1,
                                                   fingerprint="0" * 64, n_requests=1)
        world.add("round_confirmation", {"confirmation_id": queued.pk}, seen, f"a confirmation in {community.code}")
    offers = Offer.objects.filter(item=items["water"]).order_by("id")
    world.add("offer", {"offer_id": offers[0].pk}, {"district", "director", "grid", "orgstaff", "volunteer"},
              "an offer at C01's point from the volunteer team")
    world.add("offer", {"offer_id": offers[1].pk}, {"district", "orgstaff"}, "an offer at C02's point")

    # cases
    category = CaseCategory.objects.order_by("code").first()
    for h, seen in ((home, {"district", "director", "grid", "resident"}), (c02_home, {"district"})):
        case = case_report(user=None, scope=PLATFORM, category=category, description="matrix", household=h,
                           reporter_label="t", photo=_photo())
        world.add("case", {"case_id": case.pk}, seen, f"a case of {h.code}")

    # emergency: one active in each community with its tasks, sweep and drill; an isolation in each
    plan = PlanTemplate.objects.order_by("id").first()
    household_checklist = ChecklistTemplate.objects.filter(target=ChecklistTemplate.Target.HOUSEHOLD).order_by("id")[0]
    # the organisation serves the whole sub-district, so its staff see both communities' emergencies
    for community, seen in ((c01, {"district", "director", "grid", "orgstaff"}), (c02, {"district", "orgstaff"})):
        result = emergency.emergency_activate(user=district, scope=d_scope, community=community, plan=plan)
        e = result.emergency
        world.add("emergency", {"emergency_id": e.pk}, seen, f"emergency in {community.code}")
        task = LiveTask.objects.filter(emergency=e).order_by("id").first()
        world.add("live_task", {"task_id": task.pk}, seen, f"a live task in {community.code}")
        sweep = emergency.sweep_start(user=district, scope=d_scope, emergency=e)
        world.add("sweep", {"sweep_id": sweep.pk}, seen, f"the sweep of {community.code}")
        grid = (home if community == c01 else c02_home).grid
        world.add("sweep_grid", {"sweep_id": sweep.pk, "grid_id": grid.pk}, seen, f"a grid's sweep list in {community.code}")
        drill = emergency.drill_start(user=district, scope=d_scope, community=community, plan=plan)
        world.add("drill", {"drill_id": drill.pk}, seen, f"a drill in {community.code}")
    _social(world, district, d_scope, team, org_task, c02_task)
    for h, seen in ((home, {"district", "director", "grid", "resident"}), (c02_home, {"district"})):
        visit = SweepVisit.objects.get(household=h)
        # households given by a task are seen in every module (README: roles and scoping)
        world.add("visit", {"visit_id": visit.pk}, seen | ({"volunteer"} if h == home else set()),
                  f"the sweep visit of {h.code}")
        today = timezone.localdate()
        isolation = emergency.isolation_start(user=district, scope=d_scope, resident=h.residents.order_by("id").first(),
                                              start_date=today, end_date=today + timedelta(days=6))
        world.add("isolation", {"isolation_id": isolation.pk}, seen | ({"volunteer"} if h == home else set()),
                  f"an isolation in {h.code}")
        world.add("sheet", {"template_id": household_checklist.pk}, seen | ({"volunteer"} if h == home else set()),
                  f"the household checklist of {h.code}", query=f"?household={h.pk}")
    world.add("plan", {"plan_id": plan.pk}, ALL, "a plan template (district-wide)")
    world.add("checklist", {"template_id": ChecklistTemplate.objects.order_by("id").first().pk}, ALL,
              "a checklist template (district-wide)")

    # alerts: publishers see those of their area; everyone sees those sent to them (the C01 alert reaches the
    # resident's household and the C01 volunteer team), and only a recipient acknowledges
    for community, publishers, recipients in ((c01, {"district", "director", "grid"}, {"resident", "volunteer"}),
                                              (c02, {"district"}, set())):
        alert = alerts.alert_publish(user=district, scope=d_scope, area=community, headline_en="matrix",
                                     headline_zh="矩阵", description_en="matrix", description_zh="矩阵")
        world.add("alert", {"alert_id": alert.pk}, publishers | recipients, f"an alert to {community.code}")
        world.add("alert_ack", {"alert_id": alert.pk}, recipients, f"an alert to {community.code}",
                  refused=publishers)
    # fund: a round with one proposal in each community, seen where the community's residents and staff are
    from tests.platform.fund_support import funded, voting_round

    for community, seen in ((c01, {"district", "director", "grid", "orgstaff", "resident"}), (c02, {"district", "orgstaff"})):
        fund_round, (proposal,) = voting_round(funded(community), [100])
        world.add("fund", {"fund_id": fund_round.fund_id}, seen, f"the fund of {community.code}")
        world.add("fund_round", {"round_id": fund_round.pk}, seen, f"a round in {community.code}")
        world.add("fund_public_round", {"round_id": fund_round.pk}, ALL, f"the ballot page of {community.code}")
        world.add("fund_proposal", {"proposal_id": proposal.pk}, seen, f"a proposal in {community.code}")
    public = Alert.objects.filter(area=c02).order_by("id").first()
    world.add("public_alert", {"alert_id": public.pk}, ALL, "a public alert (CAP is public)")
    _council_world(world, district, c01, c02, home)
    _volunteers_world(world, c01=c01, c02=c02, g01=g01, home=home, c02_home=c02_home)

    # what-if runs: seen where their community is (the job is never run here: nothing commits)
    from civicgrid.simulation.services import run_request

    for community, seen in ((c01, {"district", "director"}), (c02, {"district"})):
        run = run_request(user=district, scope=d_scope, community_id=community.pk, scenario="lockdown",
                          policies=["equity"], runs=1)
        world.add("what_if", {"run_id": run.pk}, seen, f"a what-if run of {community.code}")
    # before/after comparisons: seen where their community is (queued only: nothing commits)
    from civicgrid.evaluation.services import comparison_request

    for community, seen in ((c01, {"district", "director"}), (c02, {"district"})):
        comparison = comparison_request(user=district, scope=d_scope, source="cases.reported",
                                        community_id=community.pk, day=timezone.localdate() - timedelta(days=30))
        world.add("comparison", {"comparison_id": comparison.pk}, seen, f"a comparison in {community.code}")
    _grievances_and_mediation(world, district, home, c02_home)
    _procurement_world(world, district, c01, c02)
    return world


def _council_world(world: World, district: Any, c01: Any, c02: Any, home: Any) -> None:
    """A meeting in each community (the C01 one inviting the resident's household, checked in, with an open
    poll and a published decision), and each community's covenant with a version in force. Residents see
    their community's; the social organisation's staff, who serve the whole sub-district, see both; votes
    and signatures are the resident's own or a manager's act: other staff who see them are refused."""
    from civicgrid.accounts.roles import scope_for
    from civicgrid.core.scoping import PLATFORM
    from civicgrid.council import services as council
    from civicgrid.council.checkin import checkin_code
    from civicgrid.council.models import Body
    from civicgrid.registry.models import Actor, Household

    d_scope = scope_for(district)
    council_users = {"district", "director", "grid", "orgstaff", "resident"}
    for community, seen in ((c01, council_users), (c02, {"district", "orgstaff"})):
        body = council.body_register(user=None, scope=PLATFORM, actor=Actor.objects.get(code=f"{community.code}-A02"),
                                     kind=Body.Kind.RESIDENTS_COMMITTEE)
        meeting = council.meeting_create(user=district, scope=d_scope, community=community, body=body, title="matrix",
                                         starts_at=timezone.now(), quorum=1)
        world.add("meeting", {"meeting_id": meeting.pk}, seen, f"a meeting in {community.code}")
        world.add("checkin", {"code": checkin_code(meeting_id=meeting.pk, nonce=meeting.checkin_nonce)}, seen,
                  f"the check-in code of a meeting in {community.code}")
        household = home if community == c01 else Household.objects.filter(place_path__startswith=community.path).first()
        council.meeting_invite(user=district, scope=d_scope, meeting=meeting, place=household.grid)
        council.attendance_mark(user=district, scope=d_scope, meeting=meeting, household_id=household.pk)
        decision = council.decision_record(user=district, scope=d_scope, meeting=meeting, title="matrix", text="m")
        council.decision_publish(user=district, scope=d_scope, decision=decision)
        world.add("decision", {"decision_id": decision.pk}, seen, f"a published decision in {community.code}")
        poll = council.poll_open(user=district, scope=d_scope, meeting=meeting, question="matrix")
        world.add("poll", {"poll_id": poll.pk}, seen - {"grid", "orgstaff"}, f"an open poll in {community.code}",
                  refused={"grid", "orgstaff"} & seen)
        voted = council.poll_open(user=district, scope=d_scope, meeting=meeting, question="adopt")
        council.vote_cast(user=district, scope=d_scope, poll=voted, choice="yes", household_id=household.pk)
        council.poll_close(user=district, scope=d_scope, poll=voted)
        adopting = council.decision_record(user=district, scope=d_scope, meeting=meeting, title="adopt", text="m",
                                           poll=voted)
        covenant = council.covenant_create(user=district, scope=d_scope, community=community, title="matrix",
                                           clauses=["one"])
        version = covenant.versions.get()
        council.version_adopt(user=district, scope=d_scope, version=version, decision=adopting)
        world.add("covenant", {"covenant_id": covenant.pk}, seen, f"the covenant of {community.code}")
        world.add("version", {"version_id": version.pk}, seen, f"the covenant in force in {community.code}")
        world.add("sign_version", {"version_id": version.pk}, seen - {"grid", "orgstaff"},
                  f"the covenant in force in {community.code}", refused={"grid", "orgstaff"} & seen)
        world.add("clause", {"clause_id": version.clauses.get().pk}, seen, f"a clause in force in {community.code}")


def _volunteers_world(world: World, *, c01: Any, c02: Any, g01: Any, home: Any, c02_home: Any) -> None:
    """The demo volunteer registered in G01 with the care course; a volunteer of C02; a manual entry of each;
    an open care visit in each community and one held by the demo volunteer."""
    from civicgrid.registry.models import Person
    from civicgrid.volunteers.models import CareVisit, Certificate, Course, HoursEntry, Volunteer

    mine = Volunteer.objects.create(person=user("volunteer").role.person, home=g01, place_path=g01.path,
                                    joined_on=timezone.localdate())
    course = Course.objects.create(code="m-care", name="care", required_for="care_visit")
    Certificate.objects.create(volunteer=mine, course=course, attended_on=timezone.localdate(),
                               expires_on=timezone.localdate() + timedelta(days=365))
    c02_grid = c02_home.grid
    theirs = Volunteer.objects.create(person=Person.objects.create(code="m-vol-c02", name="C02 volunteer"),
                                      home=c02_grid, place_path=c02_grid.path, joined_on=timezone.localdate())
    # volunteers are seen in their area (the organisation serves the sub-district) and by themselves
    world.add("volunteer", {"volunteer_id": mine.pk}, {"district", "director", "grid", "orgstaff", "volunteer"},
              "the demo volunteer in G01")
    world.add("volunteer", {"volunteer_id": theirs.pk}, {"district", "orgstaff"}, "a volunteer of C02")
    now = timezone.now()
    for v, seen in ((mine, {"district", "director", "grid"}), (theirs, {"district"})):
        entry = HoursEntry.objects.create(volunteer=v, source="manual", hours=1, on=timezone.localdate(), note="m",
                                          place_path=v.place_path, at=now)
        world.add("hours_entry", {"entry_id": entry.pk}, seen, f"hours typed by hand for {v}")
    resident = home.residents.order_by("id").first()
    c02_resident = c02_home.residents.order_by("id").first()
    due = timezone.localdate() + timedelta(days=2)
    open_c01 = CareVisit.objects.create(resident=resident, grid=g01, place_path=home.place_path, due_on=due)
    open_c02 = CareVisit.objects.create(resident=c02_resident, grid=c02_grid, place_path=c02_home.place_path, due_on=due)
    held = CareVisit.objects.create(resident=resident, grid=g01, place_path=home.place_path, due_on=due,
                                    status="claimed", visitor=mine.person, claimed_at=now)
    area = {"district", "director", "grid"}
    world.add("care_visit", {"visit_id": open_c01.pk}, area | {"volunteer"}, "an open care visit in G01")
    world.add("care_visit", {"visit_id": open_c02.pk}, {"district"}, "an open care visit in C02")
    # only a volunteer claims; coordinators who see the visit are refused (the page says why)
    world.add("claim_visit", {"visit_id": open_c01.pk}, {"volunteer"}, "an open care visit in G01", refused=area)
    world.add("claim_visit", {"visit_id": open_c02.pk}, set(), "an open care visit in C02", refused={"district"})
    world.add("held_visit", {"visit_id": held.pk}, {"volunteer"}, "the volunteer's care visit")


def _grievances_and_mediation(world: World, district: Any, home: Any, c02_home: Any) -> None:
    """Issue 13: a complaint of the resident's household (seen in its grid's chain and by the household) and
    one of C02, each decided and appealed; a mediation in G01 and one in C02."""
    from civicgrid.accounts.roles import scope_for
    from civicgrid.grievances import services as grievances
    from civicgrid.mediation import services as mediation

    d_scope = scope_for(district)
    resident = user("resident")
    for household, filer, seen in ((home, resident, {"district", "director", "grid", "resident"}),
                                   (c02_home, district, {"district"})):
        g = grievances.grievance_file(user=filer, scope=scope_for(filer), kind="decision", subject_ref="matrix",
                                      description="matrix", household=household)
        world.add("grievance", {"grievance_id": g.pk}, seen, f"a complaint of {household.code}")
        g = grievances.grievance_act(user=district, scope=d_scope, grievance=g, action="close", note="matrix")
        appeal = grievances.grievance_appeal(user=filer, scope=scope_for(filer), grievance=g, reason="matrix")
        world.add("appeal", {"grievance_id": g.pk, "appeal_id": appeal.pk}, seen & {"district", "director"},
                  f"an appeal of {household.code}")
    for household, seen in ((home, {"district", "director", "grid"}), (c02_home, {"district"})):
        case = mediation.case_open(user=district, scope=d_scope, category="neighbour", place=household.grid,
                                   summary="matrix")
        world.add("mediation", {"case_id": case.pk}, seen, f"a mediation in {household.grid.code}")


def _social(world: World, district: Any, d_scope: Any, team: Any, org_task: Any, c02_task: Any) -> None:
    """The organisation's staff's own organisation (serving the sub-district) in the register, with a complaint;
    C02's volunteer team too. With an emergency in force in both communities, the organisation is admitted for
    the deliveries of its tasks (only admitted organisations claim then) and applies for G01's care visits."""
    from civicgrid.core.places import ancestor_at
    from civicgrid.emergency.models import Emergency
    from civicgrid.registry.models import Actor, Place
    from civicgrid.social import services as social
    from tests.platform.social_support import fresh_code

    org = user("orgstaff").role.actor
    c02_team = Actor.objects.get(code=team.code.replace("C01", "C02"))
    registered = {}
    for actor in (org, c02_team):
        registered[actor.pk] = social.organisation_register(user=district, scope=d_scope, actor_id=actor.pk,
                                                            credit_code=fresh_code())
        social.organisation_verify(user=district, scope=d_scope, organisation_id=registered[actor.pk].pk,
                                   state="verified", reason="matrix")
    mine, theirs = registered[org.pk], registered[c02_team.pk]
    world.add("organisation", {"organisation_id": mine.pk}, {"district", "director", "grid", "orgstaff"},
              "the sub-district's organisation")
    world.add("organisation", {"organisation_id": theirs.pk}, {"district", "orgstaff"}, "C02's volunteer team")
    for organisation, seen in ((mine, {"district", "director", "grid", "orgstaff"}), (theirs, {"district", "orgstaff"})):
        complaint = social.complaint_file(user=district, scope=d_scope, organisation_id=organisation.pk, text="matrix")
        world.add("org_complaint", {"organisation_id": organisation.pk, "complaint_id": complaint.pk}, seen,
                  f"a complaint about {organisation}")
    for task in (org_task, c02_task):
        grid = Place.objects.get(path=ancestor_at(task.place_path, "grid"))
        emergency = Emergency.objects.get(community_id=grid.parent_id, status="active")
        row = social.admission_apply(user=district, scope=d_scope, emergency_id=emergency.pk, actor_id=org.pk,
                                     grid_ids=[grid.pk], service_kinds=["delivery"])[0]
        social.admission_decide(user=district, scope=d_scope, admission_id=row.pk, admit=True)
    g01 = Place.objects.get(level="grid", code__endswith="C01-G01")
    c01_emergency = Emergency.objects.get(community_id=g01.parent_id, status="active")
    pending = social.admission_apply(user=district, scope=d_scope, emergency_id=c01_emergency.pk, actor_id=org.pk,
                                     grid_ids=[g01.pk], service_kinds=["care_visit"])[0]
    world.add("admission", {"admission_id": pending.pk}, {"district", "director", "grid", "orgstaff"},
              "the organisation's application for G01")
    # the volunteer's own team (C01) is registered and admitted for G01's care visits: with an emergency in
    # force only admitted organisations' volunteers claim (the guard), so the volunteer's claim goes through
    team_org = social.organisation_register(user=district, scope=d_scope, actor_id=team.pk, credit_code=fresh_code())
    social.organisation_verify(user=district, scope=d_scope, organisation_id=team_org.pk, state="verified",
                               reason="matrix")
    row = social.admission_apply(user=district, scope=d_scope, emergency_id=c01_emergency.pk, actor_id=team.pk,
                                 grid_ids=[g01.pk], service_kinds=["care_visit"])[0]
    social.admission_decide(user=district, scope=d_scope, admission_id=row.pk, admit=True)
    c02_grid = Place.objects.filter(level="grid", parent__code__endswith="C02").order_by("code").first()
    c02_emergency = Emergency.objects.get(community_id=c02_grid.parent_id, status="active")
    other = social.admission_apply(user=district, scope=d_scope, emergency_id=c02_emergency.pk,
                                   actor_id=c02_team.pk, grid_ids=[c02_grid.pk], service_kinds=["care_visit"])[0]
    world.add("admission", {"admission_id": other.pk}, {"district", "orgstaff"}, "C02's team's application")


def _procurement_world(world: World, district: Any, c01: Any, c02: Any) -> None:
    """A call in each community (the organisation serves both); in C01 the organisation's application, scored by
    the grid member (its named reviewer), awarded with the district official as arbiter; in C02 another
    organisation's application."""
    from civicgrid.accounts.roles import scope_for
    from civicgrid.core.scoping import PLATFORM
    from civicgrid.procurement import services as procurement
    from civicgrid.registry.models import Actor
    from tests.platform.procurement_support import close, organisation

    d_scope = scope_for(district)
    staff_org = organisation(user("orgstaff").role.actor)
    other_org = organisation(Actor.objects.filter(sector="society").exclude(pk=staff_org.actor_id).order_by("code")
                             .first())
    funder = Actor.objects.filter(sector="state").order_by("code").first()
    calls = {}
    for community in (c01, c02):
        fund = procurement.appropriation_create(user=district, scope=d_scope, name="m", place_id=community.pk,
                                                funder_id=funder.pk, year=2026, amount_fen=100_000)
        calls[community.pk] = procurement.call_publish(
            user=district, scope=d_scope, appropriation_id=fund.pk, title="m", service_kind="delivery",
            place_id=community.pk, budget_fen=100_000, deadline=timezone.now() + timedelta(days=1))
    world.add("call", {"call_id": calls[c01.pk].pk}, {"district", "director", "grid", "orgstaff"}, "a C01 call")
    world.add("call", {"call_id": calls[c02.pk].pk}, {"district", "orgstaff"}, "a C02 call")
    grid = user("grid")
    procurement.reviewer_name(user=district, scope=d_scope, call_id=calls[c01.pk].pk, reviewer_id=grid.pk)
    mine = procurement.application_submit(user=None, scope=PLATFORM, call_id=calls[c01.pk].pk,
                                          organisation_id=staff_org.actor_id, amount_fen=50_000, proposal="m")
    theirs = procurement.application_submit(user=None, scope=PLATFORM, call_id=calls[c02.pk].pk,
                                            organisation_id=other_org.actor_id, amount_fen=50_000, proposal="m")
    world.add("application", {"application_id": mine.pk}, {"district", "director", "grid", "orgstaff"},
              "the organisation's application in C01 (the grid member reviews it)")
    world.add("application", {"application_id": theirs.pk}, {"district"}, "another organisation's in C02")
    # only a named reviewer scores: whoever else sees the application is refused
    world.add("score_application", {"application_id": mine.pk}, {"grid"}, "the C01 application",
              refused={"district", "director", "orgstaff"})
    world.add("score_application", {"application_id": theirs.pk}, set(), "the C02 application",
              refused={"district"})
    close(calls[c01.pk])
    today = timezone.localdate()
    contract = procurement.call_award(user=district, scope=d_scope, call_id=calls[c01.pk].pk, application_id=mine.pk,
                                      arbiter_id=district.pk, ends_on=today,
                                      milestones=[procurement.MilestoneSpec("m", 100, today, "deliveries_done", 1)])
    world.add("contract", {"contract_id": contract.pk}, {"district", "director", "orgstaff"}, "the C01 contract")
    milestone = contract.milestones.get()
    world.add("milestone", {"milestone_id": milestone.pk}, {"district", "director", "orgstaff"}, "the C01 milestone")
    # only the contract's arbiter (the district official) decides its milestones
    world.add("decide_milestone", {"milestone_id": milestone.pk}, {"district"}, "the C01 milestone",
              refused={"director", "orgstaff"})


# --- asking ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ask:
    route: str
    method: str
    path: str
    expect: str  # "ok", "403", "404"
    why: str
    body: str = "{}"
    form: tuple[tuple[str, str], ...] = ()


def _asks(username: str, world: World, routes: list[Route]) -> Iterator[Ask]:
    grants = GRANTS[username]
    for route in routes:
        entry = ROUTES[route.key]
        methods = route.methods or entry.methods
        for method in methods:
            resource = entry.post_resource if method == "POST" and entry.post_resource else entry.resource
            allowed = resource in grants
            if entry.kind is None:
                yield Ask(route.key, method, route.template, "ok" if allowed else "403", resource)
                continue
            candidates = ((world.inside(entry.kind, username), "inside", "ok"),
                          (world.refused(entry.kind, username), "not theirs", "403"),
                          (world.outside(entry.kind, username), "outside", "404"))
            for candidate, where, answer in candidates:
                if candidate is None:
                    continue
                path = route.template.format(**candidate.ids) + candidate.query
                # a page's form carries what its query names (the sheet's household) and the entry's fields
                form = dict(parse_qsl(candidate.query.lstrip("?")))
                form.update({name.format(**candidate.ids): value for name, value in entry.form})
                yield Ask(route.key, method, path, answer if allowed else "403", f"{resource}, {where}: {candidate.label}",
                          entry.body, tuple(form.items()))


OK = {"GET": {200, 302, 400}, "POST": {200, 201, 302, 400, 409}}
# Pages whose button refuses an act that is not the user's (a publisher acknowledging an alert sent to others)
# by going back to the page with the reason as a message: a 302 then counts as the refusal.
REFUSED_WITH_A_MESSAGE = {"alerts:ack", "volunteers:visit_claim"}


def _ask(client: Client, ask: Ask) -> tuple[int, str]:
    """The status of one request and what was wrong with it, in a savepoint rolled back afterwards."""
    api = ask.path.startswith("/api/")
    with transaction.atomic():
        try:
            if ask.method == "GET":
                response = client.get(ask.path)
            elif api:
                response = client.post(ask.path, ask.body, content_type="application/json")
            else:
                response = client.post(ask.path, dict(ask.form))
        except Exception as exc:  # the test client re-raises what would have been a 500
            transaction.set_rollback(True)
            return 500, f"raised {type(exc).__name__}: {exc}"
        transaction.set_rollback(True)
    status = response.status_code
    if ask.expect == "ok":
        good = status in OK[ask.method]
    elif ask.expect == "403" and ask.route in REFUSED_WITH_A_MESSAGE and "not theirs" in ask.why:
        good = status in {302, 403}
    else:
        good = status == int(ask.expect)
    problem = "" if good else f"expected {ask.expect}"
    if good and status in {403, 404}:  # refusals carry their reason: JSON for the API, the error page otherwise
        kind = response.get("Content-Type", "")
        if api and not (kind.startswith("application/json") and "detail" in response.json()):
            problem = "API refusal without a JSON detail"
        if not api and not kind.startswith("text/html"):
            problem = "page refusal without the error page"
        if not api and status == 403 and "<h1>Not allowed</h1>" not in response.content.decode():
            problem = "403 without the error page"
    return status, problem


@pytest.mark.slow
def test_every_route_answers_every_role_as_the_table_says() -> None:
    world = _build_world()
    routes = every_route()
    problems, counted = [], 0
    for username in USERS:
        client = Client(headers={"accept-language": "en"})
        client.force_login(user(username))
        for ask in _asks(username, world, routes):
            status, problem = _ask(client, ask)
            counted += 1
            if ask.route in {"login", "logout"}:  # these change the session: log in again
                client.force_login(user(username))
            if problem or status >= 500:
                problems.append(f"{username:9} {ask.method:4} {ask.path} ({ask.route}; {ask.why}): {status} "
                                f"{problem}")
    assert counted > 600
    assert problems == [], f"{len(problems)} of {counted} answers differ:\n" + "\n".join(problems)


def test_anonymous_visitors_are_sent_to_log_in_or_refused() -> None:
    """Without a log-in: pages send to the log-in page, the API answers 401; public routes answer."""
    client = Client()
    for route in every_route():
        entry = ROUTES[route.key]
        if entry.kind is not None or "GET" not in (route.methods or entry.methods):
            continue
        response = client.get(route.template)
        if entry.resource == PUBLIC:
            assert response.status_code in {200, 302}, route.key
        elif route.template.startswith("/api/") and route.key.startswith("GET "):
            assert response.status_code == 401, route.key
        else:
            assert response.status_code == 302 and "/login/" in response["Location"], route.key


def test_a_checklist_sheet_without_a_valid_subject_is_bad_input() -> None:
    """The sheet's household (or site) is input: missing or not a number is a 400, never a 500."""
    from civicgrid.emergency.models import ChecklistTemplate

    template = ChecklistTemplate.objects.filter(target=ChecklistTemplate.Target.HOUSEHOLD).order_by("id")[0]
    client = Client()
    client.force_login(user("director"))
    for query in ("", "?household=", "?household=abc", "?household=1e9"):
        assert client.get(f"/emergency/checklists/{template.pk}/sheet/{query}").status_code == 400, query
