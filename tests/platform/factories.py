"""Small helpers shared by the platform tests (fixtures live in ``conftest.py``). The session's
community and its demo logins are loaded once by ``tests/conftest.py``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model


def user(name: str) -> Any:
    """The demo user called ``name`` (``district``, ``director``, ``grid``, ``orgstaff``, ``volunteer``,
    ``resident``), read afresh so that no cached scope carries over."""
    return get_user_model().objects.get(username=name)
