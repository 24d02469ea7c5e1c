"""Post volunteer hours for confirmed deliveries and sweep visits not posted yet."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicgrid.volunteers.services import hours_post_confirmed


class Command(BaseCommand):
    help = "Post volunteer hours for confirmed deliveries and sweep visits (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"posted {hours_post_confirmed()} hour entry(ies)")
