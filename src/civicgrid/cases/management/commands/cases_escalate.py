"""Escalate overdue cases one level (run it from cron every few minutes)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicgrid.cases.services import cases_escalate_overdue


class Command(BaseCommand):
    help = "Escalate every case past its current level's time limit by one level."

    def handle(self, *args: Any, **options: Any) -> None:
        escalated = cases_escalate_overdue()
        for case in escalated:
            self.stdout.write(f"{case.code} -> {case.level}")
        self.stdout.write(f"{len(escalated)} case(s) escalated")
