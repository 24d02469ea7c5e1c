"""An import's limits, the errors it reports, and the budget that enforces the limits while a file is read.

Apart from :mod:`civicgrid.core.importing` (which re-exports the public names: callers import them from
there) because both the public reading API and the readers of each format (:mod:`civicgrid.core._csvreader`,
:mod:`civicgrid.core._xlsxreader`) need them: this module depends on neither.

Every limit is in ``settings.CIVICGRID_IMPORT_LIMITS`` (defaults in :data:`DEFAULT_LIMITS`); a file over one
is refused with a message the moment it is exceeded, never by running out of memory (issue 11, finding 5).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

DEFAULT_LIMITS: dict[str, int] = {
    "upload_bytes": 64 * 1024 * 1024,
    "uncompressed_bytes": 256 * 1024 * 1024,
    "rows": 300_000,
    "cell_chars": 100_000,
    "errors": 200,
    "zip_members": 100,
}


def limits() -> dict[str, int]:
    return {**DEFAULT_LIMITS, **getattr(settings, "CIVICGRID_IMPORT_LIMITS", {})}


def console_limits() -> dict[str, int]:
    """The limits for the operator's own console (``civicgrid import``): a streamed import holds no file
    in memory, so its size and row count are not capped; cells and the report still are."""
    unbounded = 1 << 62
    return {**limits(), "upload_bytes": unbounded, "uncompressed_bytes": unbounded, "rows": unbounded}


@dataclass(frozen=True)
class RowError:
    table: str
    row: int  # as a spreadsheet numbers it: the header is row 1, the first record row 2
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f"{self.table} row {self.row}, column {self.column!r}, value {self.value!r}: {self.reason}"


class ImportRejected(Exception):
    """Raised with the errors found; nothing was written.

    ``errors`` holds the first ``limits()["errors"]`` of them (each value cut to 200 characters),
    ``total`` how many there were; ``status`` is the HTTP status to answer with (422, or 413 for a
    file over a size limit).
    """

    def __init__(self, errors: list[RowError], *, status: int = 422, total: int | None = None):
        cap = limits()["errors"]
        self.total = len(errors) if total is None else total
        self.errors = [e if len(e.value) <= 200 else RowError(e.table, e.row, e.column, e.value[:200] + "…", e.reason)
                       for e in errors[:cap]]
        self.status = status
        super().__init__(f"import rejected: {self.total} error(s); nothing was written")

    @property
    def omitted(self) -> int:
        return self.total - len(self.errors)


def file_error(name: str, reason: str, *, status: int = 422) -> ImportRejected:
    """The rejection of a whole file (not of a row): reported as row 0 of the table ``(file)``."""
    return ImportRejected([RowError("(file)", 0, "", name, reason)], status=status)


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def upload_too_large(content_length: str | int | None) -> str:
    """A message if a request of this length exceeds the upload limit, else ''. Views call this before
    touching ``request.FILES``, so an oversized upload is refused before it is read."""
    try:
        length = int(content_length or 0)
    except (TypeError, ValueError):
        return ""
    cap = limits()["upload_bytes"]
    if length > cap + 64 * 1024:  # the multipart envelope around the file
        return _("The file is too large (%(size)s); the limit is %(limit)s. Split it into smaller files.") % {
            "size": _mb(length), "limit": _mb(cap)}
    return ""


class Budget:
    """Counts what a file costs as it is read, and refuses the file the moment it exceeds a limit."""

    def __init__(self, limits: dict[str, int]):
        self.limits = limits
        self.rows = 0
        self.expanded = 0

    def upload(self, size: int | None, name: str) -> None:
        if size is not None and size > self.limits["upload_bytes"]:
            raise file_error(name, _("The file is too large (%(size)s); the limit is %(limit)s. Split it into "
                                     "smaller files.") % {"size": _mb(size), "limit": _mb(self.limits["upload_bytes"])},
                             status=413)

    def expand(self, n: int, name: str) -> None:
        self.expanded += n
        if self.expanded > self.limits["uncompressed_bytes"]:
            raise file_error(name, _("The archive expands to more than %(limit)s; it is refused (split it into "
                                     "smaller files).") % {"limit": _mb(self.limits["uncompressed_bytes"])},
                             status=413)

    def row(self, table: str) -> None:
        self.rows += 1
        if self.rows > self.limits["rows"]:
            raise file_error(table, _("The file holds more than %(limit)s rows; split it into smaller files.")
                             % {"limit": f"{self.limits['rows']:,}"}, status=413)
