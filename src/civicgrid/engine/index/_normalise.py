"""Normalisation kernels.  Each works column-wise on a 1-D or 2-D float array (axis 0 = units),
ignores NaN (missing values stay missing and are left out of ranks and statistics)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ._spec import Normalisation

FloatArray = npt.NDArray[np.float64]


def _as_columns(values: npt.ArrayLike) -> tuple[FloatArray, bool]:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        return array[:, None], True
    if array.ndim != 2:
        raise ValueError(f"expected a 1-D or 2-D array, got {array.ndim} dimensions")
    return array, False


def percent_rank(values: npt.ArrayLike, *, name: str = "") -> FloatArray:
    """``(rank - 1) / (N - 1)`` where tied values share the lowest rank and N counts the
    values present (spreadsheet ``PERCENTRANK.INC`` without its truncation).

    >>> percent_rank([10.0, 20.0, 20.0, np.nan, 40.0]).tolist()
    [0.0, 0.3333333333333333, 0.3333333333333333, nan, 1.0]
    """
    columns, flat = _as_columns(values)
    missing = np.isnan(columns)
    n_present = (~missing).sum(axis=0)
    if (n_present < 2).any():
        raise ValueError(
            f"{name or 'values'}: a percentile rank needs at least two units with a value"
        )
    order = np.argsort(columns, axis=0)  # NaN sorts last; order within ties does not matter
    ordered = np.take_along_axis(columns, order, axis=0)
    starts_run = np.ones(ordered.shape, dtype=bool)
    starts_run[1:] = ordered[1:] != ordered[:-1]
    positions = np.arange(ordered.shape[0], dtype=np.float64)[:, None]
    lowest_position = np.maximum.accumulate(np.where(starts_run, positions, 0.0), axis=0)
    below = np.empty_like(columns)
    np.put_along_axis(below, order, lowest_position, axis=0)
    result = below / (n_present - 1)
    result[missing] = np.nan
    return result[:, 0] if flat else result


def minmax(
    values: npt.ArrayLike, *, target: tuple[float, float] = (0.0, 1.0), name: str = ""
) -> FloatArray:
    """Map each column's [min, max] linearly onto ``target``.

    >>> minmax([2.0, 4.0, 6.0], target=(0.0, 10.0)).tolist()
    [0.0, 5.0, 10.0]
    """
    columns, flat = _as_columns(values)
    _require_present(columns, name)
    low, high = np.nanmin(columns, axis=0), np.nanmax(columns, axis=0)
    if (high == low).any():
        raise ValueError(
            f"{name or 'values'}: min-max normalisation of a constant indicator is undefined"
        )
    result = target[0] + (columns - low) / (high - low) * (target[1] - target[0])
    return result[:, 0] if flat else result


def zscore(
    values: npt.ArrayLike, *, mean: float = 0.0, sd: float = 1.0, name: str = ""
) -> FloatArray:
    """Standardise each column (sample standard deviation) to the given ``mean`` and ``sd``.

    >>> zscore([1.0, 2.0, 3.0]).tolist()
    [-1.0, 0.0, 1.0]
    """
    columns, flat = _as_columns(values)
    _require_present(columns, name, minimum=2)
    centre = np.nanmean(columns, axis=0)
    spread = np.nanstd(columns, axis=0, ddof=1)
    if (spread == 0).any():
        raise ValueError(f"{name or 'values'}: z-score of a constant indicator is undefined")
    result = mean + (columns - centre) / spread * sd
    return result[:, 0] if flat else result


def goalposts(
    values: npt.ArrayLike,
    *,
    posts: tuple[float, float],
    target: tuple[float, float] = (0.0, 1.0),
    clip: bool = True,
) -> FloatArray:
    """Map ``posts=(low, high)`` linearly onto ``target``; values beyond are clipped if ``clip``.

    >>> goalposts([-5.0, 25.0, 80.0], posts=(0.0, 50.0), target=(0.0, 10.0)).tolist()
    [0.0, 5.0, 10.0]
    """
    array = np.asarray(values, dtype=np.float64)
    fraction = (array - posts[0]) / (posts[1] - posts[0])
    if clip:
        fraction = np.clip(fraction, 0.0, 1.0)
    return target[0] + fraction * (target[1] - target[0])


def _require_present(columns: FloatArray, name: str, minimum: int = 1) -> None:
    if ((~np.isnan(columns)).sum(axis=0) < minimum).any():
        raise ValueError(f"{name or 'values'}: needs at least {minimum} unit(s) with a value")


def normalise(
    values: npt.ArrayLike, method: Normalisation, *, direction: int = 1, name: str = ""
) -> FloatArray:
    """Apply ``method`` and, for ``direction=-1``, mirror the result within its scale.

    Mirroring maps ``v`` to ``low + high - v`` on a bounded scale (so a reversed percentile
    rank is ``1 - p``, CDC's rule for per-capita income), to ``2*mean - v`` for z-scores and to
    ``-v`` when nothing is normalised.

    >>> normalise([1.0, 2.0, 3.0], Normalisation(method="percent_rank"), direction=-1).tolist()
    [1.0, 0.5, 0.0]
    """
    array = np.asarray(values, dtype=np.float64)
    kind = method.method
    if kind == "none":
        result = array.copy()
    elif kind == "percent_rank":
        result = method.range[0] + percent_rank(array, name=name) * (
            method.range[1] - method.range[0]
        )
    elif kind == "minmax":
        result = minmax(array, target=method.range, name=name)
    elif kind == "zscore":
        result = zscore(array, mean=method.mean, sd=method.sd, name=name)
    elif kind == "goalposts":
        if method.goalposts is None:
            raise ValueError(f"{name}: goalposts normalisation needs goalposts")
        result = goalposts(array, posts=method.goalposts, target=method.range, clip=method.clip)
    else:
        raise ValueError(f"{name}: unknown normalisation {kind!r}")
    if direction == 1:
        return result
    if direction != -1:
        raise ValueError(f"{name}: direction must be 1 or -1, got {direction!r}")
    if kind == "none":
        return -result
    if kind == "zscore":
        return 2.0 * method.mean - result
    return method.range[0] + method.range[1] - result
