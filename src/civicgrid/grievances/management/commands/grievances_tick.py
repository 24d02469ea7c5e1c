"""Escalate grievances past their level's limit and remind handlers before a breach (every minute)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicgrid.grievances.services import grievances_tick


class Command(BaseCommand):
    help = "Escalate overdue grievances one level and remind handlers of those about to be overdue."

    def handle(self, *args: Any, **options: Any) -> None:
        done = grievances_tick()
        self.stdout.write(f"{done['escalated']} escalated, {done['reminded']} reminder(s) sent")
