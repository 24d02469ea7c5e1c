"""Send the queued alert messages: chunk after chunk for up to --budget seconds (the periodic job's
minute), or every N seconds with --loop N."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from civicgrid.alerts.outbox import CHUNK, alerts_outbox_drain


class Command(BaseCommand):
    help = "Send queued SMS and e-mail alert deliveries (the outbox)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=CHUNK, help="deliveries claimed at a time")
        parser.add_argument("--budget", type=float, default=50.0,
                            help="keep sending batches while any are due, for up to this many seconds")
        parser.add_argument("--loop", type=float, default=0.0, help="keep running, pausing this many seconds")

    def handle(self, *args: Any, limit: int, budget: float, loop: float, **options: Any) -> None:
        while True:
            result = alerts_outbox_drain(limit=limit, budget_seconds=budget)
            self.stdout.write(f"sent {result.sent}, retrying {result.retrying}, failed {result.failed}")
            if loop <= 0:
                return
            time.sleep(loop)
