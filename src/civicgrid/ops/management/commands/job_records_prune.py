"""Drop records of failed job runs older than CIVICGRID_JOB_FAILURES_KEEP_DAYS (civicgrid.ops.jobs)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicgrid.ops.jobs import job_records_prune


class Command(BaseCommand):
    help = "Delete records of failed job runs older than CIVICGRID_JOB_FAILURES_KEEP_DAYS (default 90)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{job_records_prune()} failed job record(s) pruned")
