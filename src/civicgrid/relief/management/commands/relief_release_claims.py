"""Put lapsed delivery claims back in the queue."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicgrid.relief.services import delivery_claims_release_expired


class Command(BaseCommand):
    help = "Release delivery claims whose holder recorded no delivery in time."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"released {delivery_claims_release_expired()} lapsed claim(s)")
