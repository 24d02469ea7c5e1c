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
             "analytics", "jobs"}
GRANTS: dict[str, set[str]] = {
    "district": _MANAGERS | {"templates_edit"},  # plan and checklist templates are district-wide (finding 10)
    "director": _MANAGERS,
    "grid": {"places", "households", "residents", "actors", "people", "export", "edit", "cases", "relief",
             "emergency", "alerts", "alerts_publish"},
    # social-organisation staff see the emergencies of the area they serve and the tasks given to them
    # (issue 10: "the emergency task assigned to their organisation is invisible")
    "orgstaff": {"places", "households", "residents", "actors", "cases", "relief", "alerts", "emergency"},
    "volunteer": {"households", "residents", "actors", "relief", "alerts"},
    "resident": {"households", "residents", "actors", "cases", "relief", "alerts"},
}
ANY = "any logged-in user"  # pages every role has (home, account, notices)
PUBLIC = "public"  # no log-in at all (health, public alerts, static script)
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
    "relief:tasks": R("relief"), "relief:task": R("relief", G, "relief_task"),
    "relief:task_claim": R("relief", P, "claim_task"), "relief:task_release": R("relief", P, "held_task"),
    "relief:task_assign": R("relief_manage", P, "relief_task"),
    "relief:stop_new_code": R("relief_manage", P, "stop"),
    "relief:stop_deliver": R("relief", P, "held_stop", form=(("s{stop_id}-code", "000000"),)),
    "relief:stop_fail": R("relief", P, "held_stop", form=(("f{stop_id}-reason", "not_home"),)),
    "relief:stop_call": R("relief", P, "held_stop"),
    # analytics and ops
    "analytics:governance": R("analytics"), "analytics:crei": R("analytics"), "analytics:plotly_js": R(PUBLIC),
    "evaluation:what_changed": R("analytics"),
    "ops:jobs": R("jobs"), "ops:healthz": R(PUBLIC), "ops:readyz": R(PUBLIC),
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
    public = Alert.objects.filter(area=c02).order_by("id").first()
    world.add("public_alert", {"alert_id": public.pk}, ALL, "a public alert (CAP is public)")
    return world


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
REFUSED_WITH_A_MESSAGE = {"alerts:ack"}


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
