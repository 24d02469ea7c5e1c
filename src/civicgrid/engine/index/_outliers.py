"""Outlier treatment before normalisation: winsorising and log transforms."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def winsorise(values: FloatArray, *, lower: float, upper: float) -> FloatArray:
    """Clip values to their ``lower`` and ``upper`` quantiles (missing values ignored).

    >>> winsorise(np.array([1.0, 2.0, 3.0, 4.0, 100.0]), lower=0.0, upper=0.75).tolist()
    [1.0, 2.0, 3.0, 4.0, 4.0]
    """
    present = values[~np.isnan(values)]
    if present.size == 0:
        return values
    low, high = np.quantile(present, [lower, upper])
    return np.clip(values, low, high)


def log_transform(values: FloatArray, *, kind: str, name: str = "") -> FloatArray:
    """``log``: natural log, needs values > 0; ``log1p``: log(1 + x), needs values > -1.

    >>> log_transform(np.array([0.0, np.e - 1]), kind="log1p").round(6).tolist()
    [0.0, 1.0]
    """
    present = values[~np.isnan(values)]
    if kind == "log":
        if (present <= 0).any():
            raise ValueError(
                f"indicator {name!r}: log transform needs positive values, min is {present.min()}"
            )
        return np.log(values)
    if kind == "log1p":
        if (present <= -1).any():
            raise ValueError(
                f"indicator {name!r}: log1p transform needs values > -1, min is {present.min()}"
            )
        return np.log1p(values)
    raise ValueError(f"indicator {name!r}: unknown transform {kind!r}")
