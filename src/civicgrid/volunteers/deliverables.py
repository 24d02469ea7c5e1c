"""Counters of this app's records that a purchased-service contract's milestone can be tied to."""

from __future__ import annotations

from datetime import datetime

from civicgrid.volunteers.models import CareVisit


def care_visits_done(*, place_path: str, start: datetime, end: datetime, actor_id: int | None) -> int:
    """Care visits recorded as done in ``place_path`` between ``start`` and ``end`` (by people holding a
    post in ``actor_id``, when given)."""
    visits = CareVisit.objects.filter(status=CareVisit.Status.DONE, place_path__startswith=place_path,
                                      done_at__gte=start, done_at__lt=end)
    if actor_id is not None:
        visits = visits.filter(visitor__posts__actor_id=actor_id)
    return visits.values("pk").distinct().count()
