"""Issue 11, section 4: a property-based run of the whole JSON API (schemathesis, generated from
``/api/openapi.json``) as a community director, a grid member and a resident: no server error, every
answer's status documented, every body as the schema says. Runs in-process (WSGI) inside the test's
transaction, so the generated writes are rolled back; ``CIVICGRID_FUZZ_EXAMPLES`` (default 15) bounds the
examples per operation, each sent as every role (about 30 s on two cores; 40 takes about a minute)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

ROLES = ("director", "grid", "resident")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = int(os.environ.get("CIVICGRID_FUZZ_EXAMPLES", "15"))
CSRF = "a" * 32  # an unmasked CSRF secret, sent as cookie and header (Django accepts it)


@pytest.fixture
def api_schema(db: Any) -> Iterator[Any]:
    """The schema, called in-process. As Django's test client does, the connection is kept open between
    requests (the WSGI handler would close it, and with it the test's transaction)."""
    from django.core.handlers.wsgi import WSGIHandler

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/openapi.json", WSGIHandler())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def sessions(db: Any) -> dict[str, dict[str, Any]]:
    """A session per role, sent as a browser would (session and CSRF cookies, the CSRF header)."""
    found = {}
    for role in ROLES:
        client = Client()
        assert client.login(username=role, password="civicgrid-demo")
        found[role] = {"cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": CSRF},
                       "headers": {"X-CSRFToken": CSRF, "Accept-Language": "en"}}
    return found


@pytest.mark.slow
def test_every_api_operation_answers_every_role_as_documented(api_schema: Any,
                                                             sessions: dict[str, dict[str, Any]]) -> None:
    """One hypothesis run per operation (schemathesis' pytest plugin does not run under pytest 9), every
    generated request sent as each role; the failures of all operations are reported together."""
    failures: dict[str, str] = {}
    answers: Counter[tuple[str, int]] = Counter()
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            for role, session in sessions.items():
                response = case.call_and_validate(checks=CHECKS, **session)
                answers[role, response.status_code] += 1

        try:
            run()
        except Exception as error:  # noqa: BLE001 - collected, reported below
            failures[operation.label] = str(error)[:3000]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
    # the run really was logged in: every role got answers, and not only refusals
    for role in ROLES:
        assert answers[role, 200] > 0 and answers[role, 401] == 0, sorted(answers.items())
