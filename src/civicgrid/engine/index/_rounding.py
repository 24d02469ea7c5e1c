"""Decimal rounding rules used by published indices.

Published tables (CDC/ATSDR SVI, INFORM) are produced with spreadsheet or SQL ``ROUND``, which
rounds a half *away from zero*.  Python's :func:`round` and :func:`numpy.round` round a half to
the nearest even digit, and both work on the binary value, so ``0.00005`` may go either way.
Here a value is first scaled, then snapped to the nearest multiple of ``1e-7`` of the scaled
unit to remove binary representation noise, and only then rounded by the chosen rule.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

RoundingMode = Literal["half_up", "half_even", "down"]
ROUNDING_MODES: tuple[str, ...] = ("half_up", "half_even", "down")

# Scaled values are snapped to this many decimals before rounding: far below any published
# precision, far above float64 noise for the magnitudes indices take (|x| * 10**d < 1e8).
_SNAP_DECIMALS = 7


def round_values(
    values: npt.ArrayLike, *, decimals: int, mode: RoundingMode | str = "half_up"
) -> npt.NDArray[np.float64]:
    """Round ``values`` to ``decimals`` places by ``mode``; NaN stays NaN.

    ``half_up`` rounds halves away from zero (spreadsheet ``ROUND``), ``half_even`` rounds
    halves to the even digit, ``down`` truncates toward zero.

    >>> round_values([0.00005, 0.00015, -0.00005, 2.5], decimals=4).tolist()
    [0.0001, 0.0002, -0.0001, 2.5]
    >>> round_values([0.125, 0.135], decimals=2, mode="half_even").tolist()
    [0.12, 0.14]
    """
    if mode not in ROUNDING_MODES:
        raise ValueError(f"unknown rounding mode {mode!r}; expected one of {ROUNDING_MODES}")
    if not isinstance(decimals, int | np.integer) or decimals < 0:
        raise ValueError(f"decimals must be a non-negative integer, got {decimals!r}")
    array = np.asarray(values, dtype=np.float64)
    factor = 10.0**decimals
    scaled = np.round(array * factor, _SNAP_DECIMALS)
    magnitude = np.abs(scaled)
    if mode == "half_up":
        rounded = np.floor(magnitude + 0.5)
    elif mode == "down":
        rounded = np.floor(magnitude)
    else:
        rounded = np.round(magnitude)  # numpy rounds exact halves to even
    return np.copysign(rounded, scaled) / factor + 0.0  # + 0.0 turns -0.0 into 0.0
