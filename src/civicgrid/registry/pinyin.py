"""Pinyin initials of a name, for search ("zsf" finds 张三丰): each Chinese character gives the first
letter of its pinyin (pypinyin's reading in context), other letters and digits are kept, lower-cased,
and spaces and punctuation dropped. Stored on each resident (``Resident.name_initials``) whenever a
name is written: by the services, by the importer and by the migration that added the column."""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin


@lru_cache(maxsize=1 << 17)  # names repeat (a district has far fewer distinct names than residents)
def name_initials(name: str) -> str:
    """``name_initials("张三丰")`` is ``"zsf"``; ``name_initials("李 Amy")`` is ``"lamy"``."""
    out = []
    for part in lazy_pinyin(name or "", style=Style.FIRST_LETTER, errors="default"):
        out.append("".join(ch for ch in part.lower() if ch.isascii() and ch.isalnum()))
    return "".join(out)[:60]
