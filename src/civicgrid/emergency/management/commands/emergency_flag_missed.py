"""Flag the missed home-isolation check-ins of yesterday and before, and tell the grid members (the periodic job
emergency_flag_missed, every minute on the job queue: a run with nothing new is two queries)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from civicgrid.emergency.services import isolation_flag_missed


class Command(BaseCommand):
    help = "Flag missed home-isolation check-ins before today and notify the grid members."

    def handle(self, *args: Any, **options: Any) -> None:
        flagged = isolation_flag_missed(today=timezone.localdate())
        self.stdout.write(f"{len(flagged)} missed check-in(s) flagged")
