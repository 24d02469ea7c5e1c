"""Count missed care visits (they reach the grid member's work list) and schedule paired helpers' next visits."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicgrid.volunteers.services import visits_schedule_and_count_missed


class Command(BaseCommand):
    help = "Mark overdue care visits missed and schedule each active pairing's next visit."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = visits_schedule_and_count_missed()
        self.stdout.write(f"missed {counts['missed']}, scheduled {counts['scheduled']}")
