"""Private kernels of :mod:`civicgrid.engine.comparison`: designs, GLM fits and the stacked panel.

Designs are built here as plain numpy/pandas matrices (not patsy formulas) because the placebo tests
and the validation replications refit hundreds of times; the tests check that each design gives the
same estimates as ``statsmodels.formula.api.glm`` fitted on the equivalent formula.
"""

from __future__ import annotations

import ctypes
import functools
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.tools.sm_exceptions import SpecificationWarning

FAMILIES = ("poisson", "gamma", "binomial")
DAY = pd.Timedelta(days=1)


def family_of(name: str) -> Any:
    """The statsmodels family, always with a log link for counts and durations so that a coefficient is
    a ratio; shares use the logit link (an odds ratio, reported as such)."""
    if name == "poisson":
        return sm.families.Poisson()
    if name == "gamma":
        return sm.families.Gamma(link=sm.families.links.Log())
    if name == "binomial":
        return sm.families.Binomial()
    raise ValueError(f"family must be one of {', '.join(FAMILIES)}, got {name!r}")


def step_days(dates: pd.Series) -> int:
    """1 for a daily series, 7 for a weekly one (the most common gap between distinct dates)."""
    gaps = np.diff(np.sort(pd.to_datetime(dates).unique())).astype("timedelta64[D]").astype(int)
    if gaps.size == 0:
        return 1
    values, counts = np.unique(gaps, return_counts=True)
    return 7 if int(values[np.argmax(counts)]) >= 7 else 1


def its_design(dates: pd.Series, *, event: pd.Timestamp, weekday: bool, seasonal: bool,
               slope: bool) -> tuple[pd.DataFrame, list[str]]:
    """The segmented-regression design: intercept, trend (years since the event), a step at the event,
    optionally a slope change, weekday dummies (Monday the reference; daily data only) and one annual
    Fourier pair (only with a year of data: with less it would be confounded with the trend and the
    step). Returns the design and notes about omitted terms."""
    when = pd.to_datetime(dates).reset_index(drop=True)
    years = (when - event).dt.days.to_numpy(dtype=float) / 365.25
    post = (when >= event).to_numpy(dtype=float)
    design = pd.DataFrame({"Intercept": 1.0, "trend": years, "post": post})
    notes: list[str] = []
    if slope:
        design["post_trend"] = post * years
    if weekday and step_days(when) == 1:
        day = when.dt.day_of_week.to_numpy()
        for k in range(1, 7):
            design[f"weekday_{k}"] = (day == k).astype(float)
    elif weekday:
        notes.append("weekly data: no weekday terms")
    span = (when.max() - when.min()).days
    if seasonal and span >= 365:
        angle = 2 * np.pi * when.dt.dayofyear.to_numpy(dtype=float) / 365.25
        design["season_sin"], design["season_cos"] = np.sin(angle), np.cos(angle)
    elif seasonal:
        notes.append("less than a year of data: no seasonal terms")
    return design, notes


@functools.cache
def _openblas() -> Any:
    """numpy's OpenBLAS (found among the process's mapped libraries), or None."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.rsplit("/", 1)[-1]}
    except OSError:
        return None
    for path in sorted(paths):
        library = ctypes.CDLL(path)
        for suffix in ("scipy_openblas_{}_num_threads64_", "openblas_{}_num_threads64_", "openblas_{}_num_threads"):
            if hasattr(library, suffix.format("set")) and hasattr(library, suffix.format("get")):
                return getattr(library, suffix.format("set")), getattr(library, suffix.format("get"))
    return None


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run BLAS on one thread. The designs here are small (thousands of rows, at most a few hundred
    columns): OpenBLAS's threads only contend, with each other and with the web server's other worker
    processes (a stacked fit took 9-12 s with its default threads on the loaded 2-core test machine and
    0.8 s on one)."""
    found = _openblas()
    if found is None:
        yield
        return
    set_threads, get_threads = found
    before = int(get_threads())
    set_threads(1)
    try:
        yield
    finally:
        set_threads(before)


@dataclass(frozen=True)
class Fit:
    params: pd.Series
    cov: pd.DataFrame
    df_resid: float
    fitted: np.ndarray
    model: Any
    result: Any


def fit_glm(*, y: np.ndarray, design: pd.DataFrame, family: str, weights: np.ndarray | None,
            cov: str, maxlags: int = 0, groups: np.ndarray | None = None) -> Fit:
    """Fit one GLM by IRLS. ``cov``: ``"HAC"`` (Newey-West, ``maxlags``), ``"cluster"`` (``groups``),
    ``"HC0"`` or ``"nonrobust"``; without a robust covariance the scale is Pearson's chi-squared
    (quasi-Poisson, quasi-binomial), so over-dispersed counts do not get falsely narrow intervals."""
    with one_blas_thread():
        return _fit(y=y, design=design, family=family, weights=weights, cov=cov, maxlags=maxlags, groups=groups)


def _fit(*, y: np.ndarray, design: pd.DataFrame, family: str, weights: np.ndarray | None, cov: str, maxlags: int,
         groups: np.ndarray | None) -> Fit:
    model = sm.GLM(y, design, family=family_of(family), var_weights=weights)
    # statsmodels warns that robust covariances are "not fully supported" with var_weights; the sandwich
    # it computes uses the weighted scores, which is what a mean of n records needs.
    warnings.filterwarnings("ignore", message="cov_type not fully supported", category=SpecificationWarning)
    if cov == "HAC":
        result = model.fit(cov_type="HAC", cov_kwds={"maxlags": maxlags})
    elif cov == "cluster":
        result = model.fit(cov_type="cluster", cov_kwds={"groups": groups})
    elif cov == "HC0":
        result = model.fit(cov_type="HC0")
    elif cov == "nonrobust":
        result = model.fit(scale="X2")
    else:
        raise ValueError(f"cov must be HAC, cluster, HC0 or nonrobust, got {cov!r}")
    params = pd.Series(np.asarray(result.params), index=design.columns)
    covariance = pd.DataFrame(np.asarray(result.cov_params()), index=design.columns, columns=design.columns)
    return Fit(params=params, cov=covariance, df_resid=float(result.df_resid), fitted=np.asarray(result.fittedvalues),
               model=model, result=result)


def ratio(fit: Fit, column: str, *, alpha: float) -> tuple[float, float, float, float]:
    """exp(coefficient), its (1 - alpha) Wald interval and two-sided p-value (normal reference, as
    statsmodels reports for GLMs)."""
    beta = float(fit.params[column])
    se = float(np.sqrt(fit.cov.loc[column, column]))
    z = stats.norm.ppf(1 - alpha / 2)
    p = float(2 * stats.norm.sf(abs(beta) / se)) if se > 0 else float("nan")
    return float(np.exp(beta)), float(np.exp(beta - z * se)), float(np.exp(beta + z * se)), p


def wald_zero(fit: Fit, columns: list[str]) -> float:
    """p-value of the joint Wald test that ``columns`` are all zero (chi-squared)."""
    if not columns:
        return float("nan")
    beta = fit.params[columns].to_numpy()
    covariance = fit.cov.loc[columns, columns].to_numpy()
    statistic = float(beta @ np.linalg.pinv(covariance) @ beta)
    return float(stats.chi2.sf(statistic, df=len(columns)))


def dummies(values: pd.Series, prefix: str) -> pd.DataFrame:
    """Indicator columns of ``values`` without the first level (the reference)."""
    codes = pd.Categorical(values.astype(str))
    frame = pd.get_dummies(codes, prefix=prefix, drop_first=True, dtype=float)
    frame.index = values.index
    return frame


def stack(data: pd.DataFrame, *, events: dict[str, pd.Timestamp], unit: str, date: str, before: int,
          after: int) -> pd.DataFrame:
    """The stacked panel: one sub-experiment per adoption date g, holding the units adopting at g and the
    clean controls (never adopting, or adopting only after the window ends), in the window
    [g - before days, g + after days). Columns added: ``stack``, ``treated``, ``post``, ``rel_days``."""
    frames = []
    when = pd.to_datetime(data[date])
    adopting = {u: pd.Timestamp(d) for u, d in events.items()}
    for cohort in sorted(set(adopting.values())):
        start, end = cohort - before * DAY, cohort + after * DAY
        treated = {u for u, d in adopting.items() if d == cohort}
        controls = {u for u in data[unit].unique() if u not in adopting or adopting[u] >= end}
        controls -= treated
        if not controls:
            continue
        rows = data[(when >= start) & (when < end) & data[unit].isin(treated | controls)].copy()
        rows["stack"] = cohort.strftime("%Y-%m-%d")
        rows["treated"] = rows[unit].isin(treated).astype(float)
        rows["rel_days"] = (pd.to_datetime(rows[date]) - cohort).dt.days
        rows["post"] = (rows["rel_days"] >= 0).astype(float)
        frames.append(rows)
    if not frames:
        raise ValueError("no adoption date has a comparison unit without the event in its window")
    return pd.concat(frames, ignore_index=True)


def stacked_design(stacked: pd.DataFrame, *, unit: str, date: str, bins: list[int] | None = None,
                   bin_days: int = 7) -> pd.DataFrame:
    """Stack-by-unit and stack-by-date fixed effects and the effect column(s): ``treated_post`` (one
    average effect), or with ``bins`` one column per bin of event time (``bin_days`` wide; bin -1, the
    last before the event, is the reference)."""
    key_unit = stacked["stack"] + "|" + stacked[unit].astype(str)
    key_date = stacked["stack"] + "|" + pd.to_datetime(stacked[date]).dt.strftime("%Y-%m-%d")
    parts = [pd.DataFrame({"Intercept": 1.0}, index=stacked.index)]
    if bins is None:
        parts.append(pd.DataFrame({"treated_post": stacked["treated"] * stacked["post"]}, index=stacked.index))
    else:
        binned = np.floor_divide(stacked["rel_days"].to_numpy(), bin_days)
        columns = {f"event_{b}": stacked["treated"].to_numpy() * (binned == b) for b in bins if b != -1}
        parts.append(pd.DataFrame(columns, index=stacked.index, dtype=float))
    # Within a stack the unit and the date dummies both sum to the stack's indicator: drop each stack's
    # first date (and the first unit overall) so the design has full rank.
    dates = dummies(key_date, "d")
    firsts = {f"d_{s}|{d}" for s, d in stacked.groupby("stack")[date].min().map(
        lambda v: pd.Timestamp(v).strftime("%Y-%m-%d")).items()}
    parts += [dummies(key_unit, "u"), dates.drop(columns=[c for c in dates.columns if c in firsts])]
    return pd.concat(parts, axis=1)
