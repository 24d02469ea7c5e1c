"""Reading a page never writes: every page in every role's menu, opened with GET, runs no INSERT,
UPDATE or DELETE (escalation, claim release and read receipts are jobs or POSTs)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from civicgrid.accounts.roles import scope_for
from civicgrid.core.plugins import nav_items
from tests.platform.factories import user

ROLES = ["district", "director", "grid", "orgstaff", "volunteer", "resident"]
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@pytest.mark.django_db
@pytest.mark.parametrize("username", ROLES)
def test_opening_every_menu_page_writes_nothing(username: str) -> None:
    account = user(username)
    scope = scope_for(account)
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(account)
    urls = ["/"] + [reverse(item.url_name) for item in nav_items() if scope.may(item.resource)]
    assert len(urls) > 2
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, follow=True)
        assert response.status_code == 200, (url, response.status_code)
        writes = [q["sql"][:120] for q in queries.captured_queries
                  if q["sql"].lstrip().upper().startswith(WRITES)]
        assert writes == [], (url, writes)
