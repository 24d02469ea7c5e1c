"""Uncertainty and sensitivity of an index's ranking (in the manner of the JRC's COINr).

:func:`rank_intervals` re-runs the index many times, each time with a normalisation and an
aggregation method drawn from candidate lists and every weight multiplied by a factor drawn
uniformly from ``[1 - weight_noise, 1 + weight_noise]``; each unit gets the median and a
quantile interval of its rank.  :func:`sobol_sensitivity` estimates variance-based (Sobol)
first-order and total indices of the mean absolute rank shift against the nominal ranking for
the three choices, with SALib's Saltelli design.  :func:`plot_rank_intervals` draws the
intervals with Plotly.

Candidate normalisations replace every indicator's normalisation (direction is kept); candidate
aggregations replace every group's method (its missing-value policy is kept); a group's own
normalisation (e.g. a rank of a sum) is replayed.  Geometric means need positive values, so for
them a normalised indicator (or group value) whose minimum is not positive is shifted to start
at 1.  Rounding is not replayed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ._engine import compute_index
from ._replicate import ReplicationModel
from ._spec import Aggregation, IndexSpec, Normalisation, _parse_aggregation, _parse_normalisation

if TYPE_CHECKING:
    import plotly.graph_objects as go

DEFAULT_NORMALISATIONS: tuple[str, ...] = ("percent_rank", "minmax", "zscore")
DEFAULT_AGGREGATIONS: tuple[str, ...] = ("arithmetic", "geometric")

SpecLike = IndexSpec | Mapping[str, Any] | str | Path
NormalisationChoice = str | Normalisation | Mapping[str, Any]
AggregationChoice = str | Aggregation | Mapping[str, Any]


@dataclass(frozen=True)
class RankIntervals:
    """Result of :func:`rank_intervals`.

    Attributes
    ----------
    intervals : DataFrame
        Per unit: ``score`` and ``nominal_rank`` (the specification as written), and over the
        replications ``median_rank``, ``mean_rank``, ``lower_rank``, ``upper_rank`` (the
        requested quantiles) and ``interval_width``.  Rank 1 = highest score.
    replications : DataFrame
        Per replication: the ``normalisation`` and ``aggregation`` drawn, the
        ``mean_abs_rank_shift`` against the nominal ranking, and the weights used
        (``weight:<group>/<child>``, before each group scales its weights to sum to 1).
    ranks : ndarray or None
        Replications x units ranks (float32), kept only with ``keep_ranks=True``.
    """

    intervals: pd.DataFrame
    replications: pd.DataFrame
    ranks: npt.NDArray[np.float32] | None = None


def _normalisation_candidates(
    choices: Sequence[NormalisationChoice] | None,
) -> list[Normalisation | None]:
    if not choices:
        return [None]
    found: list[Normalisation | None] = []
    for choice in choices:
        found.append(
            choice
            if isinstance(choice, Normalisation)
            else _parse_normalisation(choice, "normalisations")
        )
    return found


def _aggregation_candidates(
    choices: Sequence[AggregationChoice] | None,
) -> list[Aggregation | None]:
    if not choices:
        return [None]
    found: list[Aggregation | None] = []
    for choice in choices:
        found.append(
            choice
            if isinstance(choice, Aggregation)
            else _parse_aggregation(choice, "aggregations")
        )
    return found


def _label(candidate: Normalisation | Aggregation | None) -> str:
    if candidate is None:
        return "nominal"
    if isinstance(candidate, Aggregation) and candidate.method == "generalised":
        return f"generalised(p={candidate.p:g})"
    return candidate.method


def _check_common(n: int, weight_noise: float, batch_size: int, what: str) -> None:
    if not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{what} must be a positive integer, got {n!r}")
    if not 0.0 <= weight_noise < 1.0:
        raise ValueError(f"weight_noise must be in [0, 1), got {weight_noise!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size!r}")


def _evaluate(
    model: ReplicationModel,
    norm_index: npt.NDArray[np.intp],
    agg_index: npt.NDArray[np.intp],
    multipliers: npt.NDArray[np.float64],
    *,
    batch_size: int,
    keep_ranks: bool,
) -> tuple[npt.NDArray[np.float32] | None, npt.NDArray[np.float64]]:
    """Run every replication; return the ranks (replications x units, if kept) and each
    replication's mean absolute rank shift against the nominal ranking."""
    count = len(norm_index)
    n_units = len(model.nominal_rank)
    ranks = np.empty((count, n_units), dtype=np.float32) if keep_ranks else None
    shifts = np.empty(count)
    nominal = model.nominal_rank[None, :]
    for norm, agg in sorted(set(zip(norm_index.tolist(), agg_index.tolist(), strict=True))):
        members = np.flatnonzero((norm_index == norm) & (agg_index == agg))
        for start in range(0, len(members), batch_size):
            chunk = members[start : start + batch_size]
            block = model.run(norm, agg, multipliers[:, chunk])
            shifts[chunk] = np.nanmean(np.abs(block - nominal), axis=1)
            if ranks is not None:
                ranks[chunk] = block
    return ranks, shifts


def _summarise(
    ranks: npt.NDArray[np.float32], quantiles: tuple[float, float]
) -> dict[str, npt.NDArray[np.float64]]:
    """Median, mean and quantiles (linear interpolation) of each unit's ranks (a column of
    ``ranks``), sorted in blocks of units; replications where a unit has no rank are skipped."""
    count, n_units = ranks.shape
    summary = {
        name: np.full(n_units, np.nan)
        for name in ("median_rank", "mean_rank", "lower_rank", "upper_rank")
    }
    wanted = {"lower_rank": quantiles[0], "median_rank": 0.5, "upper_rank": quantiles[1]}
    block_size = 4096
    for start in range(0, n_units, block_size):
        block = np.sort(ranks[:, start : start + block_size].T, axis=1)  # NaN sorts last
        present = (~np.isnan(block)).sum(axis=1)
        rows = np.flatnonzero(present > 0)
        end = start + block.shape[0]
        with np.errstate(invalid="ignore"):
            summary["mean_rank"][start:end] = (
                np.nanmean(block, axis=1, dtype=np.float64)
                if (present < count).any()
                else block.mean(axis=1, dtype=np.float64)
            )
        for name, probability in wanted.items():
            position = probability * (present[rows] - 1)
            below = np.floor(position).astype(np.intp)
            above = np.minimum(below + 1, present[rows] - 1)
            fraction = position - below
            low_value = block[rows, below].astype(np.float64)
            high_value = block[rows, above].astype(np.float64)
            summary[name][start + rows] = low_value + fraction * (high_value - low_value)
    return summary


def rank_intervals(
    data: pd.DataFrame,
    *,
    spec: SpecLike,
    n_replications: int = 1000,
    weight_noise: float = 0.25,
    normalisations: Sequence[NormalisationChoice] | None = DEFAULT_NORMALISATIONS,
    aggregations: Sequence[AggregationChoice] | None = DEFAULT_AGGREGATIONS,
    quantiles: tuple[float, float] = (0.05, 0.95),
    seed: int | None = None,
    batch_size: int = 32,
    keep_ranks: bool = False,
) -> RankIntervals:
    """Monte Carlo rank intervals over weights, normalisation and aggregation choices.

    Parameters
    ----------
    data, spec
        As for :func:`~civicgrid.engine.index.compute_index`.
    n_replications : int
        Number of Monte Carlo replications.
    weight_noise : float
        Each weight is multiplied by a factor uniform on ``[1 - noise, 1 + noise]``.
    normalisations, aggregations : sequence or None
        Candidates drawn with equal probability (names or specification objects/mappings);
        ``None`` or empty keeps the specification's own choice.
    quantiles : (float, float)
        The lower and upper rank quantiles reported.
    seed : int, optional
        Seed of the random draws, for reproducible intervals.
    batch_size : int
        Replications evaluated together (memory: units x batch_size x 8 bytes per array).
    keep_ranks : bool
        Also return the full replications x units rank matrix.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> data = pd.DataFrame(rng.uniform(1, 10, size=(30, 4)), columns=list("abcd"))
    >>> spec = {"name": "demo", "defaults": {"normalise": "minmax"},
    ...         "indicators": [{"name": n} for n in "abcd"],
    ...         "groups": [{"name": "index", "children": list("abcd")}]}
    >>> result = rank_intervals(data, spec=spec, n_replications=200, seed=0)
    >>> bool((result.intervals["lower_rank"] <= result.intervals["upper_rank"]).all())
    True
    """
    _check_common(n_replications, weight_noise, batch_size, "n_replications")
    low, high = quantiles
    if not 0.0 <= low < high <= 1.0:
        raise ValueError(f"quantiles must satisfy 0 <= low < high <= 1, got {quantiles!r}")
    nominal = compute_index(data, spec=spec)
    model = ReplicationModel(
        nominal, _normalisation_candidates(normalisations), _aggregation_candidates(aggregations)
    )
    rng = np.random.default_rng(seed)
    norm_index = rng.integers(len(model.normalisations), size=n_replications)
    agg_index = rng.integers(len(model.aggregations), size=n_replications)
    multipliers = 1.0 + weight_noise * rng.uniform(
        -1.0, 1.0, size=(model.n_weights, n_replications)
    )
    ranks, shifts = _evaluate(
        model, norm_index, agg_index, multipliers, batch_size=batch_size, keep_ranks=True
    )
    assert ranks is not None
    summary = _summarise(ranks, quantiles)
    intervals = pd.DataFrame(
        {
            "score": nominal.score.to_numpy(),
            "nominal_rank": model.nominal_rank.astype(np.float64),
            **summary,
        },
        index=nominal.scores.index,
    )
    intervals["interval_width"] = intervals["upper_rank"] - intervals["lower_rank"]
    replications = pd.DataFrame(
        {
            "normalisation": [_label(model.normalisations[i]) for i in norm_index],
            "aggregation": [_label(model.aggregations[i]) for i in agg_index],
            "mean_abs_rank_shift": shifts,
        }
    )
    drawn = model.nominal_weights[:, None] * multipliers
    weight_columns = {
        f"weight:{group.name}/{child}": drawn[model.weight_slices[group.name]][position]
        for group in model.groups
        for position, child in enumerate(group.children)
    }
    replications = pd.concat([replications, pd.DataFrame(weight_columns)], axis=1)
    return RankIntervals(
        intervals=intervals, replications=replications, ranks=ranks if keep_ranks else None
    )


def sobol_sensitivity(
    data: pd.DataFrame,
    *,
    spec: SpecLike,
    n_base: int = 128,
    weight_noise: float = 0.25,
    normalisations: Sequence[NormalisationChoice] | None = DEFAULT_NORMALISATIONS,
    aggregations: Sequence[AggregationChoice] | None = DEFAULT_AGGREGATIONS,
    seed: int | None = None,
    batch_size: int = 32,
) -> pd.DataFrame:
    """Variance-based (Sobol) sensitivity of the ranking to weights, normalisation and aggregation.

    The output studied is each run's mean absolute rank shift against the nominal ranking.
    The weights form one group of factors; normalisation and aggregation are one categorical
    factor each (a uniform draw picks a candidate).  Uses SALib's Sobol sampler without
    second-order terms: ``n_base * (factors + 2)`` runs.

    Returns
    -------
    DataFrame
        Index ``weights``, ``normalisation``, ``aggregation`` (those that vary); columns
        ``S1``, ``S1_conf``, ``ST``, ``ST_conf``.  ``attrs["n_runs"]`` holds the run count.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> data = pd.DataFrame(rng.lognormal(size=(40, 3)), columns=list("abc"))
    >>> spec = {"name": "demo", "defaults": {"normalise": "minmax"},
    ...         "indicators": [{"name": n} for n in "abc"],
    ...         "groups": [{"name": "index", "children": list("abc")}]}
    >>> table = sobol_sensitivity(data, spec=spec, n_base=32, seed=0)
    >>> table.index.tolist()
    ['weights', 'normalisation', 'aggregation']
    """
    try:
        from SALib.analyze import sobol as sobol_analyze
        from SALib.sample import sobol as sobol_sample
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("sobol_sensitivity needs SALib: pip install SALib") from error
    _check_common(n_base, weight_noise, batch_size, "n_base")
    if n_base & (n_base - 1):
        raise ValueError(f"n_base must be a power of two for the Sobol sequence, got {n_base}")
    nominal = compute_index(data, spec=spec)
    model = ReplicationModel(
        nominal, _normalisation_candidates(normalisations), _aggregation_candidates(aggregations)
    )
    names: list[str] = []
    groups: list[str] = []
    if weight_noise > 0:
        for group in model.groups:
            names.extend(f"weight:{group.name}/{child}" for child in group.children)
            groups.extend(["weights"] * len(group.children))
    if len(model.normalisations) > 1:
        names.append("normalisation")
        groups.append("normalisation")
    if len(model.aggregations) > 1:
        names.append("aggregation")
        groups.append("aggregation")
    if not names:
        raise ValueError(
            "nothing varies: give weight_noise > 0 or several normalisations/aggregations"
        )
    problem = {
        "num_vars": len(names),
        "names": names,
        "bounds": [[0.0, 1.0]] * len(names),
        "groups": groups,
    }
    samples = sobol_sample.sample(problem, n_base, calc_second_order=False, seed=seed)
    n_runs = samples.shape[0]
    column = 0
    multipliers = np.ones((model.n_weights, n_runs))
    if weight_noise > 0:
        multipliers = 1.0 + weight_noise * (2.0 * samples[:, : model.n_weights].T - 1.0)
        column = model.n_weights

    def categorical(count: int) -> npt.NDArray[np.intp]:
        nonlocal column
        if count == 1:
            return np.zeros(n_runs, dtype=np.intp)
        picked = np.minimum((samples[:, column] * count).astype(np.intp), count - 1)
        column += 1
        return picked

    norm_index = categorical(len(model.normalisations))
    agg_index = categorical(len(model.aggregations))
    _, shifts = _evaluate(
        model, norm_index, agg_index, multipliers, batch_size=batch_size, keep_ranks=False
    )
    analysis = sobol_analyze.analyze(problem, shifts, calc_second_order=False, seed=seed)
    total, first = analysis.to_df()
    table = pd.concat([first, total], axis=1)[["S1", "S1_conf", "ST", "ST_conf"]]
    table.index = pd.Index([str(name) for name in table.index], name="factor")
    table.attrs["n_runs"] = n_runs
    return table


def plot_rank_intervals(
    result: RankIntervals | pd.DataFrame,
    *,
    top: int | None = 50,
    units: Sequence[Any] | None = None,
    title: str = "Rank intervals",
) -> go.Figure:
    """A Plotly figure of each unit's rank interval (median and quantiles) and nominal rank.

    ``units`` picks the units to show; otherwise the ``top`` units by nominal rank (all if
    ``None``).  Rank 1 is drawn at the top.  Needs plotly.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> data = pd.DataFrame(rng.uniform(1, 10, size=(20, 3)), columns=list("abc"))
    >>> spec = {"name": "demo", "defaults": {"normalise": "minmax"},
    ...         "indicators": [{"name": n} for n in "abc"],
    ...         "groups": [{"name": "index", "children": list("abc")}]}
    >>> intervals = rank_intervals(data, spec=spec, n_replications=50, seed=0)
    >>> figure = plot_rank_intervals(intervals, top=10)
    >>> [trace.name for trace in figure.data], len(figure.data[0].x)
    (['median rank', 'nominal rank'], 10)
    """
    try:
        import plotly.graph_objects as go
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("plot_rank_intervals needs plotly: pip install plotly") from error
    intervals = result.intervals if isinstance(result, RankIntervals) else result
    needed = {"nominal_rank", "median_rank", "lower_rank", "upper_rank"}
    if not needed <= set(intervals.columns):
        raise ValueError(f"intervals lack columns {sorted(needed - set(intervals.columns))}")
    if units is not None:
        unknown = [u for u in units if u not in intervals.index]
        if unknown:
            raise ValueError(f"unknown units {unknown[:5]}")
        shown = intervals.loc[list(units)]
    else:
        shown = intervals.sort_values("nominal_rank", kind="stable")
        if top is not None:
            shown = shown.head(top)
    labels = [str(u) for u in shown.index]
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=labels,
            y=shown["median_rank"],
            mode="markers",
            name="median rank",
            error_y={
                "type": "data",
                "symmetric": False,
                "array": (shown["upper_rank"] - shown["median_rank"]).to_numpy(),
                "arrayminus": (shown["median_rank"] - shown["lower_rank"]).to_numpy(),
            },
        )
    )
    figure.add_trace(
        go.Scatter(
            x=labels,
            y=shown["nominal_rank"],
            mode="markers",
            name="nominal rank",
            marker={"symbol": "diamond"},
        )
    )
    figure.update_layout(title=title, xaxis_title="unit", yaxis_title="rank (1 = highest score)")
    figure.update_yaxes(autorange="reversed")
    return figure
