"""Aggregation kernels: combine a group's children into one value per unit.

Every child is a 1-D array (one value per unit) or a 2-D array (units x replications, used by
the uncertainty analysis); weights are 1-D (one per child) or 2-D (child x replication).
Means are quasi-arithmetic: ``f^-1(sum w f(x) / sum w)`` with ``f`` the identity (arithmetic),
``log`` (geometric), ``x**p`` (generalised) or ``log(ceiling - x)`` reflected (INFORM's
``ceiling - prod(ceiling - x)^(1/n)``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ._spec import Aggregation

FloatArray = npt.NDArray[np.float64]

MEAN_METHODS = ("arithmetic", "geometric", "generalised", "reflected_geometric")


def check_domain(values: FloatArray, method: Aggregation, *, group: str, child: str) -> None:
    """Raise a clear error when a child's values are outside the method's domain."""
    kind = method.method
    if kind not in ("geometric", "generalised", "reflected_geometric") or np.isnan(values).all():
        return
    lowest, highest = float(np.nanmin(values)), float(np.nanmax(values))
    if kind == "geometric" or (kind == "generalised" and method.p == 0):
        # a zero factor makes the geometric mean zero (INFORM: no hazard, no risk)
        if lowest < 0:
            raise ValueError(
                f"group {group!r}: geometric aggregation needs non-negative values "
                f"but {child!r} has min {lowest}"
            )
    elif kind == "generalised" and method.p is not None and method.p < 0:
        if lowest <= 0:
            raise ValueError(
                f"group {group!r}: generalised mean with p={method.p} needs positive values "
                f"but {child!r} has min {lowest}"
            )
    elif kind == "generalised" and method.p is not None and not float(method.p).is_integer():
        if lowest < 0:
            raise ValueError(
                f"group {group!r}: generalised mean with p={method.p} needs non-negative values "
                f"but {child!r} has min {lowest}"
            )
    elif kind == "reflected_geometric":
        assert method.ceiling is not None
        if highest >= method.ceiling:
            raise ValueError(
                f"group {group!r}: reflected geometric mean needs values below {method.ceiling} "
                f"but {child!r} has max {highest}"
            )


def forward(values: FloatArray, method: Aggregation) -> FloatArray:
    """The generator ``f`` of a quasi-arithmetic mean."""
    kind = method.method
    if kind == "geometric" or (kind == "generalised" and method.p == 0):
        with np.errstate(divide="ignore"):
            return np.log(values)
    if kind == "generalised":
        assert method.p is not None
        return np.power(values, method.p)
    if kind == "reflected_geometric":
        assert method.ceiling is not None
        with np.errstate(divide="ignore"):
            return np.log(method.ceiling - values)
    return values


def inverse(values: FloatArray, method: Aggregation) -> FloatArray:
    """The inverse ``f^-1`` of :func:`forward`."""
    kind = method.method
    if kind == "geometric" or (kind == "generalised" and method.p == 0):
        return np.exp(values)
    if kind == "generalised":
        assert method.p is not None
        return np.power(values, 1.0 / method.p)
    if kind == "reflected_geometric":
        assert method.ceiling is not None
        return method.ceiling - np.exp(values)
    return values


def aggregate(
    children: Sequence[FloatArray],
    weights: FloatArray,
    method: Aggregation,
    *,
    group: str = "",
    child_names: Sequence[str] = (),
) -> FloatArray:
    """Combine ``children`` by ``method`` with ``weights``.

    >>> from civicgrid.engine.index._spec import Aggregation
    >>> a, b = np.array([1.0, 4.0]), np.array([9.0, np.nan])
    >>> aggregate([a, b], np.array([1.0, 1.0]), Aggregation(method="geometric")).round(9).tolist()
    [3.0, 4.0]
    >>> aggregate([a, b], np.array([0.7, 1.0]), Aggregation(method="max")).tolist()
    [9.0, 2.8]
    """
    if len(children) != len(weights):
        raise ValueError(f"group {group!r}: {len(children)} children but {len(weights)} weights")
    names = list(child_names) or [str(i) for i in range(len(children))]
    for values, child in zip(children, names, strict=True):
        check_domain(values, method, group=group, child=child)
    kind = method.method
    shape = np.broadcast_shapes(*(np.shape(c) for c in children), np.shape(weights[0]))
    if method.missing == "available" and method.min_present > len(children):
        return np.full(shape, np.nan)
    if not any(np.isnan(values).any() for values in children):
        return _aggregate_complete(children, weights, method, shape)
    present_count = np.zeros(shape)
    weight_present = np.zeros(shape)
    if kind in ("max", "min"):
        extreme = np.full(shape, -np.inf if kind == "max" else np.inf)
        pick = np.fmax if kind == "max" else np.fmin
        for values, weight in zip(children, weights, strict=True):
            present_count = present_count + ~np.isnan(values)
            extreme = pick(extreme, weight * values)  # fmax/fmin skip NaN
        result = extreme
    else:
        total = np.zeros(shape)
        for values, weight in zip(children, weights, strict=True):
            present = ~np.isnan(values)
            present_count = present_count + present
            weight_present = weight_present + np.where(present, weight, 0.0)
            transformed = forward(values, method) if kind in MEAN_METHODS else values
            total = total + np.where(present, weight * np.nan_to_num(transformed), 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            if kind in ("sum", "rank_of_sum"):
                result = total * (np.sum(weights, axis=0) / weight_present)
            else:
                result = inverse(total / weight_present, method)
        result = np.where(weight_present > 0, result, np.nan)
    needed = len(children) if method.missing == "propagate" else method.min_present
    return np.where(present_count >= needed, result, np.nan)


def _aggregate_complete(
    children: Sequence[FloatArray], weights: FloatArray, method: Aggregation, shape: tuple[int, ...]
) -> FloatArray:
    """The same aggregation when no child has a missing value (the common, faster case)."""
    kind = method.method
    if kind in ("max", "min"):
        pick = np.maximum if kind == "max" else np.minimum
        result = weights[0] * children[0]
        for values, weight in zip(children[1:], weights[1:], strict=True):
            result = pick(result, weight * values)
        return np.broadcast_to(result, shape).astype(np.float64)
    total = np.zeros(shape)
    for values, weight in zip(children, weights, strict=True):
        total += weight * (forward(values, method) if kind in MEAN_METHODS else values)
    if kind in ("sum", "rank_of_sum"):
        return total
    return inverse(total / np.sum(weights, axis=0), method)
