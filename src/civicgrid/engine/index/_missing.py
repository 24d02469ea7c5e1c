"""Reading indicator columns: missing-value codes, numeric conversion and imputation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]


def to_numeric(column: pd.Series, *, missing_codes: Sequence[float | str], name: str) -> FloatArray:
    """Return ``column`` as float64 with missing codes (and blanks) turned into NaN.

    Any other value that is not a number raises a :class:`ValueError` naming the column and
    the offending value, so a typo never becomes silent garbage.

    >>> to_numeric(pd.Series(["1.5", "x", -999, ""]), missing_codes=["x", -999], name="a").tolist()
    [1.5, nan, nan, nan]
    """
    numeric_codes = [float(code) for code in missing_codes if _is_number(code)]
    if pd.api.types.is_bool_dtype(column.dtype):
        raise ValueError(f"column {name!r} holds booleans, not numbers")
    if pd.api.types.is_numeric_dtype(column.dtype):
        result = column.to_numpy(dtype=np.float64, na_value=np.nan).copy()
    else:
        text_codes = {str(code).strip().lower() for code in missing_codes} | {"", "nan"}
        as_text = column.astype("string").str.strip()
        is_code = as_text.str.lower().isin(text_codes).fillna(False) | column.isna()
        converted = pd.to_numeric(as_text.where(~is_code), errors="coerce")
        bad = converted.isna() & ~is_code
        if bad.any():
            position = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(
                f"column {name!r}: value {column.iloc[position]!r} "
                f"at row {column.index[position]!r} "
                "is neither a number nor a missing code"
            )
        result = converted.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(result).any():
        position = int(np.flatnonzero(np.isinf(result))[0])
        raise ValueError(f"column {name!r}: infinite value at row {column.index[position]!r}")
    if numeric_codes:
        result[np.isin(result, numeric_codes)] = np.nan
    return result


def _is_number(code: float | str) -> bool:
    try:
        float(code)
    except (TypeError, ValueError):
        return False
    return True


def impute(
    values: FloatArray,
    *,
    strategy: str,
    groups: npt.NDArray[np.object_] | None = None,
    name: str = "",
) -> FloatArray:
    """Fill missing values by ``strategy`` (``exclude`` leaves them missing).

    ``group_mean`` fills with the mean of the unit's group; a group with no value at all stays
    missing rather than borrowing from elsewhere.

    >>> impute(np.array([1.0, np.nan, 3.0, np.nan]), strategy="group_mean",
    ...        groups=np.array(["a", "a", "b", "c"], dtype=object)).tolist()
    [1.0, 1.0, 3.0, nan]
    """
    missing = np.isnan(values)
    if strategy == "exclude" or not missing.any():
        return values
    present = values[~missing]
    if present.size == 0:
        raise ValueError(f"indicator {name!r}: every value is missing, nothing to impute from")
    filled = values.copy()
    if strategy == "mean":
        filled[missing] = present.mean()
    elif strategy == "median":
        filled[missing] = np.median(present)
    elif strategy == "group_mean":
        if groups is None:
            raise ValueError(f"indicator {name!r}: group_mean imputation needs a group column")
        group_means = pd.Series(values).groupby(pd.Series(groups), dropna=False).transform("mean")
        filled[missing] = group_means.to_numpy(dtype=np.float64)[missing]
    else:
        raise ValueError(f"indicator {name!r}: unknown missing strategy {strategy!r}")
    return filled
