"""Recount the apps' tallies that are due (civicgrid.core.tallies), for the analytics pages."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from civicgrid.core.tallies import rebuild_stale


class Command(BaseCommand):
    help = "Recount every tally never counted or older than its maximum age (--all: every tally)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="recount every tally now")

    def handle(self, *args: Any, **options: Any) -> None:
        done = rebuild_stale(force=options["all"])
        self.stdout.write("; ".join(done) if done else "every tally is recent")
