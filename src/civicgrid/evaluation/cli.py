"""``civicgrid compare --community CODE --event ...`` on the live records (the operator at the console:
every community)."""

from __future__ import annotations

import sys
from datetime import date

from civicgrid.emergency.models import Emergency
from civicgrid.engine._comparison_cli import estimates_frame
from civicgrid.evaluation.compare import compare
from civicgrid.evaluation.panel import SOURCES
from civicgrid.registry.models import Place


def run_live(*, community: str, event: str, outcome: str, compare_with: list[str], out: str) -> int:
    place = Place.objects.filter(level="community", code=community).first()
    if place is None:
        print(f"civicgrid compare: no community with code {community!r}", file=sys.stderr)
        return 2
    if outcome not in SOURCES:
        print(f"civicgrid compare: outcome must be one of {', '.join(SOURCES)}", file=sys.stderr)
        return 2
    try:
        if event.startswith("emergency:"):
            emergency = Emergency.objects.get(pk=int(event.split(":", 1)[1]), community=place)
            day = emergency.activated_at.date()
        else:
            day = date.fromisoformat(event)
    except (ValueError, Emergency.DoesNotExist):
        print(f"civicgrid compare: {event!r} is neither a date (YYYY-MM-DD) nor an emergency of {community}",
              file=sys.stderr)
        return 2
    others = list(Place.objects.filter(level="community", code__in=compare_with).exclude(pk=place.pk))
    if len(others) != len(set(compare_with) - {community}):
        print("civicgrid compare: unknown comparison community code", file=sys.stderr)
        return 2
    try:
        result = compare(community=place, event=day, source=outcome, comparisons=others,
                         event_en=f"{day} in {place.name}", event_zh=f"{place.name}{day}")
    except ValueError as exc:
        print(f"civicgrid compare: {exc}", file=sys.stderr)
        return 1
    frame = estimates_frame(result.its, result.did)
    frame.to_csv(sys.stdout if out == "-" else out, index=False)
    print(result.verdict["en"])
    print(result.verdict["zh"])
    return 0
