"""Fail the round confirmations the job queue will no longer run."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicgrid.relief.confirmations import confirmations_lost_fail


class Command(BaseCommand):
    help = "Fail queued or running round confirmations that the job queue will no longer run."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"failed {confirmations_lost_fail()} lost round confirmation(s)")
