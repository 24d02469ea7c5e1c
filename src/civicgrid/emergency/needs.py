"""Where a household's needs go: into relief when an app provides the need-sink hook
(:class:`civicgrid.core.plugins.NeedSink`, relief does) and the need names one of its items, otherwise
into a grid case of the 'living needs' category, so a need is never dropped.

The hook's signature is checked at start-up, so a change on relief's side stops the platform from
starting instead of quietly sending needs elsewhere.
"""

from __future__ import annotations

import re
from typing import Any

from civicgrid.core.plugins import need_sink
from civicgrid.core.scoping import PLATFORM, Scope
from civicgrid.registry.models import Household

NEEDS_CATEGORY = "living_needs"


def relief_items() -> list[tuple[str, str]]:
    """(code, label) of the items a need may name, or [] without a need sink (the forms then hide it)."""
    sink = need_sink()
    return sink.items() if sink is not None else []


def relief_open_needs(scope: Scope) -> int | None:
    sink = need_sink()
    return sink.open_count(scope=scope) if sink is not None else None


def _key(source: str) -> str:
    """An idempotency key from the source ('sweep:3:17' -> 'civicgrid-sweep-3-17'), 8 to 64 characters."""
    return ("civicgrid-" + re.sub(r"[^0-9A-Za-z]+", "-", source))[:64]


def file_need(*, user: Any, scope: Scope, household: Household, description: str, source: str, item: str = "",
              quantity: int = 1, urgency: str = "urgent") -> str:
    """File the need; return 'need:<id>' (relief, when ``item`` is a relief catalogue code) or
    'case:<id>' (a grid case). ``user=None`` files as the platform (a volunteer without case rights)."""
    sink = need_sink()
    if sink is not None and item and user is not None:
        need_id = sink.file(user=user, scope=scope, household_id=household.pk, item=item, quantity=quantity,
                            key=_key(source), urgency=urgency, note=description, channel="visit")
        return f"need:{need_id}"
    from civicgrid.cases.models import CaseCategory
    from civicgrid.cases.services import case_report

    category = CaseCategory.objects.filter(code=NEEDS_CATEGORY).first() or CaseCategory.objects.get(code="other")
    label = "" if user is not None else "sweep"
    case = case_report(user=user, scope=scope if user is not None else PLATFORM, category=category,
                       description=description, household=household, source=source, reporter_label=label)
    return f"case:{case.pk}"
