"""Paged lists whose count stays cheap on a district of a million households (issue 15).

Django's ``Paginator`` counts every row of the list (``SELECT COUNT(*)``) to print "n households" and
"page 1 / N": on PostgreSQL with 1,000,000 households that is a scan of the whole scoped table on every
request, which alone passes the 300 ms a page may take. Here the count stops at :data:`COUNT_CAP`: a list
longer than that says "10000+" and offers the pages up to the cap (nobody pages through ten thousand rows;
they filter). Below the cap the count is exact, so every small list reads as before.

Every list page pages through :func:`paginate` (one mechanism), and its template prints
``page.paginator.shown`` (the exact count, or the cap and a plus sign).
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.utils.functional import cached_property

COUNT_CAP = 10_000  # rows counted at most; beyond it the list says "10000+"


class BoundedPaginator(Paginator):
    """A ``Paginator`` that counts at most :data:`COUNT_CAP` + 1 rows (``COUNT(*)`` over ``LIMIT cap + 1``)."""

    cap = COUNT_CAP

    @cached_property
    def count(self) -> int:
        rows: Any = self.object_list
        if hasattr(rows, "query"):  # a queryset: count within a LIMIT, which the database stops early
            if not rows.query.distinct_fields:  # without the list's order: sorting every row to count them
                rows = rows.order_by()          # would cost what the limit saves
            return min(rows[: self.cap + 1].count(), self.cap + 1)
        return len(rows)

    @property
    def capped(self) -> bool:
        """Whether there are more rows than were counted (a list in hand is never capped: its length is known)."""
        return hasattr(self.object_list, "query") and self.count > self.cap

    @property
    def shown(self) -> str:
        """The count to print: exact, or the cap with a plus sign ("10000+") when there are more."""
        return f"{self.cap}+" if self.capped else str(self.count)

    @cached_property
    def num_pages(self) -> int:
        # a capped list offers the pages up to the cap (its count is cap + 1, which would add a page)
        if self.capped:
            return -(-self.cap // self.per_page)
        return int(super().num_pages)

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if not self.capped and top + self.orphans >= self.count:  # a capped count is no end of the rows
            top = self.count
        return self._get_page(self.object_list[bottom:top], number, self)  # type: ignore[attr-defined]


def paginate(rows: Any, per_page: int, number: Any) -> Page:
    """Page ``number`` (as given in the request; a bad or out-of-range number gives the first or last page)
    of ``rows`` with a bounded count."""
    return BoundedPaginator(rows, per_page).get_page(number)
