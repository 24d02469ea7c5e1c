"""The grievance clock (civicgrid.grievances.clock) against its definition, by properties: the deadline is
where the running time (the length of [start, t) outside every pause, measured here by brute force on a
minute grid) reaches the limit."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from civicgrid.grievances.clock import deadline, merged, remaining, running

T0 = datetime(2026, 1, 5, 9, 0)
minutes = st.integers(min_value=0, max_value=600)


@st.composite
def pauses(draw: st.DrawFn, open_allowed: bool = True) -> list[tuple[datetime, datetime | None]]:
    out: list[tuple[datetime, datetime | None]] = []
    for _ in range(draw(st.integers(0, 4))):
        start = draw(st.integers(-100, 500))
        length = draw(st.integers(0, 200))
        is_open = open_allowed and draw(st.booleans()) and draw(st.booleans())
        out.append((T0 + timedelta(minutes=start), None if is_open else T0 + timedelta(minutes=start + length)))
    return out


def _paused_at(minute: int, ps: list[tuple[datetime, datetime | None]]) -> bool:
    t = T0 + timedelta(minutes=minute)
    return any(s <= t and (e is None or t < e) for s, e in ps)


def _brute_running(end_minute: int, ps: list[tuple[datetime, datetime | None]]) -> int:
    """Minutes in [0, end) not inside a pause (pauses start and end on whole minutes)."""
    return sum(1 for m in range(max(end_minute, 0)) if not _paused_at(m, ps))


@settings(max_examples=300, deadline=None)
@given(ps=pauses(), end=st.integers(-50, 900))
def test_running_time_is_the_time_outside_every_pause(ps, end) -> None:
    assert running(start=T0, end=T0 + timedelta(minutes=end), pauses=ps) == timedelta(minutes=_brute_running(end, ps))


@settings(max_examples=300, deadline=None)
@given(ps=pauses(), limit=minutes)
def test_the_deadline_is_where_running_time_reaches_the_limit(ps, limit) -> None:
    due = deadline(start=T0, limit=timedelta(minutes=limit), pauses=ps)
    if due is None:  # the clock stands still for good (an open pause) before the limit is reached
        assert any(e is None for _s, e in ps)
        stop = min(s for s, e in merged(ps) if e is None)
        assert running(start=T0, end=stop, pauses=ps) < timedelta(minutes=limit)
        return
    assert running(start=T0, end=due, pauses=ps) == timedelta(minutes=limit)
    assert due >= T0 + timedelta(minutes=limit)  # a pause never brings a deadline forward
    if limit:  # and it is the first such instant: a minute earlier the limit is not reached
        assert running(start=T0, end=due - timedelta(minutes=1), pauses=ps) < timedelta(minutes=limit)


@settings(max_examples=200, deadline=None)
@given(ps=pauses(open_allowed=False), extra=pauses(open_allowed=False), limit=minutes)
def test_adding_a_pause_never_makes_the_deadline_earlier(ps, extra, limit) -> None:
    before = deadline(start=T0, limit=timedelta(minutes=limit), pauses=ps)
    after = deadline(start=T0, limit=timedelta(minutes=limit), pauses=ps + extra)
    assert before is not None and after is not None and after >= before


@settings(max_examples=200, deadline=None)
@given(ps=pauses(open_allowed=False), limit=minutes, later=st.integers(1, 300))
def test_a_pause_after_the_deadline_does_not_move_it(ps, limit, later) -> None:
    due = deadline(start=T0, limit=timedelta(minutes=limit), pauses=ps)
    assert due is not None
    moved = deadline(start=T0, limit=timedelta(minutes=limit), pauses=[*ps, (due + timedelta(minutes=later), None)])
    assert moved == due


@given(limit=minutes, now=st.integers(0, 900))
def test_without_pauses_the_clock_is_the_wall_clock(limit, now) -> None:
    assert deadline(start=T0, limit=timedelta(minutes=limit), pauses=[]) == T0 + timedelta(minutes=limit)
    left = remaining(start=T0, limit=timedelta(minutes=limit), pauses=[], now=T0 + timedelta(minutes=now))
    assert left == timedelta(minutes=limit - now)


def test_the_module_examples_hold() -> None:
    import doctest

    from civicgrid.grievances import chain, clock

    for module in (clock, chain):
        assert doctest.testmod(module).failed == 0
