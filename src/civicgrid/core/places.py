"""Place paths: the one helper for the materialised paths of the place hierarchy.

A place's ``path`` is its codes from the district down, each followed by "/":
``D01/`` (district), ``D01/S01/`` (sub-district), ``D01/S01/C01/`` (community),
``D01/S01/C01/G01/`` (grid), ``D01/S01/C01/G01/B001/`` (building). Records carry the path of the
place they lie in, so "inside an area" is a prefix test and "the community of" is a cut at a level.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import CharField, Q
from django.db.models.lookups import StartsWith

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
        q |= Q(**{f"{lookup}__under": path})
    return q


@CharField.register_lookup
class Under(StartsWith):
    """``path__under="D01/S01/"``: the value starts with this prefix (case-sensitive), as ``startswith``,
    written so that the column's index serves it on every database (issue 15).

    SQLite never uses an index for Django's ``startswith`` (its ``LIKE`` ignores case, so the index's
    order does not help): every scoped list read the whole table to keep a grid's rows. There the
    prefix is a range, ``prefix <= value < next``, where ``next`` is the prefix with its last character
    raised by one: with SQLite's binary text order exactly the values that start with the prefix.
    PostgreSQL keeps ``LIKE 'prefix%'``, served by the pattern index Django adds to an indexed text column
    (a range there would follow the database's collation, which need not be code-point order).

    The index pays when the prefix keeps a small share of the rows: a community, a grid, a building. A
    district or a sub-district keeps most of them, and SQLite's planner (which cannot tell the two apart)
    would then read all of them through the index and sort them for a list's first page; for those the
    range is written ``+column`` (SQLite's "use no index for this term"), leaving the plan of before
    (the list's own order, stopping at the page's end).

    >>> Under.bounds("D01/S01/")
    ('D01/S01/', 'D01/S010')
    """

    lookup_name = "under"

    @staticmethod
    def bounds(prefix: str) -> tuple[str, str]:
        return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        # Django's own startswith (the database's operators know it by that name, not by "under")
        return StartsWith(self.lhs, self.rhs).as_sql(compiler, connection)

    def as_sqlite(self, compiler: Any, connection: Any) -> Any:
        if not isinstance(self.rhs, str) or not self.rhs:  # an expression, or "" (everything): as startswith
            return self.as_sql(compiler, connection)
        lhs, params = self.process_lhs(compiler, connection)
        if len(parts(self.rhs)) <= BROAD_DEPTH:
            lhs = f"+{lhs}"
        return f"({lhs} >= %s AND {lhs} < %s)", [*params, *self.bounds(self.rhs)]


BROAD_DEPTH = 2  # a district (1) or a sub-district (2): see Under
