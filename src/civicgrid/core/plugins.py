"""How a domain app joins the platform without editing shared files.

An app under ``civicgrid.`` may provide, each optional:

* ``urls.py`` with ``app_name`` and ``urlpatterns``: included at the site root;
* ``api.py`` with ``router`` (a django-ninja Router): mounted at ``/api/<app label>/``;
* ``nav.py`` with ``NAV = [NavItem(...), ...]``: links in the header, shown to roles that may use them;
* ``jobs.py`` with ``PERIODIC_COMMANDS = ["command", ...]``: management commands run by
  ``civicgrid tick`` (cron) and every minute by ``civicgrid serve``;
* ``demo.py`` with ``demo_load(*, households: int, seed: int) -> list[str]``: called by ``civicgrid demo``
  after the registry is loaded, returning lines to print.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from django.apps import apps


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: Any  # a gettext_lazy string (str or lazy proxy)
    resource: str  # shown when the role may use this resource (civicgrid.core.scoping.ACCESS)
    order: int = 50


def civicgrid_modules(submodule: str) -> Iterator[tuple[str, ModuleType]]:
    """(app label, module) for every installed civicgrid app that has ``submodule``."""
    for config in apps.get_app_configs():
        if not config.name.startswith("civicgrid."):
            continue
        name = f"{config.name}.{submodule}"
        if importlib.util.find_spec(name) is None:
            continue
        yield config.label, importlib.import_module(name)


def nav_items() -> list[NavItem]:
    items = [item for _, module in civicgrid_modules("nav") for item in getattr(module, "NAV", [])]
    return sorted(items, key=lambda i: i.order)


def periodic_commands() -> list[str]:
    return [name for _, module in civicgrid_modules("jobs") for name in getattr(module, "PERIODIC_COMMANDS", [])]
