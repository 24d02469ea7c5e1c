"""``{{ value|bilingual }}``: the reader's language from a shipped {"en": ..., "zh": ...} text."""

from __future__ import annotations

from typing import Any

from django import template

from civicgrid.alerts.text import localized

register = template.Library()


@register.filter
def bilingual(value: Any) -> str:
    if isinstance(value, dict):
        return localized(str(value.get("en") or ""), str(value.get("zh") or ""))
    return "" if value is None else str(value)


@register.filter
def sector_label(code: str) -> str:
    """The registry's label of a sector code (state, capital, society)."""
    from civicgrid.registry.models import SECTOR_LABELS

    return str(SECTOR_LABELS.get(code, code))


@register.filter
def actor_kinds(codes: Any) -> str:
    """Actor kind codes (party_committee, ...) by their registry labels, joined."""
    from civicgrid.registry.models import KIND_LABELS

    return "、".join(str(KIND_LABELS.get(code, code)) for code in (codes or []))
