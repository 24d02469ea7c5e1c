"""Pinyin initials of a name, for search ("zsf" finds 张三丰): each Chinese character gives the first
letter of its pinyin (pypinyin's reading in context), other letters and digits are kept, lower-cased,
and spaces and punctuation dropped. Stored on each resident (``Resident.name_initials``) whenever a
name is written: by the services, by the importer and by the migration that added the column.

A district's import computes this for millions of names, most of them distinct, so a name made only
of Chinese characters none of whose runs is one of pypinyin's phrases (where context could change a
reading) is read character by character, each character's initial computed once by pypinyin itself;
this is what pypinyin does for such a name (its segmenter splits it into single characters). Every
other name goes through pypinyin whole. A test compares the two over the generator's names.
"""

from __future__ import annotations

from functools import cache, lru_cache

from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT, PINYIN_DICT


@lru_cache(maxsize=1 << 17)  # names repeat (a district's 2.6 M residents share far fewer names); ~25 MB at most
def name_initials(name: str) -> str:
    """``name_initials("张三丰")`` is ``"zsf"``; ``name_initials("李 Amy")`` is ``"lamy"``."""
    if name and all(ord(ch) in PINYIN_DICT for ch in name) and not _has_phrase(name):
        return "".join(map(_initial, name))[:60]
    return _in_context(name)


def _has_phrase(name: str) -> bool:
    return any(name[i:j] in PHRASES_DICT for i in range(len(name)) for j in range(i + 2, len(name) + 1))


@cache  # at most one entry per Chinese character pypinyin knows
def _initial(ch: str) -> str:
    return _in_context(ch)


@lru_cache(maxsize=1 << 16)
def _in_context(name: str) -> str:
    out = []
    for part in lazy_pinyin(name or "", style=Style.FIRST_LETTER, errors="default"):
        out.append("".join(ch for ch in part.lower() if ch.isascii() and ch.isalnum()))
    return "".join(out)[:60]
