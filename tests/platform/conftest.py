"""Fixtures shared by the platform tests. Plain helpers are in ``factories.py`` and, for relief,
``relief_support.py``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture
def english() -> Iterator[None]:
    """Messages in English for the assertions (the site's default language is Chinese). Modules that
    assert on messages use it for every test: ``pytestmark = [..., pytest.mark.usefixtures("english")]``."""
    with translation.override("en"):
        yield
