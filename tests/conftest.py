"""Shared fixtures. The platform tests load one small generated community (two communities, 24 grids)
into the test database once per session, with one login per role."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from civicgrid.core.scoping import PLATFORM

TEST_VAR = Path(__file__).resolve().parent.parent / "var" / "test"
os.environ.setdefault("CIVICGRID_VAR_DIR", str(TEST_VAR))
os.environ.setdefault("CIVICGRID_SECRET_KEY", "test-secret-key-not-for-production-0123456789")
# A fixed Fernet key for the tests only.
os.environ.setdefault("CIVICGRID_FIELD_KEY", "Jm9Wl8mB2v1k6bq1mU3hE0p6yQkz1x8yF3d5c2a7b4E=")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

FIXTURE_HOUSEHOLDS = 700
FIXTURE_SEED = 11


@pytest.fixture(scope="session")
def community():
    from civicgrid.engine.synth import generate_community

    return generate_community(households=FIXTURE_HOUSEHOLDS, seed=FIXTURE_SEED, households_per_community=350)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, community):
    from civicgrid.accounts.services import demo_users_create
    from civicgrid.cli import community_rows
    from civicgrid.registry.services import registry_import

    with django_db_blocker.unblock():
        registry_import(user=None, scope=PLATFORM, tables=community_rows(community))
        demo_users_create()


TRANSACTIONAL_DIR = Path(__file__).resolve().parent / "platform" / "transactional"


def _commits_and_empties(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("transaction"))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run tests/platform/transactional/ last. Their writes are committed: the browser test's through its
    live server, the transactional tests' directly, and those empty every table afterwards, the session's
    community included. So every other test runs first, then the browser test, then the tests that empty
    the database. (pytest-django orders transactional tests after the others too; this keeps the guarantee
    for the whole folder, whatever pytest-django's order and whatever the modules are called.)"""

    def in_folder(item: pytest.Item) -> bool:
        return Path(str(item.path)).resolve().is_relative_to(TRANSACTIONAL_DIR)

    last = sorted((item for item in items if in_folder(item)), key=_commits_and_empties)
    items[:] = [item for item in items if not in_folder(item)] + last


CHROMIUM = os.environ.get("CIVICGRID_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


# The marks every browser test module carries: `pytestmark = BROWSER_MARKS`. CI sets
# CIVICGRID_REQUIRE_BROWSER so that a missing Chromium fails instead of skipping.
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.django_db,
    pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CIVICGRID_REQUIRE_BROWSER"),
                       reason="Chromium is not installed (scripts/system-deps.sh installs it as root)"),
]


@pytest.fixture(scope="module")
def app_server(django_db_blocker):
    """The app on a free local port, serving the session's database. (pytest-django's own live_server
    flushes every table afterwards, which would empty the shared community for later tests.)"""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    with django_db_blocker.unblock():
        thread = LiveServerThread("localhost", StaticFilesHandler, port=0)
        thread.daemon = True
        thread.start()
        thread.is_ready.wait()
        if thread.error:
            raise thread.error

        class Server:
            url = f"http://localhost:{thread.port}"

        yield Server
        thread.terminate()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright. Browser test modules also carry the `browser` mark and
    skip when Chromium is absent, unless CIVICGRID_REQUIRE_BROWSER is set (CI)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


def login(page, base_url: str, username: str) -> None:
    """Log a Playwright page in as a demo user (password civicgrid-demo)."""
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "civicgrid-demo")
    with page.expect_navigation():
        page.click("main button[type=submit]")
