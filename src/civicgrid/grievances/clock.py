"""The grievance clock: running time that stops only while the grievance is paused for a stated reason.

Pure functions (no Django), so the arithmetic is tested on its own (tests/platform/test_grievances_clock.py,
with properties). A pause is an interval ``(start, end)``; ``end`` is None while the pause lasts. A limit
counts running time only: the deadline of a limit is the instant at which the time run since ``start``,
paused intervals excluded, reaches the limit; it is None while the clock stands still before reaching it.

>>> from datetime import datetime, timedelta
>>> t0 = datetime(2026, 3, 1, 9, 0)
>>> deadline(start=t0, limit=timedelta(hours=10), pauses=[(t0 + timedelta(hours=2), t0 + timedelta(hours=5))])
datetime.datetime(2026, 3, 1, 22, 0)
>>> running(start=t0, end=t0 + timedelta(hours=6), pauses=[(t0 + timedelta(hours=2), t0 + timedelta(hours=5))])
datetime.timedelta(seconds=10800)
>>> deadline(start=t0, limit=timedelta(hours=10), pauses=[(t0 + timedelta(hours=2), None)]) is None
True
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

Pause = tuple[datetime, datetime | None]
ZERO = timedelta(0)


def merged(pauses: Iterable[Pause]) -> list[Pause]:
    """The pauses sorted and overlapping ones joined (an open pause swallows every later one)."""
    out: list[Pause] = []
    for start, end in sorted(pauses, key=lambda p: p[0]):
        if end is not None and end <= start:
            continue  # an empty interval stops nothing
        if out:
            last_start, last_end = out[-1]
            if last_end is None:
                break
            if start <= last_end:
                out[-1] = (last_start, None if end is None else max(last_end, end))
                continue
        out.append((start, end))
    return out


def running(*, start: datetime, end: datetime, pauses: Iterable[Pause]) -> timedelta:
    """Running time between ``start`` and ``end``: the length of [start, end) outside every pause."""
    if end <= start:
        return ZERO
    total, t = ZERO, start
    for p_start, p_end in merged(pauses):
        if p_end is not None and p_end <= t:
            continue
        if p_start >= end:
            break
        if p_start > t:
            total += p_start - t
        if p_end is None or p_end >= end:
            return total
        t = max(t, p_end)
    return total + (end - t)


def deadline(*, start: datetime, limit: timedelta, pauses: Iterable[Pause]) -> datetime | None:
    """The instant the running time since ``start`` reaches ``limit``; None when an open pause stops the
    clock before it does. A pause that begins after the deadline does not move it."""
    remaining, t = limit, start
    for p_start, p_end in merged(pauses):
        if p_end is not None and p_end <= t:
            continue
        if remaining <= ZERO:  # reached before this pause begins
            return t
        if p_start > t:
            if p_start - t >= remaining:
                return t + remaining
            remaining -= p_start - t
        if p_end is None:
            return None
        t = max(t, p_end)
    return t + remaining


def remaining(*, start: datetime, limit: timedelta, pauses: Iterable[Pause], now: datetime) -> timedelta:
    """Running time left before the limit at ``now`` (negative once it is breached)."""
    return limit - running(start=start, end=now, pauses=pauses)
