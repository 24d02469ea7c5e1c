"""Issue 15, beyond one machine: with a read replica configured, the analytics pages read there and show
the same as from the main database; services still write to the main database. The "replica" here is
a second, real connection to the test database: the alias is declared as a configured replica is
(``TEST: MIRROR``), so the test database set-up points it at the same test database."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from civicgrid.core.replica import REPLICA, ReplicaRouter, replica_reads
from civicgrid.registry.models import Place
from tests.platform.factories import user

# declared before the test databases are set up (at collection), routed to only where a test says so
connections.settings.setdefault(REPLICA, {**settings.DATABASES["default"], "TEST": {"MIRROR": "default"}})
pytestmark = pytest.mark.django_db(databases=["default", REPLICA])


def _page(url: str) -> tuple[int, str, int, int]:
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(user("director"))
    with CaptureQueriesContext(connection) as main, CaptureQueriesContext(connections[REPLICA]) as copy:
        response = client.get(url)
    return response.status_code, response.content.decode(), len(main.captured_queries), len(copy.captured_queries)


def _main(html: str) -> str:
    return html.split("<main", 1)[1].split("</main>", 1)[0]


@pytest.mark.parametrize("url", ["/analytics/crei/", "/analytics/governance/"])
def test_analytics_pages_read_from_the_replica_and_show_the_same(url: str, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CIVICGRID_READ_REPLICA = ""
    plain_status, plain, _, nothing = _page(url)
    assert plain_status == 200 and nothing == 0
    settings.CIVICGRID_READ_REPLICA = REPLICA
    status, body, on_main, on_replica = _page(url)
    assert status == 200 and on_replica > 5, on_replica
    assert on_main <= 4, on_main  # the session and the logged-in user; nothing of the analytics
    assert _main(body) == _main(plain)


def test_only_reads_inside_the_block_are_routed_and_writes_never(settings) -> None:  # type: ignore[no-untyped-def]
    router = ReplicaRouter()
    settings.CIVICGRID_READ_REPLICA = REPLICA
    assert router.db_for_read(Place) is None
    with replica_reads():
        assert router.db_for_read(Place) == REPLICA
        assert router.db_for_write(Place) == "default"
    assert router.db_for_read(Place) is None
    assert router.allow_migrate(REPLICA, "registry") is False
    settings.CIVICGRID_READ_REPLICA = ""
    with replica_reads():  # no replica configured: nothing changes
        assert router.db_for_read(Place) is None
