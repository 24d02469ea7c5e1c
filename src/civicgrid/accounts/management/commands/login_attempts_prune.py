"""Drop log-in attempts older than the lockout needs (the audit log keeps its record of each)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicgrid.accounts.lockout import attempts_prune


class Command(BaseCommand):
    help = "Delete log-in attempts older than CIVICGRID_LOGIN_KEEP_DAYS (default 30); the audit log keeps them."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{attempts_prune()} log-in attempt(s) pruned")
