"""Evaluate an :class:`IndexSpec` on a table of units (the orchestration of ``compute_index``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._aggregate import aggregate
from ._missing import impute, to_numeric
from ._normalise import normalise
from ._outliers import log_transform, winsorise
from ._rounding import round_values
from ._spec import Group, IndexSpec, Normalisation, Rounding
from ._weights import pca_weights

FloatArray = npt.NDArray[np.float64]


class SpecDefault:
    """Marker for "use the specification's setting"."""


SPEC_DEFAULT = SpecDefault()


@dataclass(frozen=True)
class IndexResult:
    """Every level of a computed index, one row per unit.

    Attributes
    ----------
    spec : IndexSpec
        The specification actually evaluated (absent optional indicators removed).
    raw : DataFrame
        Indicator values as read, missing codes turned into NaN.
    treated : DataFrame
        After imputation and outlier treatment.
    normalised : DataFrame
        Indicator values after normalisation, direction and rounding (what groups aggregate).
    aggregates : DataFrame
        Each group's aggregate (e.g. a theme sum), rounded as specified.
    scores : DataFrame
        Each group's score: the aggregate after the group's own normalisation (e.g. the
        percentile rank of the sum), identical to the aggregate when there is none.
    ranks : DataFrame
        Rank of every group score, 1 = highest score, ties share the lowest rank.
    weights : dict of Series
        The weights each group used, scaled to sum to 1 (PCA weights as computed).
    flags : DataFrame or None
        With ``flags.threshold`` set: 1 where an indicator's normalised value reaches the
        threshold, and for each group the number of flagged indicators under it.
    dropped : tuple of str
        Optional indicators whose column was absent from the input.
    """

    spec: IndexSpec
    raw: pd.DataFrame
    treated: pd.DataFrame
    normalised: pd.DataFrame
    aggregates: pd.DataFrame
    scores: pd.DataFrame
    ranks: pd.DataFrame
    weights: dict[str, pd.Series]
    flags: pd.DataFrame | None = None
    dropped: tuple[str, ...] = field(default=())

    @property
    def score(self) -> pd.Series:
        """The index score of every unit (the root group's score)."""
        return self.scores[self.spec.root]

    @property
    def rank(self) -> pd.Series:
        """The index rank of every unit, 1 = highest score."""
        return self.ranks[self.spec.root]

    def table(
        self, *, published: bool = False, missing: float | str | None | SpecDefault = SPEC_DEFAULT
    ) -> pd.DataFrame:
        """All levels side by side.

        With ``published=True`` only the columns named in the specification's ``outputs``
        appear, under those names, in tree order (values, then flags).  Missing values are
        filled with ``missing``: by default the specification's ``output.missing``; ``None``
        leaves them as NaN (flags as nullable integers).  A numeric code keeps the columns
        numeric (flags as int64).
        """
        columns: dict[str, pd.Series] = {}
        flag_columns: dict[str, pd.Series] = {}
        for group in self.spec.topological_groups():
            for child in group.children:
                if child in self.normalised.columns:
                    self._add_indicator(child, columns, flag_columns, published)
            self._add_group(group, columns, flag_columns, published)
        table = pd.DataFrame({**columns, **flag_columns}, index=self.scores.index)
        code = self.spec.output_missing if isinstance(missing, SpecDefault) else missing
        if code is None:
            return table
        if isinstance(code, str):
            return table.astype(object).where(table.notna(), code)
        filled = table.fillna(code)
        return filled.astype({name: np.int64 for name in flag_columns})

    def _add_indicator(
        self, name: str, columns: dict[str, pd.Series], flags: dict[str, pd.Series], published: bool
    ) -> None:
        outputs = dict(self.spec.indicator(name).outputs)
        if not published:
            columns[name] = self.normalised[name]
        elif "value" in outputs:
            columns[outputs["value"]] = self.normalised[name]
        if self.flags is not None:
            if not published:
                flags[f"{name}:flag"] = self.flags[name]
            elif "flag" in outputs:
                flags[outputs["flag"]] = self.flags[name]

    def _add_group(
        self,
        group: Group,
        columns: dict[str, pd.Series],
        flags: dict[str, pd.Series],
        published: bool,
    ) -> None:
        outputs = dict(group.outputs)
        if not published:
            if group.normalise is not None:
                columns[f"{group.name}:aggregate"] = self.aggregates[group.name]
            columns[group.name] = self.scores[group.name]
        else:
            if "aggregate" in outputs:
                columns[outputs["aggregate"]] = self.aggregates[group.name]
            if "score" in outputs:
                columns[outputs["score"]] = self.scores[group.name]
        if self.flags is not None:
            if not published:
                flags[f"{group.name}:flag"] = self.flags[group.name]
            elif "flag" in outputs:
                flags[outputs["flag"]] = self.flags[group.name]

    def breakdown(self, unit: Any) -> pd.DataFrame:
        """Why ``unit`` ranks where it does: every node of the tree, root first.

        Columns: ``depth``, ``parent``, ``kind``, ``raw`` (indicators), ``value`` (normalised
        value or group aggregate), ``score``, ``weight`` (share within the parent), ``rank``
        (groups) and ``flag`` when flags are defined.
        """
        if unit not in self.scores.index:
            raise KeyError(f"unknown unit {unit!r}")
        rows: list[dict[str, Any]] = []
        indicator_names = set(self.normalised.columns)

        def visit(node: str, depth: int, parent: str | None) -> None:
            weight = float(self.weights[parent][node]) if parent is not None else 1.0
            row: dict[str, Any] = {"node": node, "depth": depth, "parent": parent, "weight": weight}
            if node in indicator_names:
                row.update(
                    kind="indicator",
                    raw=self.raw.at[unit, node],
                    value=self.normalised.at[unit, node],
                    score=self.normalised.at[unit, node],
                    rank=pd.NA,
                )
            else:
                row.update(
                    kind="group",
                    raw=np.nan,
                    value=self.aggregates.at[unit, node],
                    score=self.scores.at[unit, node],
                    rank=self.ranks.at[unit, node],
                )
            if self.flags is not None:
                row["flag"] = self.flags.at[unit, node]
            rows.append(row)
            if node not in indicator_names:
                for child in self.spec.group(node).children:
                    visit(child, depth + 1, node)

        visit(self.spec.root, 0, None)
        return pd.DataFrame(rows).set_index("node")


def compute_index(
    data: pd.DataFrame, *, spec: IndexSpec | Mapping[str, Any] | str | Path
) -> IndexResult:
    """Compute a composite index described by ``spec`` for every row of ``data``.

    Parameters
    ----------
    data : DataFrame
        One row per unit; the indicator columns named in the specification (extra columns,
        including published results, are ignored).
    spec : IndexSpec, mapping or path
        The specification, as an object, a mapping with the YAML layout or a YAML file.

    Returns
    -------
    IndexResult
        Scores, ranks and the intermediate values of every level.

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"unit": ["a", "b", "c"], "poor": [10, 30, 20], "income": [50, 20, 40]})
    >>> spec = {"name": "demo", "id_column": "unit",
    ...         "defaults": {"normalise": "percent_rank"},
    ...         "indicators": [{"name": "poor"}, {"name": "income", "direction": -1}],
    ...         "groups": [{"name": "index", "children": ["poor", "income"],
    ...                     "aggregate": "rank_of_sum"}]}
    >>> result = compute_index(data, spec=spec)
    >>> result.score.tolist(), result.rank.tolist()
    ([0.0, 1.0, 0.5], [3, 1, 2])
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    spec = IndexSpec.coerce(spec)
    absent = [i for i in spec.indicators if i.column not in data.columns]
    required = [i.column for i in absent if not i.optional]
    if required:
        raise ValueError(f"input lacks column(s) {required} required by {spec.name!r}")
    spec = spec.without_indicators(i.name for i in absent)
    units = _unit_index(data, spec)
    group_labels = None
    if spec.group_column is not None:
        if spec.group_column not in data.columns:
            raise ValueError(f"input lacks the group column {spec.group_column!r}")
        group_labels = data[spec.group_column].to_numpy(dtype=object)

    raw: dict[str, FloatArray] = {}
    treated: dict[str, FloatArray] = {}
    normalised: dict[str, FloatArray] = {}
    for indicator in spec.indicators:
        values = to_numeric(
            data[indicator.column], missing_codes=spec.missing_codes, name=indicator.column
        )
        raw[indicator.name] = values
        strategy = indicator.missing.strategy if indicator.missing else "exclude"
        values = impute(values, strategy=strategy, groups=group_labels, name=indicator.name)
        if indicator.outliers is not None:
            if indicator.outliers.winsorise is not None:
                low, high = indicator.outliers.winsorise
                values = winsorise(values, lower=low, upper=high)
            if indicator.outliers.transform is not None:
                values = log_transform(
                    values, kind=indicator.outliers.transform, name=indicator.name
                )
        treated[indicator.name] = values
        method = indicator.normalise or Normalisation()
        scaled = normalise(values, method, direction=indicator.direction, name=indicator.name)
        normalised[indicator.name] = _round(scaled, indicator.round)

    aggregates: dict[str, FloatArray] = {}
    scores: dict[str, FloatArray] = {}
    weights: dict[str, pd.Series] = {}
    for group in spec.topological_groups():
        children = [
            normalised[c]
            if c in normalised
            else (aggregates[c] if group.inputs == "aggregate" else scores[c])
            for c in group.children
        ]
        group_weights = _resolve_weights(group, children)
        weights[group.name] = pd.Series(
            group_weights / group_weights.sum(), index=list(group.children)
        )
        combined = aggregate(
            children, group_weights, group.aggregate, group=group.name, child_names=group.children
        )
        aggregates[group.name] = _round(combined, group.round)
        if group.normalise is not None:
            scaled = normalise(aggregates[group.name], group.normalise, name=group.name)
            scores[group.name] = _round(scaled, group.round)
        else:
            scores[group.name] = aggregates[group.name]

    score_frame = pd.DataFrame(scores, index=units)
    return IndexResult(
        spec=spec,
        raw=pd.DataFrame(raw, index=units),
        treated=pd.DataFrame(treated, index=units),
        normalised=pd.DataFrame(normalised, index=units),
        aggregates=pd.DataFrame(aggregates, index=units),
        scores=score_frame,
        ranks=score_frame.rank(method="min", ascending=False).astype("Int64"),
        weights=weights,
        flags=_flags(spec, normalised, units),
        dropped=tuple(i.name for i in absent),
    )


def _unit_index(data: pd.DataFrame, spec: IndexSpec) -> pd.Index:
    if spec.id_column is None:
        return data.index
    if spec.id_column not in data.columns:
        raise ValueError(f"input lacks the id column {spec.id_column!r}")
    units = pd.Index(data[spec.id_column], name=spec.id_column)
    if units.has_duplicates:
        repeated = units[units.duplicated()].unique().tolist()[:5]
        raise ValueError(f"id column {spec.id_column!r} has repeated values, e.g. {repeated}")
    return units


def _round(values: FloatArray, rounding: Rounding | None) -> FloatArray:
    if rounding is None:
        return values
    return round_values(values, decimals=rounding.decimals, mode=rounding.mode)


def _resolve_weights(group: Group, children: list[FloatArray]) -> FloatArray:
    scheme = group.aggregate.weights
    if scheme == "equal":
        return np.ones(len(children))
    if scheme == "pca":
        return pca_weights(np.column_stack(children), names=group.children, group=group.name)
    assert isinstance(scheme, tuple)
    given = dict(scheme)
    result = np.array([given[child] for child in group.children], dtype=np.float64)
    if result.sum() <= 0:
        raise ValueError(f"group {group.name!r}: weights sum to zero")
    return result


def _flags(
    spec: IndexSpec, normalised: dict[str, FloatArray], units: pd.Index
) -> pd.DataFrame | None:
    if spec.flag_threshold is None:
        return None
    counts: dict[str, FloatArray] = {}
    for name, values in normalised.items():
        counts[name] = np.where(
            np.isnan(values), np.nan, (values >= spec.flag_threshold).astype(np.float64)
        )
    for group in spec.topological_groups():
        # a sum of NaN-propagating children: a unit missing any indicator has no count
        counts[group.name] = np.sum([counts[child] for child in group.children], axis=0)
    return pd.DataFrame(counts, index=units).astype("Int64")
