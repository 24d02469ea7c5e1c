"""Where a household's needs go: into relief when the relief app offers a need service and the need
names one of its catalogue items, otherwise into a grid case of the 'living needs' category, so a
need is never dropped.

The relief app is imported lazily (this app works without it). Its contract, checked by signature
before use: ``civicgrid.relief.services.need_file(*, user, scope, household_id, item, quantity, key,
urgency, note, channel) -> Filing`` (``Filing.need.pk``), ``civicgrid.relief.selectors.item_list()`` and
``need_counts(scope=...)``. If the contract changes, needs fall back to cases rather than fail.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

from civicgrid.accounts.roles import scope_for
from civicgrid.registry.models import Household

NEEDS_CATEGORY = "living_needs"
_RELIEF_PARAMS = {"user", "scope", "household_id", "item", "quantity", "key", "note"}


def _relief(module: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"civicgrid.relief.{module}")
    except ImportError:
        return None


def relief_need_service() -> Callable[..., Any] | None:
    """relief's need_file, if it is installed and has the expected keyword parameters."""
    services = _relief("services")
    service = getattr(services, "need_file", None)
    if not callable(service):
        return None
    try:
        params = set(inspect.signature(service).parameters)
    except (TypeError, ValueError):
        return None
    return service if params >= _RELIEF_PARAMS else None


def relief_items() -> list[tuple[str, str]]:
    """(code, label) of relief's catalogue items, or [] without relief (the forms then hide the item)."""
    selectors = _relief("selectors")
    item_list = getattr(selectors, "item_list", None)
    if relief_need_service() is None or not callable(item_list):
        return []
    return [(item.code, str(getattr(item, "label", item))) for item in item_list()]


def relief_open_needs(scope: Any) -> int | None:
    selectors = _relief("selectors")
    counts = getattr(selectors, "need_counts", None)
    if not callable(counts):
        return None
    return int(counts(scope=scope).get("open", 0))


def _key(source: str) -> str:
    """An idempotency key from the source ('sweep:3:17' -> 'civicgrid-sweep-3-17'), 8 to 64 characters."""
    return ("civicgrid-" + re.sub(r"[^0-9A-Za-z]+", "-", source))[:64]


def file_need(*, user: Any, household: Household, description: str, source: str, item: str = "",
              quantity: int = 1, urgency: str = "urgent") -> str:
    """File the need; return 'need:<id>' (relief, when ``item`` is a relief catalogue code) or
    'case:<id>' (a grid case). ``user=None`` files as the platform (a volunteer without case rights)."""
    service = relief_need_service()
    if service is not None and item and user is not None:
        filing = service(user=user, scope=scope_for(user), household_id=household.pk, item=item,
                         quantity=quantity, key=_key(source), urgency=urgency, note=description, channel="visit")
        return f"need:{filing.need.pk}"
    from civicgrid.cases.models import CaseCategory
    from civicgrid.cases.services import case_report

    category = CaseCategory.objects.filter(code=NEEDS_CATEGORY).first() or CaseCategory.objects.get(code="other")
    label = "" if user is not None else "sweep"
    case = case_report(user=user, category=category, description=description, household=household, source=source,
                       reporter_label=label)
    return f"case:{case.pk}"
