"""Scenarios: what happens to a community, day by day, as a YAML file.

A scenario names its supply rhythm and its disruptions, each a dated event (days count from 0;
``from`` is the first day an event holds, ``to`` the first day it no longer does, default: to the
end)::

    name: lockdown
    title: {en: "Lockdown", zh: "封控"}
    days: 30
    self_fetch: true          # residents may collect from the distribution point themselves
    supply:
      ratio: 1.0              # arrivals per delivery / expected need of the covered households
      every: 2                # a delivery every 2 days
      cv: 0.2                 # coefficient of variation of each delivery (gamma)
      initial_days: 2         # stock at the start, in days of need
    events:
      - {type: supply, from: 3, to: 14, ratio: 0.4}                 # a shortfall
      - {type: volunteers_sick, from: 7, to: 21, share: 0.3}       # a share falls sick
      - {type: withdraw, from: 10, kinds: [enterprise]}            # an actor withdraws
      - {type: cut_off, from: 0, to: 5, share: 0.25}               # grids cut off (or areas: [...])
      - {type: phones_down, from: 0, to: 3, report_rate: 0.3}      # needs seen only at a visit
      - {type: self_fetch, from: 0, to: 7, allowed: false}         # nobody may go out

``withdraw`` takes ``actors`` (ids), ``kinds`` and ``sectors``; the governance engine's
availability (funding and command links) decides what its withdrawal takes with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EVENT_TYPES: tuple[str, ...] = (
    "supply",
    "volunteers_sick",
    "withdraw",
    "cut_off",
    "phones_down",
    "self_fetch",
)
_EVENT_KEYS: dict[str, frozenset[str]] = {
    "supply": frozenset({"ratio"}),
    "volunteers_sick": frozenset({"share"}),
    "withdraw": frozenset({"actors", "kinds", "sectors"}),
    "cut_off": frozenset({"areas", "share"}),
    "phones_down": frozenset({"report_rate"}),
    "self_fetch": frozenset({"allowed"}),
}
_TOP_KEYS = frozenset({"name", "title", "description", "days", "self_fetch", "supply", "events"})
_SUPPLY_KEYS = frozenset({"ratio", "every", "cv", "initial_days"})
MAX_DAYS = 365


@dataclass(frozen=True, kw_only=True)
class Event:
    """One dated disruption (see the module docstring for the types and their parameters)."""

    type: str
    start: int
    end: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def active(self, day: int) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


@dataclass(frozen=True, kw_only=True)
class Supply:
    ratio: float = 1.0
    every: int = 1
    cv: float = 0.0
    initial_days: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A named set of dated events; ``days`` is a default the caller may override."""

    name: str
    days: int = 30
    self_fetch: bool = True
    supply: Supply = field(default_factory=Supply)
    events: tuple[Event, ...] = ()
    title: Mapping[str, str] = field(default_factory=dict)
    description: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain data (YAML/JSON), the inverse of :func:`scenario_from_dict`."""
        return {
            "name": self.name,
            "title": dict(self.title),
            "description": dict(self.description),
            "days": self.days,
            "self_fetch": self.self_fetch,
            "supply": {
                "ratio": self.supply.ratio,
                "every": self.supply.every,
                "cv": self.supply.cv,
                "initial_days": self.supply.initial_days,
            },
            "events": [
                {"type": e.type, "from": e.start, **({"to": e.end} if e.end is not None else {}),
                 **dict(e.params)}
                for e in self.events
            ],
        }


def _number(value: Any, *, what: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"{what} must be a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def _day(value: Any, *, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DAYS:
        raise ValueError(f"{what} must be a whole day from 0 to {MAX_DAYS}, got {value!r}")
    return value


def _text_map(value: Any, *, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):
        return {"en": value}
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError(f"{what} must be text or a mapping of language to text")
    return {str(k): str(v)[:2000] for k, v in value.items()}


def _event(raw: Any, index: int) -> Event:
    if not isinstance(raw, Mapping):
        raise ValueError(f"event {index + 1} must be a mapping, got {raw!r}")
    kind = raw.get("type")
    if kind not in EVENT_TYPES:
        raise ValueError(f"event {index + 1}: unknown type {kind!r}; expected one of {EVENT_TYPES}")
    params = {k: v for k, v in raw.items() if k not in ("type", "from", "to")}
    unknown = set(params) - _EVENT_KEYS[kind]
    if unknown:
        raise ValueError(f"event {index + 1} ({kind}): unknown key(s) {sorted(unknown)}")
    start = _day(raw.get("from", 0), what=f"event {index + 1} 'from'")
    end = raw.get("to")
    if end is not None:
        end = _day(end, what=f"event {index + 1} 'to'")
        if end <= start:
            raise ValueError(f"event {index + 1}: 'to' ({end}) must come after 'from' ({start})")
    what = f"event {index + 1} ({kind})"
    if kind == "supply":
        params["ratio"] = _number(params.get("ratio", 0.0), what=f"{what} ratio", low=0, high=100)
    elif kind == "volunteers_sick":
        params["share"] = _number(params.get("share", 0.0), what=f"{what} share", low=0, high=1)
    elif kind == "phones_down":
        params["report_rate"] = _number(
            params.get("report_rate", 0.0), what=f"{what} report_rate", low=0, high=1
        )
    elif kind == "cut_off":
        if "share" in params:
            params["share"] = _number(params["share"], what=f"{what} share", low=0, high=1)
        if not ("share" in params or params.get("areas")):
            raise ValueError(f"{what} needs 'areas' or 'share'")
    elif kind == "self_fetch":
        if not isinstance(params.get("allowed"), bool):
            raise ValueError(f"{what} needs 'allowed: true|false'")
    elif kind == "withdraw" and not any(params.get(k) for k in ("actors", "kinds", "sectors")):
        raise ValueError(f"{what} needs 'actors', 'kinds' or 'sectors'")
    for key in ("actors", "kinds", "sectors", "areas"):
        if key in params:
            value = params[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{what} {key!r} must be a list of names")
            params[key] = tuple(value)
    return Event(type=kind, start=start, end=end, params=params)


def scenario_from_dict(data: Any) -> Scenario:
    """Check and build a scenario from parsed YAML/JSON.

    Examples
    --------
    >>> from civicgrid.engine._simulation_scenario import scenario_from_dict
    >>> s = scenario_from_dict({"name": "t", "days": 10,
    ...                         "events": [{"type": "supply", "from": 2, "to": 5, "ratio": 0.5}]})
    >>> s.events[0].active(4), s.events[0].active(5)
    (True, False)
    >>> scenario_from_dict({"name": "t", "events": [{"type": "storm"}]})
    Traceback (most recent call last):
    ...
    ValueError: event 1: unknown type 'storm'; expected one of ('supply', 'volunteers_sick', 'withdraw', 'cut_off', 'phones_down', 'self_fetch')
    """
    if not isinstance(data, Mapping):
        raise ValueError("a scenario must be a mapping at the top level")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ValueError(f"unknown scenario key(s) {sorted(unknown)}")
    name = data.get("name")
    if not isinstance(name, str) or not name or len(name) > 100:
        raise ValueError("a scenario needs a 'name' (text, at most 100 characters)")
    raw_supply = data.get("supply") or {}
    if not isinstance(raw_supply, Mapping) or set(raw_supply) - _SUPPLY_KEYS:
        raise ValueError(f"'supply' must be a mapping with keys among {sorted(_SUPPLY_KEYS)}")
    every = raw_supply.get("every", 1)
    if isinstance(every, bool) or not isinstance(every, int) or not 1 <= every <= 30:
        raise ValueError(f"supply 'every' must be a whole number of days from 1 to 30, got {every!r}")
    supply = Supply(
        ratio=_number(raw_supply.get("ratio", 1.0), what="supply ratio", low=0, high=100),
        every=every,
        cv=_number(raw_supply.get("cv", 0.0), what="supply cv", low=0, high=5),
        initial_days=_number(
            raw_supply.get("initial_days", 0.0), what="supply initial_days", low=0, high=365
        ),
    )
    events = data.get("events") or []
    if not isinstance(events, list) or len(events) > 100:
        raise ValueError("'events' must be a list of at most 100 events")
    days = data.get("days", 30)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValueError(f"'days' must be a whole number from 1 to {MAX_DAYS}, got {days!r}")
    self_fetch = data.get("self_fetch", True)
    if not isinstance(self_fetch, bool):
        raise ValueError("'self_fetch' must be true or false")
    return Scenario(
        name=name,
        days=days,
        self_fetch=self_fetch,
        supply=supply,
        events=tuple(_event(e, i) for i, e in enumerate(events)),
        title=_text_map(data.get("title"), what="'title'"),
        description=_text_map(data.get("description"), what="'description'"),
    )


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario YAML file (see the module docstring)."""
    with Path(path).open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    try:
        return scenario_from_dict(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def bundled_scenarios() -> dict[str, Path]:
    """The example scenarios shipped in ``civicgrid/engine/scenarios/`` by name (file stem)."""
    folder = Path(__file__).with_name("scenarios")
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}
