"""The append-only audit log, shared by every app (one mechanism: :mod:`civicgrid.core.audit`), chained by
hashes so that a changed, removed or forged row is found (:mod:`civicgrid.core.auditchain`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.core import auditchain


class AuditLogQuerySet(models.QuerySet["AuditLog"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("the audit log is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("the audit log is append-only")

    def _raw_delete(self, using: Any) -> int:
        raise PermissionError("the audit log is append-only")

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[AuditLog]:  # type: ignore[override]
        raise PermissionError("audit rows are chained one by one (civicgrid.core.audit.record / record_bulk)")

    def bulk_update(self, objs: Any, *args: Any, **kwargs: Any) -> int:
        raise PermissionError("the audit log is append-only")


class AuditLog(models.Model):
    class Action(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"
        DELETE = "delete"
        IMPORT = "import"
        EXPORT = "export"
        BULK = "bulk"  # one summarising row for many records (see civicgrid.core.audit.record_bulk)

    # Set by the chain when the row is appended (not auto_now_add: the hash covers the stored instant).
    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    # The typed event ("relief.round_confirmed"), declared by the app that owns it.
    event = models.CharField(max_length=64, db_index=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    model = models.CharField(max_length=64)  # app_label.ModelName
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True)
    # Where the record lives in the place hierarchy, so the log is scoped like the records themselves.
    place_path = models.CharField(max_length=255, blank=True, db_index=True)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    # The hash chain (civicgrid.core.auditchain): place in the chain, the previous row's hash, this row's.
    seq = models.BigIntegerField(unique=True, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    row_hash = models.CharField(max_length=64, editable=False)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["model", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.event} {self.model}#{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Integrity, not business logic: a written entry is never rewritten.
        if self.pk is not None:
            raise PermissionError("the audit log is append-only")
        kwargs["force_insert"] = True

        def insert(db: str) -> None:
            super(AuditLog, self).save(*args, **{**kwargs, "using": db})

        auditchain.append(self, insert)

    @classmethod
    def append_all(cls, entries: list[AuditLog]) -> None:
        """Append new (unsaved) entries to the chain together: one head lock, one INSERT."""
        if any(entry.pk is not None for entry in entries):
            raise PermissionError("the audit log is append-only")

        def insert(db: str) -> None:
            # the plain manager: the log's own queryset refuses bulk writes that bypass the chain
            cls._base_manager.using(db).bulk_create(entries)

        auditchain.append_many(entries, insert)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("the audit log is append-only")


class AuditChainHead(models.Model):
    """The chain's last ``seq`` and hash, one row, written with every append in the same transaction; its
    lock serialises appends, and it tells :func:`civicgrid.core.auditchain.verify` how long the chain was."""

    SINGLETON = 1

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=auditchain.GENESIS)

    def __str__(self) -> str:
        return f"{self.seq} {self.hash}"


class TallyRow(models.Model):
    """One cell of an app's tally (:mod:`civicgrid.core.tallies`): the measures of one refresh part (a
    round, an alert, or '' for none), grid, day and group. Grid ids are plain integers so that core
    depends on no app."""

    name = models.CharField(max_length=60)
    part = models.CharField(max_length=40, blank=True)
    grid_id = models.BigIntegerField(null=True)
    day = models.DateField(null=True)
    group = models.CharField(max_length=20, blank=True)
    m0 = models.FloatField(default=0.0)
    m1 = models.FloatField(default=0.0)
    m2 = models.FloatField(default=0.0)
    m3 = models.FloatField(default=0.0)

    class Meta:
        indexes = [models.Index(fields=["name", "part"]), models.Index(fields=["name", "day"])]
        constraints = [
            # one cell per part, grid and group (a count's GROUP BY gives no more): what a write adding to a
            # cell (tallies.add, an upsert) finds its cell by. Cells with a day are only ever recounted.
            models.UniqueConstraint(fields=["name", "part", "grid_id", "group"], condition=models.Q(day__isnull=True),
                                    name="tallyrow_one_cell"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.part} {self.grid_id} {self.day or ''} {self.group}"


class TallyState(models.Model):
    """When a tally was last counted whole (the figures' "as of" when it is only rebuilt by the job)."""

    name = models.CharField(max_length=60, primary_key=True)
    rebuilt_at = models.DateTimeField()
    rows = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0.0)

    def __str__(self) -> str:
        return f"{self.name} {self.rebuilt_at:%Y-%m-%d %H:%M}"


class SavedRun(models.Model):
    """A long computation a user asks for and the platform runs as a background job (a what-if run, a
    before/after comparison): its state, progress, result or error, who asked, and what it reruns. Each app's
    concrete model adds its inputs (which, with the seed, reproduce the numbers) and its constraints;
    :mod:`civicgrid.core.runs` moves a run through its states, audited."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    place_path = models.CharField(max_length=255, db_index=True, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    result = models.JSONField(null=True, blank=True, editable=False)
    error = models.CharField(max_length=500, blank=True, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    rerun_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]
