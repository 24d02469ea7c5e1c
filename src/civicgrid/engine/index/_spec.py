"""The declarative index specification: dataclasses and their validation from a dict or YAML.

A specification is a tree.  Leaves are *indicators* (an input column, a direction, and how to
treat missing values, outliers and scale); inner nodes are *groups* (themes, dimensions, the
index itself) that aggregate their children.  Every choice is explicit in the specification so
that a published index can be reproduced exactly and a user can see why a unit ranks where it
does.  The YAML layout mirrors the dataclasses one to one::

    name: Example index
    id_column: unit                     # optional: the column that names the units
    missing_codes: [-999, "x"]          # input values that mean "no data"
    flags: {threshold: 0.9}             # optional: flag indicators at or above the threshold
    output: {missing: -999}             # code written for missing values in published tables
    defaults:
      missing: exclude                  # exclude | mean | median | group_mean
      normalise: percent_rank           # none | percent_rank | minmax | zscore | goalposts
      round: {decimals: 4, mode: half_up}
    indicators:
      - {name: poverty, column: EP_POV, direction: 1}
      - {name: income, column: EP_PCI, direction: -1,
         outliers: {winsorise: [0.01, 0.99], transform: log}}
    groups:
      - name: overall
        children: [poverty, income]
        aggregate: {method: arithmetic, weights: equal, missing: available}
        normalise: {method: minmax, range: [0, 10]}
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import yaml

from ._rounding import ROUNDING_MODES

MISSING_STRATEGIES: Final = ("exclude", "mean", "median", "group_mean")
NORMALISATION_METHODS: Final = ("none", "percent_rank", "minmax", "zscore", "goalposts")
AGGREGATION_METHODS: Final = (
    "arithmetic",
    "geometric",
    "generalised",
    "sum",
    "max",
    "min",
    "reflected_geometric",
    "rank_of_sum",
)
WEIGHTING_SCHEMES: Final = ("equal", "pca")
TRANSFORMS: Final = ("log", "log1p")
MISSING_POLICIES: Final = ("available", "propagate")


@dataclass(frozen=True)
class Rounding:
    """Round to ``decimals`` places; ``mode`` is ``half_up``, ``half_even`` or ``down``."""

    decimals: int
    mode: str = "half_up"


@dataclass(frozen=True)
class Missing:
    """How an indicator's missing values are treated before normalisation.

    ``exclude`` leaves them out of rankings and statistics; ``mean``/``median`` impute the
    indicator's mean/median; ``group_mean`` imputes the mean within ``IndexSpec.group_column``.
    """

    strategy: str = "exclude"


@dataclass(frozen=True)
class Outliers:
    """Outlier treatment: winsorise at the given quantiles, then an optional log transform."""

    winsorise: tuple[float, float] | None = None
    transform: str | None = None


@dataclass(frozen=True)
class Normalisation:
    """Bring values to a common scale.

    ``percent_rank``: ``(rank - 1) / (N - 1)`` with ties at the lowest rank, in ``range``.
    ``minmax``: linear map of [min, max] onto ``range``.  ``zscore``: standardised to
    ``mean``/``sd`` (sample standard deviation).  ``goalposts``: linear map of
    ``goalposts=(low, high)`` onto ``range``, clipped when ``clip``.  ``none``: unchanged.
    """

    method: str = "none"
    range: tuple[float, float] = (0.0, 1.0)
    mean: float = 0.0
    sd: float = 1.0
    goalposts: tuple[float, float] | None = None
    clip: bool = True


@dataclass(frozen=True)
class Aggregation:
    """How a group combines its children.

    ``weights`` is ``"equal"`` (every child weighs 1), ``"pca"`` (principal-component weights
    computed from the children) or a mapping child -> weight.  ``p`` is the exponent of the
    generalised mean, ``ceiling`` the reflection point of ``reflected_geometric``
    (``ceiling - geometric_mean(ceiling - x)``, INFORM's rule with ceiling 11).  With
    ``missing="available"`` a unit is scored over the children it has (weights renormalised)
    when it has at least ``min_present``; with ``"propagate"`` any missing child makes it missing.
    """

    method: str = "arithmetic"
    weights: str | tuple[tuple[str, float], ...] = "equal"
    p: float | None = None
    ceiling: float | None = None
    missing: str = "available"
    min_present: int = 1


@dataclass(frozen=True)
class Indicator:
    """A leaf of the index tree: one input column."""

    name: str
    column: str
    direction: int = 1
    label: str = ""
    optional: bool = False
    missing: Missing | None = None
    outliers: Outliers | None = None
    normalise: Normalisation | None = None
    round: Rounding | None = None
    outputs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Group:
    """An inner node of the index tree (theme, dimension or the index itself)."""

    name: str
    children: tuple[str, ...]
    aggregate: Aggregation = field(default_factory=Aggregation)
    normalise: Normalisation | None = None
    round: Rounding | None = None
    inputs: str = "score"
    label: str = ""
    outputs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class IndexSpec:
    """A complete, validated index specification (see the module docstring for the layout).

    Examples
    --------
    >>> spec = IndexSpec.from_dict({
    ...     "name": "demo",
    ...     "indicators": [{"name": "a"}, {"name": "b", "direction": -1}],
    ...     "groups": [{"name": "index", "children": ["a", "b"]}],
    ...     "defaults": {"normalise": "minmax"},
    ... })
    >>> spec.root, [i.name for i in spec.indicators]
    ('index', ['a', 'b'])
    """

    name: str
    indicators: tuple[Indicator, ...]
    groups: tuple[Group, ...]
    root: str
    description: str = ""
    id_column: str | None = None
    group_column: str | None = None
    missing_codes: tuple[float | str, ...] = ()
    flag_threshold: float | None = None
    output_missing: float | str | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> IndexSpec:
        """Validate a plain mapping (e.g. parsed YAML) into a specification."""
        return _parse_spec(raw)

    @classmethod
    def from_yaml(cls, text: str) -> IndexSpec:
        """Parse a YAML document."""
        loaded = yaml.safe_load(text)
        if not isinstance(loaded, Mapping):
            raise ValueError("an index specification must be a YAML mapping at top level")
        return _parse_spec(loaded)

    @classmethod
    def load(cls, path: str | Path) -> IndexSpec:
        """Read a YAML specification file."""
        return cls.from_yaml(Path(path).read_text(encoding="utf-8"))

    @classmethod
    def coerce(cls, spec: IndexSpec | Mapping[str, Any] | str | Path) -> IndexSpec:
        """Accept a specification, a mapping or a path to a YAML file."""
        if isinstance(spec, IndexSpec):
            return spec
        if isinstance(spec, Mapping):
            return cls.from_dict(spec)
        if isinstance(spec, str | Path):
            return cls.load(spec)
        raise TypeError(
            f"spec must be an IndexSpec, a mapping or a path, not {type(spec).__name__}"
        )

    # ------------------------------------------------------------------ queries
    @property
    def indicator_names(self) -> tuple[str, ...]:
        return tuple(indicator.name for indicator in self.indicators)

    def indicator(self, name: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.name == name:
                return indicator
        raise KeyError(name)

    def group(self, name: str) -> Group:
        for group in self.groups:
            if group.name == name:
                return group
        raise KeyError(name)

    def without_indicators(self, names: Iterable[str]) -> IndexSpec:
        """A copy with the named indicators removed from the tree (used for absent optional
        columns); a group left without children is an error."""
        dropped = set(names)
        if not dropped:
            return self
        groups = []
        for group in self.groups:
            children = tuple(child for child in group.children if child not in dropped)
            if not children:
                raise ValueError(
                    f"group {group.name!r} has no children left after dropping {sorted(dropped)}"
                )
            aggregate = group.aggregate
            if isinstance(aggregate.weights, tuple):
                weights = tuple((k, w) for k, w in aggregate.weights if k not in dropped)
                aggregate = replace(aggregate, weights=weights)
            groups.append(replace(group, children=children, aggregate=aggregate))
        indicators = tuple(i for i in self.indicators if i.name not in dropped)
        return replace(self, indicators=indicators, groups=tuple(groups))

    def topological_groups(self) -> tuple[Group, ...]:
        """Groups ordered so every group comes after all of its child groups."""
        by_name = {group.name: group for group in self.groups}
        ordered: list[Group] = []
        done: set[str] = set()

        def visit(name: str, trail: tuple[str, ...]) -> None:
            if name in done or name not in by_name:
                return
            if name in trail:
                raise ValueError(f"the group tree has a cycle: {' -> '.join((*trail, name))}")
            for child in by_name[name].children:
                visit(child, (*trail, name))
            done.add(name)
            ordered.append(by_name[name])

        for group in self.groups:
            visit(group.name, ())
        return tuple(ordered)

    def descendant_indicators(self, name: str) -> tuple[str, ...]:
        """The indicators under a node, in tree order."""
        indicator_names = set(self.indicator_names)
        if name in indicator_names:
            return (name,)
        found: list[str] = []
        for child in self.group(name).children:
            found.extend(self.descendant_indicators(child))
        return tuple(found)


# ---------------------------------------------------------------------- parsing helpers
def _require_mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} must be a mapping, got {value!r}")
    return value


def _reject_unknown(raw: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")


def _as_float(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{where} must be finite, got {value!r}")
    return number


def _as_pair(value: Any, where: str) -> tuple[float, float]:
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
        raise ValueError(f"{where} must be a pair [low, high], got {value!r}")
    low, high = _as_float(value[0], where), _as_float(value[1], where)
    return low, high


def _parse_rounding(raw: Any, where: str) -> Rounding | None:
    if raw is None:
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = {"decimals": raw}
    mapping = _require_mapping(raw, where)
    _reject_unknown(mapping, ("decimals", "mode"), where)
    decimals = mapping.get("decimals")
    if not isinstance(decimals, int) or isinstance(decimals, bool) or decimals < 0:
        raise ValueError(f"{where}.decimals must be a non-negative integer, got {decimals!r}")
    mode = mapping.get("mode", "half_up")
    if mode not in ROUNDING_MODES:
        raise ValueError(f"{where}.mode must be one of {ROUNDING_MODES}, got {mode!r}")
    return Rounding(decimals=decimals, mode=mode)


def _parse_missing(raw: Any, where: str) -> Missing:
    if isinstance(raw, str):
        raw = {"strategy": raw}
    mapping = _require_mapping(raw, where)
    _reject_unknown(mapping, ("strategy",), where)
    strategy = mapping.get("strategy", "exclude")
    if strategy not in MISSING_STRATEGIES:
        raise ValueError(
            f"{where}: missing strategy must be one of {MISSING_STRATEGIES}, got {strategy!r}"
        )
    return Missing(strategy=strategy)


def _parse_outliers(raw: Any, where: str) -> Outliers:
    mapping = _require_mapping(raw, where)
    _reject_unknown(mapping, ("winsorise", "transform"), where)
    winsorise = None
    if mapping.get("winsorise") is not None:
        low, high = _as_pair(mapping["winsorise"], f"{where}.winsorise")
        if not 0.0 <= low < high <= 1.0:
            raise ValueError(
                f"{where}.winsorise quantiles must satisfy 0 <= low < high <= 1, got {[low, high]}"
            )
        winsorise = (low, high)
    transform = mapping.get("transform")
    if transform is not None and transform not in TRANSFORMS:
        raise ValueError(f"{where}.transform must be one of {TRANSFORMS}, got {transform!r}")
    return Outliers(winsorise=winsorise, transform=transform)


def _parse_normalisation(raw: Any, where: str) -> Normalisation:
    if isinstance(raw, str):
        raw = {"method": raw}
    mapping = _require_mapping(raw, where)
    _reject_unknown(mapping, ("method", "range", "mean", "sd", "goalposts", "clip"), where)
    method = mapping.get("method", "none")
    if method not in NORMALISATION_METHODS:
        raise ValueError(
            f"{where}: normalisation method must be one of {NORMALISATION_METHODS}, got {method!r}"
        )
    target = _as_pair(mapping.get("range", (0.0, 1.0)), f"{where}.range")
    if target[0] == target[1]:
        raise ValueError(f"{where}.range must not be empty, got {list(target)}")
    sd = _as_float(mapping.get("sd", 1.0), f"{where}.sd")
    if sd <= 0:
        raise ValueError(f"{where}.sd must be positive, got {sd}")
    goalposts = None
    if method == "goalposts":
        if "goalposts" not in mapping:
            raise ValueError(f"{where}: method 'goalposts' needs goalposts: [low, high]")
        goalposts = _as_pair(mapping["goalposts"], f"{where}.goalposts")
        if goalposts[0] == goalposts[1]:
            raise ValueError(f"{where}.goalposts must differ, got {list(goalposts)}")
    clip = mapping.get("clip", True)
    if not isinstance(clip, bool):
        raise ValueError(f"{where}.clip must be true or false, got {clip!r}")
    return Normalisation(
        method=method,
        range=target,
        mean=_as_float(mapping.get("mean", 0.0), f"{where}.mean"),
        sd=sd,
        goalposts=goalposts,
        clip=clip,
    )


def _parse_aggregation(raw: Any, where: str) -> Aggregation:
    if isinstance(raw, str):
        raw = {"method": raw}
    mapping = _require_mapping(raw, where)
    _reject_unknown(mapping, ("method", "weights", "p", "ceiling", "missing", "min_present"), where)
    method = mapping.get("method", "arithmetic")
    if method not in AGGREGATION_METHODS:
        raise ValueError(
            f"{where}: aggregation method must be one of {AGGREGATION_METHODS}, got {method!r}"
        )
    raw_weights = mapping.get("weights", "equal")
    weights: str | tuple[tuple[str, float], ...]
    if isinstance(raw_weights, str):
        if raw_weights not in WEIGHTING_SCHEMES:
            raise ValueError(
                f"{where}.weights must be one of {WEIGHTING_SCHEMES} or a mapping, "
                f"got {raw_weights!r}"
            )
        weights = raw_weights
    else:
        weight_map = _require_mapping(raw_weights, f"{where}.weights")
        weights = tuple(
            (str(k), _as_float(v, f"{where}.weights[{k}]")) for k, v in weight_map.items()
        )
        if any(w < 0 for _, w in weights):
            raise ValueError(f"{where}.weights must be non-negative, got {dict(weights)}")
    p = mapping.get("p")
    if method == "generalised":
        if p is None:
            raise ValueError(f"{where}: method 'generalised' needs an exponent p")
        p = _as_float(p, f"{where}.p")
    elif p is not None:
        raise ValueError(f"{where}: p is only used by method 'generalised'")
    ceiling = mapping.get("ceiling")
    if method == "reflected_geometric":
        if ceiling is None:
            raise ValueError(
                f"{where}: method 'reflected_geometric' needs a ceiling (INFORM uses 11)"
            )
        ceiling = _as_float(ceiling, f"{where}.ceiling")
    elif ceiling is not None:
        raise ValueError(f"{where}: ceiling is only used by method 'reflected_geometric'")
    policy = mapping.get("missing", "available")
    if policy not in MISSING_POLICIES:
        raise ValueError(f"{where}.missing must be one of {MISSING_POLICIES}, got {policy!r}")
    min_present = mapping.get("min_present", 1)
    if not isinstance(min_present, int) or isinstance(min_present, bool) or min_present < 1:
        raise ValueError(f"{where}.min_present must be a positive integer, got {min_present!r}")
    return Aggregation(
        method=method,
        weights=weights,
        p=p,
        ceiling=ceiling,
        missing=policy,
        min_present=min_present,
    )


def _parse_outputs(raw: Any, allowed: Sequence[str], where: str) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    mapping = _require_mapping(raw, where)
    _reject_unknown(mapping, allowed, where)
    for key, value in mapping.items():
        if not isinstance(value, str) or not value:
            raise ValueError(f"{where}.{key} must be a column name, got {value!r}")
    return tuple((str(k), str(v)) for k, v in mapping.items())


def _parse_name(raw: Mapping[str, Any], where: str) -> str:
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{where} needs a non-empty string name, got {name!r}")
    return name


def _parse_indicator(raw: Any, position: int, defaults: Mapping[str, Any]) -> Indicator:
    where = f"indicators[{position}]"
    mapping = _require_mapping(raw, where)
    _reject_unknown(
        mapping,
        (
            "name",
            "column",
            "direction",
            "label",
            "optional",
            "missing",
            "outliers",
            "normalise",
            "round",
            "outputs",
        ),
        where,
    )
    name = _parse_name(mapping, where)
    where = f"indicator {name!r}"
    column = mapping.get("column", name)
    if not isinstance(column, str) or not column:
        raise ValueError(f"{where}: column must be a non-empty string, got {column!r}")
    direction = mapping.get("direction", 1)
    if direction not in (1, -1) or isinstance(direction, bool):
        raise ValueError(
            f"{where}: direction must be 1 (higher value, higher score) or -1, got {direction!r}"
        )
    optional = mapping.get("optional", False)
    if not isinstance(optional, bool):
        raise ValueError(f"{where}: optional must be true or false, got {optional!r}")
    missing = _parse_missing(mapping.get("missing", defaults["missing"]), f"{where}.missing")
    outliers = (
        _parse_outliers(mapping["outliers"], f"{where}.outliers") if "outliers" in mapping else None
    )
    normalise = _parse_normalisation(
        mapping.get("normalise", defaults["normalise"]), f"{where}.normalise"
    )
    rounding = _parse_rounding(mapping.get("round", defaults["round"]), f"{where}.round")
    return Indicator(
        name=name,
        column=column,
        direction=int(direction),
        label=str(mapping.get("label", "")),
        optional=optional,
        missing=missing,
        outliers=outliers,
        normalise=normalise,
        round=rounding,
        outputs=_parse_outputs(mapping.get("outputs"), ("value", "flag"), f"{where}.outputs"),
    )


def _parse_group(raw: Any, position: int, defaults: Mapping[str, Any]) -> Group:
    where = f"groups[{position}]"
    mapping = _require_mapping(raw, where)
    _reject_unknown(
        mapping,
        ("name", "children", "aggregate", "normalise", "round", "inputs", "label", "outputs"),
        where,
    )
    name = _parse_name(mapping, where)
    where = f"group {name!r}"
    children = mapping.get("children")
    if (
        not isinstance(children, Sequence)
        or isinstance(children, str)
        or not children
        or not all(isinstance(c, str) for c in children)
    ):
        raise ValueError(
            f"{where}: children must be a non-empty list of node names, got {children!r}"
        )
    if len(set(children)) != len(children):
        raise ValueError(f"{where}: children are repeated: {list(children)}")
    aggregate = _parse_aggregation(mapping.get("aggregate", "arithmetic"), f"{where}.aggregate")
    normalise = None
    if mapping.get("normalise") is not None:
        normalise = _parse_normalisation(mapping["normalise"], f"{where}.normalise")
    elif aggregate.method == "rank_of_sum":
        normalise = Normalisation(method="percent_rank")
    if isinstance(aggregate.weights, tuple):
        unknown = sorted({k for k, _ in aggregate.weights} - set(children))
        missing_weights = sorted(set(children) - {k for k, _ in aggregate.weights})
        if unknown or missing_weights:
            raise ValueError(
                f"{where}.weights must name exactly the children; unknown {unknown}, "
                f"without weight {missing_weights}"
            )
    if aggregate.min_present > len(children):
        raise ValueError(
            f"{where}: min_present {aggregate.min_present} exceeds the {len(children)} children"
        )
    inputs = mapping.get("inputs", "score")
    if inputs not in ("score", "aggregate"):
        raise ValueError(f"{where}.inputs must be 'score' or 'aggregate', got {inputs!r}")
    return Group(
        name=name,
        children=tuple(children),
        aggregate=aggregate,
        normalise=normalise,
        round=_parse_rounding(mapping.get("round", defaults["round"]), f"{where}.round"),
        inputs=inputs,
        label=str(mapping.get("label", "")),
        outputs=_parse_outputs(
            mapping.get("outputs"), ("aggregate", "score", "flag"), f"{where}.outputs"
        ),
    )


def _parse_spec(raw: Mapping[str, Any]) -> IndexSpec:
    _reject_unknown(
        raw,
        (
            "name",
            "description",
            "id_column",
            "group_column",
            "missing_codes",
            "flags",
            "output",
            "defaults",
            "indicators",
            "groups",
            "root",
        ),
        "index specification",
    )
    name = _parse_name(raw, "index specification")
    defaults_raw = _require_mapping(raw.get("defaults", {}), "defaults")
    _reject_unknown(defaults_raw, ("missing", "normalise", "round"), "defaults")
    defaults = {
        "missing": defaults_raw.get("missing", "exclude"),
        "normalise": defaults_raw.get("normalise", "none"),
        "round": defaults_raw.get("round"),
    }
    raw_indicators = raw.get("indicators")
    if (
        not isinstance(raw_indicators, Sequence)
        or isinstance(raw_indicators, str)
        or not raw_indicators
    ):
        raise ValueError("index specification needs a non-empty list of indicators")
    indicators = tuple(_parse_indicator(item, i, defaults) for i, item in enumerate(raw_indicators))
    raw_groups = raw.get("groups")
    if not isinstance(raw_groups, Sequence) or isinstance(raw_groups, str) or not raw_groups:
        raise ValueError("index specification needs a non-empty list of groups")
    groups = tuple(_parse_group(item, i, defaults) for i, item in enumerate(raw_groups))

    names = [i.name for i in indicators] + [g.name for g in groups]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"node names must be unique; repeated: {repeated}")
    known = set(names)
    for group in groups:
        unknown = [child for child in group.children if child not in known]
        if unknown:
            raise ValueError(f"group {group.name!r} names unknown children {unknown}")
    referenced = {child for group in groups for child in group.children}
    orphans = [i.name for i in indicators if i.name not in referenced]
    if orphans:
        raise ValueError(f"indicators not used by any group: {orphans}")
    tops = [g.name for g in groups if g.name not in referenced]
    root = raw.get("root")
    if root is None:
        if len(tops) != 1:
            raise ValueError(
                f"the group tree must have exactly one top group (set 'root'); found {tops}"
            )
        root = tops[0]
    elif root not in {g.name for g in groups}:
        raise ValueError(f"root {root!r} is not a group")

    missing_codes = raw.get("missing_codes", [])
    if not isinstance(missing_codes, Sequence) or isinstance(missing_codes, str):
        raise ValueError(f"missing_codes must be a list, got {missing_codes!r}")
    for code in missing_codes:
        if isinstance(code, bool) or not isinstance(code, int | float | str):
            raise ValueError(f"missing_codes entries must be numbers or strings, got {code!r}")
    flags = raw.get("flags")
    threshold = None
    if flags is not None:
        flag_map = _require_mapping(flags, "flags")
        _reject_unknown(flag_map, ("threshold",), "flags")
        threshold = _as_float(flag_map.get("threshold"), "flags.threshold")
    output = _require_mapping(raw.get("output", {}), "output")
    _reject_unknown(output, ("missing",), "output")
    output_missing = output.get("missing")
    if output_missing is not None and (
        isinstance(output_missing, bool) or not isinstance(output_missing, int | float | str)
    ):
        raise ValueError(f"output.missing must be a number or string, got {output_missing!r}")

    for key in ("id_column", "group_column", "description"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise ValueError(f"{key} must be a string, got {raw[key]!r}")
    spec = IndexSpec(
        name=name,
        indicators=indicators,
        groups=groups,
        root=str(root),
        description=str(raw.get("description", "")),
        id_column=raw.get("id_column"),
        group_column=raw.get("group_column"),
        missing_codes=tuple(missing_codes),
        flag_threshold=threshold,
        output_missing=output_missing,
    )
    spec.topological_groups()  # raises on cycles
    if (
        any(i.missing and i.missing.strategy == "group_mean" for i in indicators)
        and not spec.group_column
    ):
        raise ValueError("missing strategy 'group_mean' needs group_column in the specification")
    return spec
