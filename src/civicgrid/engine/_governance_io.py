"""Input records and output rendering for :mod:`civicgrid.engine.governance`.

Reading: a fixture is a YAML mapping with ``community``, ``actors``, ``households`` and optionally
``posts``, ``contributions`` and ``links`` (lists of mappings whose keys are the dataclass fields).

A top-level ``basis`` (``recorded`` or ``declared``) is the default provenance of every record
that does not state its own. ``households`` may be written compactly as ``{area: A, households: 100, vulnerable: 25}``
groups, which are expanded to one record per household with ids ``A-001`` ... in file order.

Writing: :func:`report_to_dict`, :func:`report_to_json` and :func:`report_to_text` render a
``GovernanceReport``; they only read its fields, so this module does not import the public one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from civicgrid.engine.governance import GovernanceReport

_SECTIONS = ("actors", "households", "posts", "contributions", "links")
_TOP_LEVEL = frozenset({"community", "basis", *_SECTIONS})
# Field that a top-level ``basis`` fills in, per section, where a record does not set it.
_BASIS_FIELD = {
    "actors": "capacity_basis",
    "posts": "basis",
    "contributions": "basis",
    "links": "basis",
}


def _expand_households(entries: list[Any]) -> list[dict[str, Any]]:
    households: list[dict[str, Any]] = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            raise TypeError(f"households entries must be mappings, got {entry!r}")
        if "households" not in entry:
            households.append(dict(entry))
            continue
        unknown = set(entry) - {"area", "households", "vulnerable"}
        if unknown:
            raise ValueError(f"unknown key(s) {sorted(unknown)} in household group {entry!r}")
        area, count, vulnerable = entry.get("area"), entry["households"], entry.get("vulnerable", 0)
        if not isinstance(count, int) or not isinstance(vulnerable, int) or isinstance(count, bool):
            raise TypeError(f"household group {area!r}: counts must be whole numbers")
        if count < 0 or not 0 <= vulnerable <= count:
            raise ValueError(
                f"household group {area!r}: need 0 <= vulnerable ({vulnerable}) <= "
                f"households ({count})"
            )
        width = max(3, len(str(count)))
        households += [
            {"id": f"{area}-{i + 1:0{width}d}", "area": area, "vulnerable": i < vulnerable}
            for i in range(count)
        ]
    return households


def read_fixture_records(path: str | Path) -> dict[str, Any]:
    """Parse a governance YAML fixture into ``community`` plus lists of record dicts."""
    with Path(path).open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: a governance fixture must be a mapping at the top level")
    unknown = set(data) - _TOP_LEVEL
    if unknown:
        raise ValueError(f"{path}: unknown top-level key(s) {sorted(unknown)}")
    for required in ("community", "actors", "households"):
        if required not in data:
            raise ValueError(f"{path}: missing top-level key {required!r}")
    records: dict[str, Any] = {"community": str(data["community"])}
    for section in _SECTIONS:
        entries = data.get(section) or []
        if not isinstance(entries, list):
            raise TypeError(f"{path}: {section!r} must be a list")
        if section == "households":
            records[section] = _expand_households(entries)
            continue
        for entry in entries:
            if not isinstance(entry, Mapping):
                raise TypeError(f"{path}: {section} entries must be mappings, got {entry!r}")
        default = {_BASIS_FIELD[section]: data["basis"]} if "basis" in data else {}
        records[section] = [{**default, **entry} for entry in entries]
    return records


def rows(records: Any, *, what: str) -> list[dict[str, Any]]:
    """Records as a list of dicts: from an iterable of mappings or a pandas DataFrame.

    Cells that are NaN (how a DataFrame marks absent values) are dropped.
    """
    if hasattr(records, "to_dict") and hasattr(records, "columns"):
        found = records.to_dict("records")
    else:
        found = list(records)
    for row in found:
        if not isinstance(row, Mapping):
            raise TypeError(f"{what} records must be mappings, got {row!r}")
    return [
        {str(k): v for k, v in row.items() if not (isinstance(v, float) and math.isnan(v))}
        for row in found
    ]


def actor_record(record: Mapping[str, Any], *, functions: Sequence[str]) -> dict[str, Any]:
    """Normalise an actor record: fold per-function columns into ``capacities`` and read
    ``service_area`` from a list or a ``;``-separated string."""
    row = dict(record)
    capacities = dict(row.pop("capacities", None) or {})
    for function in functions:
        if function in row:
            value = row.pop(function)
            # DataFrame columns of whole numbers turn into floats (40.0) once a cell is missing.
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            capacities[function] = value
    area = row.get("service_area") or ()
    if isinstance(area, str):
        area = [part.strip() for part in area.split(";") if part.strip()]
    row["service_area"] = tuple(area)
    row["capacities"] = capacities
    return row


def report_to_dict(report: GovernanceReport) -> dict[str, Any]:
    """Plain JSON-ready dict of ``report`` (the network as node and edge lists)."""

    def plain(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, tuple | list | set | frozenset):
            return [plain(v) for v in value]
        if hasattr(value, "__dataclass_fields__"):
            return {name: plain(getattr(value, name)) for name in value.__dataclass_fields__}
        return value

    data = {
        name: plain(getattr(report, name))
        for name in report.__dataclass_fields__
        if name != "network"
    }
    graph = report.network
    data["network"] = {
        "nodes": [{"id": node, **plain(attrs)} for node, attrs in graph.nodes(data=True)],
        "edges": [
            {"source": u, "target": v, **plain(attrs)} for u, v, attrs in graph.edges(data=True)
        ],
    }
    return data


def report_to_json(report: GovernanceReport, *, indent: int | None = 2) -> str:
    """``report`` as a JSON string (see :func:`report_to_dict`)."""
    return json.dumps(report_to_dict(report), indent=indent, sort_keys=False)


def report_to_text(report: GovernanceReport) -> str:
    """``report`` as plain text for the command line.

    Examples
    --------
    See :func:`governance_report`; ``print(report_to_text(report))`` prints the figures with
    their basis in brackets.
    """
    lines = [f"Governance report: {report.community}", ""]
    lines.append("Sector shares                 state  capital  society  balance  basis")
    rows = list(report.shares) + ([report.capacity_shares] if report.capacity_shares else [])
    for row in rows:
        label = row.kind
        if row.kind == "capacity":
            label = "capacity (in balance)" if not report.shares else "capacity (not in balance)"
        lines.append(
            f"  {label:<26}{row.shares['state']:>7.1%}{row.shares['capital']:>9.1%}"
            f"{row.shares['society']:>9.1%}{row.balance:>9.3f}  [{row.basis}]"
        )
    lines += [
        "",
        f"Balance score (mean normalised entropy, 1 = even): {report.balance:.3f} "
        f"[{report.balance_basis}]",
        f"Society strength (mean society share, even = 0.333): {report.society_strength:.3f}"
        f"{'  -> society weak' if report.society_weak else ''}",
        f"Fusion: {report.fusion.fused_key_posts}/{report.fusion.key_posts} key posts held by "
        f"people with posts in another sector = {report.fusion.score:.3f}"
        f"{'  -> fused' if report.fused else ''} [{report.fusion.basis}]",
        f"Actor network: {report.network.number_of_nodes()} actors, "
        f"{report.network.number_of_edges()} ties, degree centralisation "
        f"{report.centralization:.3f} [{report.network_basis}]",
        "",
        "Critical functions          demand  capacity  uncovered (vulnerable)  no provider  "
        "providers",
    ]
    for c in report.coverage:
        lines.append(
            f"  {c.function:<26}{c.demand:>6}{c.capacity:>10}{c.uncovered:>11} "
            f"({c.uncovered_vulnerable:>4}){c.without_provider:>18}  "
            f"{', '.join(c.providers) or '-'}  [{c.basis}]"
        )
    lines += ["", "Stress tests (newly uncovered households, vulnerable in brackets)"]
    for s in report.stress_tests:
        lost = (
            ", ".join(
                f"{f} {s.newly_uncovered[f]} ({s.newly_uncovered_vulnerable[f]})"
                for f in s.functions_losing_coverage
            )
            or "no loss"
        )
        lines.append(
            f"  {s.scenario.name}: at least {s.max_newly_uncovered} households "
            f"({s.max_newly_uncovered_vulnerable} vulnerable) lose a function; {lost}"
        )
    lines += ["", "Single points of failure"]
    for p in report.single_points_of_failure:
        lines.append(
            f"  {p.name} [{p.sector}]: {', '.join(p.functions)} - "
            f"{p.households_without_provider} households "
            f"({p.vulnerable_without_provider} vulnerable) left with no provider"
        )
    if not report.single_points_of_failure:
        lines.append("  none")
    lines += [f"Note: {note}" for note in report.notes]
    return "\n".join(lines)
