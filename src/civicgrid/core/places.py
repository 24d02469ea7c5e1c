"""Place paths: the one helper for the materialised paths of the place hierarchy.

A place's ``path`` is its codes from the district down, each followed by "/":
``D01/`` (district), ``D01/S01/`` (sub-district), ``D01/S01/C01/`` (community),
``D01/S01/C01/G01/`` (grid), ``D01/S01/C01/G01/B001/`` (building). Records carry the path of the
place they lie in, so "inside an area" is a prefix test and "the community of" is a cut at a level.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from civicgrid.engine.registry_format import PLACE_LEVELS

LEVELS: tuple[str, ...] = PLACE_LEVELS


def parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p]


def depth(level: str) -> int:
    """How many codes a path of this level has (district 1 ... building 5)."""
    return LEVELS.index(level) + 1


def ancestor_at(path: str, level: str) -> str:
    """The path of the place of ``level`` containing ``path`` ("" when ``path`` lies above it).

    >>> ancestor_at("D01/S01/C01/G01/B001/", "community")
    'D01/S01/C01/'
    """
    codes = parts(path)
    n = depth(level)
    return "/".join(codes[:n]) + "/" if len(codes) >= n else ""


def ancestors(path: str) -> list[str]:
    """``path`` and every path above it, from the district down.

    >>> ancestors("D01/S01/C01/")
    ['D01/', 'D01/S01/', 'D01/S01/C01/']
    """
    codes = parts(path)
    return ["/".join(codes[: i + 1]) + "/" for i in range(len(codes))]


def common_ancestor(paths: Iterable[str]) -> str:
    """The deepest path containing all ``paths`` ("" when they share no district).

    >>> common_ancestor(["D01/S01/C01/G01/", "D01/S01/C01/G02/"])
    'D01/S01/C01/'
    """
    split = [parts(p) for p in paths]
    if not split:
        return ""
    common: list[str] = []
    for codes in zip(*split, strict=False):
        if len(set(codes)) != 1:
            break
        common.append(codes[0])
    return "/".join(common) + "/" if common else ""


def under(lookup: str, paths: Iterable[str]) -> Q:
    """Rows whose ``lookup`` lies inside any of ``paths`` (matches nothing for no paths)."""
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{lookup}__startswith": path})
    return q
