"""Inequality and fairness metrics for allocations (and any non-negative quantity).

* :func:`gini`, :func:`theil` (with between/within-group decomposition), :func:`atkinson`:
  the classic inequality indices, matching PySAL ``inequality`` on its Mexico test data.
* :func:`concentration_index`: how an amount concentrates along a ranking, e.g. allocations
  against vulnerability.
* :func:`group_report` and :func:`equity_summary`: coverage (share of requests that reached
  their floor), unmet need by group and disparity ratios for a result of
  :func:`civicgrid.engine.allocation.allocate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import overload

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "EquitySummary",
    "TheilDecomposition",
    "atkinson",
    "concentration_index",
    "equity_summary",
    "gini",
    "group_report",
    "theil",
]

FloatArray = npt.NDArray[np.float64]


def _values(values: npt.ArrayLike, name: str = "values") -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must not contain NaN or infinite values")
    if (arr < 0).any():
        raise ValueError(f"{name} must be >= 0")
    return arr


def gini(values: npt.ArrayLike) -> float:
    """Gini coefficient: mean absolute difference over twice the mean.

    ``G = sum_i sum_j |x_i - x_j| / (2 n^2 mean(x))``, computed in O(n log n) from the sorted
    values. 0 is perfect equality; ``(n - 1) / n`` is one holder of everything.

    Parameters
    ----------
    values : array-like of float, shape (n,)
        Non-negative amounts (incomes, allocations, satisfaction ratios).

    Returns
    -------
    float
        NaN if all values are 0 (the index is undefined).

    Examples
    --------
    >>> from civicgrid.engine.equity import gini
    >>> gini([1, 1, 1, 1])
    0.0
    >>> gini([0, 0, 0, 4])
    0.75
    """
    x = np.sort(_values(values))
    total = x.sum()
    if total == 0:
        return float("nan")
    n = x.size
    rank = np.arange(1, n + 1)
    return float((2.0 * (rank * x).sum() - (n + 1) * total) / (n * total))


@dataclass(frozen=True)
class TheilDecomposition:
    """Theil's T split into a between-group and a within-group part.

    ``total == between + within``. ``by_group`` has one row per group with its count,
    ``share`` (of the total amount), ``mean`` and its own Theil index ``theil``.
    """

    total: float
    between: float
    within: float
    by_group: pd.DataFrame


def _theil_t(x: FloatArray) -> float:
    total = x.sum()
    if total == 0:
        return float("nan")
    share = x / total
    positive = share > 0  # 0 * log(0) = 0
    return float((share[positive] * np.log(x.size * share[positive])).sum())


@overload
def theil(values: npt.ArrayLike, *, groups: None = None) -> float: ...


@overload
def theil(values: npt.ArrayLike, *, groups: npt.ArrayLike) -> TheilDecomposition: ...


def theil(
    values: npt.ArrayLike, *, groups: npt.ArrayLike | None = None
) -> float | TheilDecomposition:
    """Theil's T index, optionally decomposed into between- and within-group inequality.

    ``T = (1/n) sum_i (x_i / mean) ln(x_i / mean)`` with ``0 ln 0 = 0``. With ``groups``,
    ``between = sum_g s_g ln(s_g n / n_g)`` and ``within = sum_g s_g T_g`` where ``s_g`` is the
    group's share of the total amount and ``T_g`` the Theil index inside group ``g``.

    Parameters
    ----------
    values : array-like of float, shape (n,)
        Non-negative amounts.
    groups : array-like, shape (n,), optional
        Group label of each value (e.g. grid, tier, vulnerable or not).

    Returns
    -------
    float or TheilDecomposition
        A float without ``groups``; NaN if all values are 0.

    Examples
    --------
    >>> from civicgrid.engine.equity import theil
    >>> round(theil([1, 1, 2, 2]), 6)
    0.056633
    >>> d = theil([1, 1, 2, 2], groups=["a", "a", "b", "b"])
    >>> round(d.between, 6), round(d.within, 6)
    (0.056633, 0.0)
    """
    x = _values(values)
    total = _theil_t(x)
    if groups is None:
        return total
    labels = np.asarray(groups)
    if labels.shape != x.shape:
        raise ValueError(
            f"groups must have the same length as values ({x.size}), got {labels.shape}"
        )
    if pd.isna(labels).any():
        raise ValueError("groups must not contain missing labels")
    codes, uniques = pd.factorize(labels, sort=True)
    count = np.bincount(codes).astype(np.float64)
    amount = np.bincount(codes, weights=x)
    share = amount / x.sum() if x.sum() > 0 else np.full(count.size, np.nan)
    inner = np.array([_theil_t(x[codes == g]) for g in range(count.size)])
    has = share > 0
    between = float((share[has] * np.log(share[has] * x.size / count[has])).sum())
    within = float((share[has] * inner[has]).sum())
    by_group = pd.DataFrame(
        {"count": count.astype(np.int64), "share": share, "mean": amount / count, "theil": inner},
        index=pd.Index(uniques, name="group"),
    )
    return TheilDecomposition(total=total, between=between, within=within, by_group=by_group)


def atkinson(values: npt.ArrayLike, *, epsilon: float = 0.5) -> float:
    """Atkinson index with inequality aversion ``epsilon``.

    ``A = 1 - EDE / mean`` where the equally distributed equivalent ``EDE`` is the power mean
    of order ``1 - epsilon`` (the geometric mean for ``epsilon = 1``). Higher ``epsilon``
    weighs the worst-off more.

    Parameters
    ----------
    values : array-like of float, shape (n,)
        Non-negative amounts.
    epsilon : float, default 0.5
        Inequality aversion, ``>= 0``.

    Returns
    -------
    float
        In ``[0, 1]``; 1 when ``epsilon >= 1`` and some value is 0; NaN if all are 0.

    Examples
    --------
    >>> from civicgrid.engine.equity import atkinson
    >>> round(atkinson([10, 20, 30, 40, 50], epsilon=1), 7)
    0.1316096
    """
    if not np.isfinite(epsilon) or epsilon < 0:
        raise ValueError(f"epsilon must be a finite number >= 0, got {epsilon!r}")
    x = _values(values)
    mean = x.mean()
    if mean == 0:
        return float("nan")
    if epsilon >= 1 and (x == 0).any():
        return 1.0
    if epsilon == 1:
        ede = float(np.exp(np.log(x).mean()))
    else:
        ede = float(np.mean((x / mean) ** (1 - epsilon)) ** (1 / (1 - epsilon)) * mean)
    return float(1.0 - ede / mean)


def concentration_index(values: npt.ArrayLike, *, rank_by: npt.ArrayLike) -> float:
    """Concentration index of ``values`` along the ranking given by ``rank_by``.

    ``C = 2 cov(x, R) / mean(x)`` where ``R`` is the fractional rank (``(i - 1/2) / n``, ties
    sharing their mean rank) of ``rank_by`` in ascending order. ``C > 0``: the amounts
    concentrate among those ranked high (e.g. the most vulnerable when ranking by weight);
    ``C < 0``: among those ranked low. Ranking by the values themselves gives the Gini.

    Parameters
    ----------
    values : array-like of float, shape (n,)
        Non-negative amounts, e.g. allocated / need.
    rank_by : array-like of float, shape (n,)
        Ranking variable, e.g. the vulnerability weight.

    Returns
    -------
    float
        In ``(-1, 1)``; NaN if all values are 0.

    Examples
    --------
    >>> from civicgrid.engine.equity import concentration_index
    >>> concentration_index([0, 0, 1, 1], rank_by=[1.0, 1.2, 2.0, 3.0])
    0.5
    """
    x = _values(values)
    rank_var = np.asarray(rank_by, dtype=np.float64)
    if rank_var.shape != x.shape:
        raise ValueError(f"rank_by must have the same length as values ({x.size})")
    if not np.isfinite(rank_var).all():
        raise ValueError("rank_by must not contain NaN or infinite values")
    mean = x.mean()
    if mean == 0:
        return float("nan")
    fractional_rank = (pd.Series(rank_var).rank(method="average").to_numpy() - 0.5) / x.size
    covariance = np.mean((x - mean) * (fractional_rank - fractional_rank.mean()))
    return float(2.0 * covariance / mean)


# --------------------------------------------------------------------------- reports

_RESULT_COLUMNS = ("allocated", "need", "floor")


def _satisfaction(result: pd.DataFrame) -> pd.Series:
    missing = [c for c in _RESULT_COLUMNS if c not in result.columns]
    if missing:
        raise ValueError(
            f"result is missing column(s) {', '.join(map(repr, missing))}; "
            "pass the DataFrame returned by allocate()"
        )
    need = result["need"].astype(np.float64)
    return (result["allocated"] / need).where(need > 0)


def group_report(
    result: pd.DataFrame, *, by: str | npt.ArrayLike, reference: object | None = None
) -> pd.DataFrame:
    """Coverage, unmet need and disparity ratios per group of requests.

    Parameters
    ----------
    result : pandas.DataFrame
        Output of :func:`~civicgrid.engine.allocation.allocate` (needs ``allocated``,
        ``need`` and ``floor``).
    by : str or array-like
        A column of ``result`` (e.g. ``"tier"``, ``"item"``) or one label per row (e.g.
        ``result.weight > 1`` for vulnerable or not, or each household's grid).
    reference : label, optional
        Group the disparity ratios compare against; by default all requests together.

    Returns
    -------
    pandas.DataFrame
        One row per group: ``requests``, ``need``, ``allocated``, ``unmet_need``,
        ``unmet_share`` (unmet / need), ``coverage`` (share of requests whose allocation
        reached their floor), ``mean_satisfaction`` (mean allocated / need over requests
        with need), and the disparity ratios ``coverage_ratio``, ``satisfaction_ratio``
        (group over reference: below 1 means worse off) and ``unmet_ratio`` (group over
        reference: above 1 means worse off).

    Examples
    --------
    >>> import pandas as pd
    >>> from civicgrid.engine.equity import group_report
    >>> result = pd.DataFrame({"allocated": [4, 2, 0, 3], "need": [4, 4, 2, 6],
    ...                        "floor": [2, 2, 1, 2], "weight": [2.0, 2.0, 1.0, 1.0]})
    >>> report = group_report(result, by=result.weight > 1)
    >>> columns = ["requests", "unmet_need", "coverage", "coverage_ratio"]
    >>> report[columns]  # doctest: +NORMALIZE_WHITESPACE
           requests  unmet_need  coverage  coverage_ratio
    group
    False         2           5       0.5        0.666667
    True          2           2       1.0        1.333333
    """
    satisfaction = _satisfaction(result)
    if isinstance(by, str):
        if by not in result.columns:
            raise ValueError(f"result has no column {by!r} to group by")
        labels = result[by]
    else:
        values = np.asarray(by)
        if values.shape != (len(result),):
            raise ValueError(f"by must have one label per row ({len(result)}), got {values.shape}")
        labels = pd.Series(values, index=result.index)
    if labels.isna().any():
        raise ValueError("by must not contain missing labels")
    frame = pd.DataFrame(
        {
            "group": labels.to_numpy(),
            "need": result["need"].to_numpy(),
            "allocated": result["allocated"].to_numpy(),
            "unmet_need": (result["need"] - result["allocated"]).to_numpy(),
            "reached_floor": (result["allocated"] >= result["floor"]).to_numpy(),
            "satisfaction": satisfaction.to_numpy(),
        }
    )
    grouped = frame.groupby("group", sort=True)
    report = pd.DataFrame(
        {
            "requests": grouped.size(),
            "need": grouped["need"].sum(),
            "allocated": grouped["allocated"].sum(),
            "unmet_need": grouped["unmet_need"].sum(),
            "coverage": grouped["reached_floor"].mean(),
            "mean_satisfaction": grouped["satisfaction"].mean(),
        }
    )
    report["unmet_share"] = _divide(report["unmet_need"], report["need"])
    if reference is None:
        ref_coverage = frame["reached_floor"].mean()
        ref_satisfaction = frame["satisfaction"].mean()
        ref_unmet = _divide(frame["unmet_need"].sum(), frame["need"].sum())
    else:
        if reference not in report.index:
            raise ValueError(f"reference group {reference!r} is not among the groups")
        ref_coverage = report.at[reference, "coverage"]
        ref_satisfaction = report.at[reference, "mean_satisfaction"]
        ref_unmet = report.at[reference, "unmet_share"]
    report["coverage_ratio"] = _divide(report["coverage"], ref_coverage)
    report["satisfaction_ratio"] = _divide(report["mean_satisfaction"], ref_satisfaction)
    report["unmet_ratio"] = _divide(report["unmet_share"], ref_unmet)
    columns = [
        "requests",
        "need",
        "allocated",
        "unmet_need",
        "unmet_share",
        "coverage",
        "mean_satisfaction",
        "coverage_ratio",
        "satisfaction_ratio",
        "unmet_ratio",
    ]
    return report[columns]


def _divide(numerator: npt.ArrayLike, denominator: npt.ArrayLike) -> FloatArray:
    """Division that gives NaN (not an error or inf) where the denominator is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.asarray(numerator, dtype=np.float64) / np.asarray(denominator, dtype=np.float64)
    return np.where(np.isfinite(out), out, np.nan)


@dataclass(frozen=True)
class EquitySummary:
    """Headline fairness figures of one allocation (compare policies side by side).

    Inequality indices are computed on the satisfaction ratio allocated / need of requests
    with a need; the concentration index ranks them by weight (positive: the more
    vulnerable got relatively more). ``vulnerable_coverage_ratio`` is the coverage of
    requests with weight > 1 over the coverage of the others.
    """

    requests: int
    allocated: int
    need: int
    coverage: float
    unmet_share: float
    gini: float
    theil: float
    atkinson: float
    concentration_by_weight: float
    vulnerable_coverage_ratio: float


def equity_summary(result: pd.DataFrame, *, epsilon: float = 0.5) -> EquitySummary:
    """Summarise an allocation's fairness in a few numbers.

    Parameters
    ----------
    result : pandas.DataFrame
        Output of :func:`~civicgrid.engine.allocation.allocate` (needs ``allocated``,
        ``need``, ``floor`` and ``weight``).
    epsilon : float, default 0.5
        Inequality aversion of the Atkinson index.

    Returns
    -------
    EquitySummary

    Examples
    --------
    >>> import pandas as pd
    >>> from civicgrid.engine.equity import equity_summary
    >>> result = pd.DataFrame({"allocated": [4, 2, 0, 3], "need": [4, 4, 2, 6],
    ...                        "floor": [2, 2, 1, 2], "weight": [2.0, 2.0, 1.0, 1.0]})
    >>> s = equity_summary(result)
    >>> s.coverage, s.unmet_share, s.vulnerable_coverage_ratio
    (0.75, 0.4375, 2.0)
    """
    satisfaction = _satisfaction(result)
    if "weight" not in result.columns:
        raise ValueError("result is missing column 'weight'; pass the DataFrame from allocate()")
    has_need = satisfaction.notna().to_numpy()
    ratio = satisfaction.to_numpy()[has_need]
    weight = result["weight"].to_numpy(dtype=np.float64)[has_need]
    reached = (result["allocated"] >= result["floor"]).to_numpy()
    vulnerable = result["weight"].to_numpy() > 1
    need = int(result["need"].sum())
    allocated = int(result["allocated"].sum())
    nan = float("nan")
    return EquitySummary(
        requests=len(result),
        allocated=allocated,
        need=need,
        coverage=float(reached.mean()) if len(result) else nan,
        unmet_share=(need - allocated) / need if need else nan,
        gini=gini(ratio) if ratio.size else nan,
        theil=theil(ratio) if ratio.size else nan,
        atkinson=atkinson(ratio, epsilon=epsilon) if ratio.size else nan,
        concentration_by_weight=concentration_index(ratio, rank_by=weight) if ratio.size else nan,
        vulnerable_coverage_ratio=float(
            _divide(reached[vulnerable].mean(), reached[~vulnerable].mean())
        )
        if vulnerable.any() and (~vulnerable).any()
        else nan,
    )
