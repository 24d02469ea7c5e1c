"""Mark mediation follow-up visits whose time has come as due (every minute)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from civicgrid.mediation.services import followups_mark_due


class Command(BaseCommand):
    help = "Turn each mediation follow-up visit whose time has come into a work item of its mediator."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{len(followups_mark_due())} follow-up visit(s) now due")
