"""Fixtures of the transactional tests.

After each transactional test Django empties every table; on PostgreSQL it does so with TRUNCATE, which the
audit log's append-only triggers refuse (migration core.0004). The flush, and only the flush, runs with
ordinary triggers skipped (``session_replication_role = replica``, as ``pg_restore --disable-triggers``
does; the test database's role is a superuser)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection


def _set_replication_role(value: str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET session_replication_role = {value}")


@pytest.fixture(autouse=True)
def _audit_triggers_skipped_by_the_flush(request: pytest.FixtureRequest) -> Iterator[None]:
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")):
        yield
        return
    request.getfixturevalue("transactional_db")  # set up first, so torn down (flushed) after this fixture
    _set_replication_role("DEFAULT")  # a previous test's flush left it at replica
    yield
    _set_replication_role("replica")
