"""The replication kernel behind the uncertainty analysis.

One replication re-runs an index with a chosen indicator normalisation, a chosen aggregation
method (applied to every group) and perturbed weights, and ranks the units.  Replications that
share a normalisation and an aggregation are evaluated together as columns of 2-D arrays, and
groups whose children are all complete indicators are aggregated by a matrix product, so a
batch costs a few BLAS calls and one column-wise sort.  Rounding is not replayed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from ._aggregate import MEAN_METHODS, aggregate, check_domain, forward, inverse
from ._engine import IndexResult
from ._normalise import normalise
from ._spec import Aggregation, Group, Normalisation

FloatArray = npt.NDArray[np.float64]


def _needs_positive(method: Aggregation) -> bool:
    """Geometric-type means: values are shifted so a normalised zero cannot zero a whole mean."""
    return method.method == "geometric" or (method.method == "generalised" and (method.p or 0) <= 0)


def _shift_positive(values: FloatArray) -> FloatArray:
    """Shift each column whose minimum is not positive so that its minimum becomes 1."""
    lowest = np.nanmin(values, axis=0, keepdims=True)
    if (lowest > 0).all():
        return values
    return np.where(lowest <= 0, values - lowest + 1.0, values)


def descending_ranks(scores: FloatArray) -> npt.NDArray[np.float32]:
    """Ranks of each column of ``scores`` (units x replications), returned as replications x
    units: 1 = highest score, ties share the lowest rank, NaN stays NaN.

    >>> descending_ranks(np.array([[0.2], [0.9], [0.2], [np.nan]])).tolist()
    [[2.0, 1.0, 2.0, nan]]
    """
    negated = np.ascontiguousarray(-scores.T)  # rows are contiguous: faster sorts and gathers
    order = np.argsort(negated, axis=1)  # NaN last; the order within a run of ties does not matter
    ordered = np.take_along_axis(negated, order, axis=1)
    starts_run = np.empty(ordered.shape, dtype=bool)
    starts_run[:, 0] = True
    np.not_equal(ordered[:, 1:], ordered[:, :-1], out=starts_run[:, 1:])
    positions = np.arange(1, ordered.shape[1] + 1, dtype=np.float32)
    lowest = np.maximum.accumulate(np.where(starts_run, positions, np.float32(0)), axis=1)
    ranks = np.empty(negated.shape, dtype=np.float32)
    np.put_along_axis(ranks, order, lowest, axis=1)
    ranks[np.isnan(negated)] = np.nan
    return ranks


@dataclass
class ReplicationModel:
    """Everything a replication needs, prepared once from the nominal result."""

    result: IndexResult
    normalisations: Sequence[Normalisation | None]  # None = each indicator's own normalisation
    aggregations: Sequence[Aggregation | None]  # None = each group's own method

    def __post_init__(self) -> None:
        spec = self.result.spec
        self.groups: tuple[Group, ...] = spec.topological_groups()
        self.indicator_position = {name: j for j, name in enumerate(spec.indicator_names)}
        self.matrices = [self._normalised_matrix(method) for method in self.normalisations]
        self._positive: dict[int, FloatArray] = {}
        self._forward: dict[tuple[int, str, str], tuple[FloatArray, bool]] = {}
        # the nominal weights as the engine used them (equal = 1 each), one block per group
        self.weight_slices: dict[str, slice] = {}
        nominal: list[float] = []
        for group in self.groups:
            shares = self.result.weights[group.name].to_numpy()
            raw = shares if group.aggregate.weights == "pca" else self._raw_weights(group)
            self.weight_slices[group.name] = slice(len(nominal), len(nominal) + len(raw))
            nominal.extend(raw)
        self.nominal_weights = np.asarray(nominal)
        self.nominal_rank = self.result.rank.to_numpy(dtype=np.float64, na_value=np.nan).astype(
            np.float32
        )

    @property
    def n_weights(self) -> int:
        return len(self.nominal_weights)

    def _raw_weights(self, group: Group) -> FloatArray:
        scheme = group.aggregate.weights
        if isinstance(scheme, tuple):
            given = dict(scheme)
            return np.array([given[c] for c in group.children], dtype=np.float64)
        return np.ones(len(group.children))

    def _normalised_matrix(self, method: Normalisation | None) -> FloatArray:
        spec = self.result.spec
        if method is None:
            return self.result.normalised[list(spec.indicator_names)].to_numpy(dtype=np.float64)
        columns = [
            normalise(
                self.result.treated[i.name].to_numpy(dtype=np.float64),
                method,
                direction=i.direction,
                name=i.name,
            )
            for i in spec.indicators
        ]
        return np.column_stack(columns)

    def _matrix(self, norm: int, positive: bool) -> FloatArray:
        if not positive:
            return self.matrices[norm]
        if norm not in self._positive:
            self._positive[norm] = _shift_positive(self.matrices[norm])
        return self._positive[norm]

    def _group_method(self, group: Group, agg: int) -> Aggregation:
        candidate = self.aggregations[agg]
        if candidate is None:
            return group.aggregate
        return replace(
            candidate, missing=group.aggregate.missing, min_present=group.aggregate.min_present
        )

    def run(self, norm: int, agg: int, multipliers: FloatArray) -> npt.NDArray[np.float32]:
        """Ranks (replications x units) for one normalisation/aggregation pair and a block of
        weight multipliers (weights x replications)."""
        weights = self.nominal_weights[:, None] * multipliers
        values: dict[str, FloatArray] = {}
        aggregates: dict[str, FloatArray] = {}
        for group in self.groups:
            method = self._group_method(group, agg)
            positive = _needs_positive(method)
            block = weights[self.weight_slices[group.name]]
            if all(c in self.indicator_position for c in group.children):
                combined = self._indicator_group(group, method, norm, positive, block)
            else:
                children = []
                for child in group.children:
                    if child in self.indicator_position:
                        column = self._matrix(norm, positive)[:, self.indicator_position[child]]
                        children.append(column[:, None])
                    else:
                        # each child has one parent in a tree: release it once consumed
                        child_aggregate, child_value = aggregates.pop(child), values.pop(child)
                        child_values = (
                            child_aggregate if group.inputs == "aggregate" else child_value
                        )
                        children.append(_shift_positive(child_values) if positive else child_values)
                combined = aggregate(
                    children, block, method, group=group.name, child_names=group.children
                )
            aggregates[group.name] = combined
            if group.normalise is not None:
                values[group.name] = normalise(combined, group.normalise, name=group.name)
            else:
                values[group.name] = combined
        return descending_ranks(values[self.result.spec.root])

    def _indicator_group(
        self, group: Group, method: Aggregation, norm: int, positive: bool, block: FloatArray
    ) -> FloatArray:
        key = (norm, group.name, f"{method.method}:{method.p}:{method.ceiling}:{positive}")
        if key not in self._forward:
            columns = [self.indicator_position[c] for c in group.children]
            matrix = self._matrix(norm, positive)[:, columns]
            for j, child in enumerate(group.children):
                check_domain(matrix[:, j], method, group=group.name, child=child)
            fast = (
                method.method in (*MEAN_METHODS, "sum", "rank_of_sum")
                and not np.isnan(matrix).any()
            )
            if fast and method.method in MEAN_METHODS:
                matrix = forward(matrix, method)
            self._forward[key] = (np.ascontiguousarray(matrix), fast)
        matrix, fast = self._forward[key]
        if not fast:
            children = [matrix[:, [j]] for j in range(matrix.shape[1])]
            return aggregate(children, block, method, group=group.name, child_names=group.children)
        total = matrix @ block
        if method.method in ("sum", "rank_of_sum"):
            return total
        return inverse(total / block.sum(axis=0), method)
