"""Shared fixtures. The platform tests load one small generated community (two communities, 24 grids)
into the test database once per session, with one login per role."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TEST_VAR = Path(__file__).resolve().parent.parent / "var" / "test"
os.environ.setdefault("CIVICGRID_VAR_DIR", str(TEST_VAR))
os.environ.setdefault("CIVICGRID_SECRET_KEY", "test-secret-key-not-for-production-0123456789")
# A fixed Fernet key for the tests only.
os.environ.setdefault("CIVICGRID_FIELD_KEY", "Jm9Wl8mB2v1k6bq1mU3hE0p6yQkz1x8yF3d5c2a7b4E=")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

FIXTURE_HOUSEHOLDS = 700
FIXTURE_SEED = 11


@pytest.fixture(scope="session")
def community():  # type: ignore[no-untyped-def]
    from civicgrid.engine.synth import generate_community

    return generate_community(households=FIXTURE_HOUSEHOLDS, seed=FIXTURE_SEED, households_per_community=350)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, community):  # type: ignore[no-untyped-def]
    from civicgrid.accounts.services import demo_users_create
    from civicgrid.cli import community_rows
    from civicgrid.registry.services import registry_import

    with django_db_blocker.unblock():
        registry_import(user=None, tables=community_rows(community))
        demo_users_create()
