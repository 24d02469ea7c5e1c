"""Bilingual text: shipped templates and alerts carry English and Chinese; show the reader's language."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import get_language, override


def wants_chinese() -> bool:
    return (get_language() or "").lower().startswith("zh")


def localized(en: str, zh: str) -> str:
    """``zh`` for Chinese readers and ``en`` for the others, falling back to whichever is filled."""
    first, second = (zh, en) if wants_chinese() else (en, zh)
    return first or second


def in_both(render: Callable[[], str]) -> tuple[str, str]:
    """(English, Chinese) renderings of a message built with gettext, for records read later by
    people in either language (notices, events)."""
    with override("en"):
        en = str(render())
    with override("zh-hans"):
        zh = str(render())
    return en, zh
