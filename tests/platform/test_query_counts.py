"""Issue 15: the number of queries a page or API list runs does not grow with the data. Every menu page and API list
of every role is opened on a small world, the world grows (more households in need, more cases, another
round, more deliveries), and every page is opened again: an N+1 (a query per listed row) shows as
a count that grew with the rows."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.cases import services as cases
from civicgrid.cases.models import CaseCategory
from civicgrid.core.plugins import nav_items
from civicgrid.registry.models import Household
from civicgrid.relief import services as relief
from civicgrid.relief.models import DistributionPoint, Item
from tests.platform.factories import user
from tests.platform.home_support import build
from tests.platform.relief_support import receive

ROLES = ["district", "director", "grid", "orgstaff", "volunteer", "resident"]
SLACK = 3  # a page may add a query or two when a list starts a second page or a section appears


def _counts(username: str) -> dict[str, int]:
    account = user(username)
    scope = scope_for(account)
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(account)
    out = {}
    for url in ["/"] + [reverse(i.url_name) for i in nav_items() if scope.may(i.resource)] + _api_lists():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, follow=True)
        if url.startswith("/api/") and response.status_code in (403, 404):
            continue  # an API list this role may not read
        assert response.status_code == 200, (url, response.status_code)
        out[url] = len(queries.captured_queries)
    return out


def _api_lists() -> list[str]:
    """Every API operation that reads a list or a summary: GET, no path parameter."""
    schema = Client().get("/api/openapi.json").json()
    return sorted(path for path, ops in schema["paths"].items() if "get" in ops and "{" not in path)


def _grow() -> None:
    grid, director = user("grid"), user("director")
    g_scope, d_scope = scope_for(grid), scope_for(director)
    home = user("resident").role.household
    items = {i.code.removeprefix("t-"): i for i in Item.objects.filter(code__startswith="t-")}
    households = list(Household.objects.filter(grid_id=home.grid_id).exclude(pk=home.pk).order_by("-code")[:40])
    for h in households:
        relief.need_file(user=grid, scope=g_scope, household_id=h.pk, item=items["food"], quantity=7,
                         key=uuid.uuid4().hex, channel="visit")
    category = CaseCategory.objects.get(code="facility_repair")
    for i in range(25):
        cases.case_report(user=grid, scope=g_scope, category=category, description=f"Loose paving stone {i}",
                          place=home.grid, now=timezone.now() - timedelta(days=i % 12))
    receive(items["food"], DistributionPoint.objects.get(place=director.role.place), 2000)
    relief.round_confirm(user=director, scope=d_scope, place_ids=[home.grid_id], item_codes=["t-food"], days=3,
                         policy="equity", seed=9)


@pytest.mark.django_db
def test_menu_pages_run_as_many_queries_on_more_data() -> None:
    build()
    before = {role: _counts(role) for role in ROLES}
    _grow()
    grew = []
    for role in ROLES:
        after = _counts(role)
        grew += [(role, url, before[role][url], n) for url, n in after.items() if n > before[role][url] + SLACK]
    assert grew == [], "queries grew with the data (role, page, before, after): " + repr(grew)
