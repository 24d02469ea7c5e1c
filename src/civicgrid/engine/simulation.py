"""What if: a shock simulated day by day on a community's own registry, policy against policy.

A :class:`Population` holds the households as arrays (see :mod:`civicgrid.engine._simulation_model`
for every need, rate and assumption and its source), a :class:`Scenario` the dated disruptions
(:mod:`civicgrid.engine._simulation_scenario`; examples in ``engine/scenarios/``). :func:`simulate`
runs replications, every policy of a replication on the same random draws (common random
numbers), serially or on a Dask cluster (same seeds, same numbers), and returns tidy results with
Monte Carlo intervals.

Daily series (``SimulationResult.daily``; metric by group): unmet need and the share short
(all, vulnerable, other, tiers, grids), coverage of each critical function, and, by the day needs
arose, ``needs_arisen``, ``days_to_help`` (mean days until met) and ``helped_within_a_day`` (all,
vulnerable, other, tiers); the equity of each day's unmet need: ``gini_unmet_need``,
``concentration_unmet_need`` (along the relief weight) and ``unmet_need_gap`` (per vulnerable over
per other household). ``intervals()`` gives each its mean and interval over the runs.

Scale (``bench/bench_simulation.py``, the 2-core shared test machine): 1,000,000 households x 60
days of the lockdown under ``equity`` take about 8.1 s of CPU time at a peak of about 0.7 GB (about
7.4 million household-days per CPU second; Covasim documents 5-10 million person-days). The same
dynamics as a Mesa model (``bench/bench_simulation_mesa.py``) agree within Monte Carlo error and run
about 38 times slower per household-day at 10,000 households x 30 days, where the day loop's fixed
costs (numpy calls rather than their arithmetic) are most of the engine's time.

Examples
--------
>>> from civicgrid.engine.simulation import scenario_from_dict, simulate, synthetic_population
>>> population = synthetic_population(households=2000, seed=1)
>>> scenario = scenario_from_dict({"name": "shortage", "days": 20,
...     "supply": {"ratio": 1.0, "every": 1},
...     "events": [{"type": "supply", "from": 5, "to": 15, "ratio": 0.3},
...                {"type": "self_fetch", "from": 0, "allowed": False}]})
>>> result = simulate(population, scenario, policies=("equity", "fcfs"), runs=2, seed=7)
>>> runs = result.runs.set_index(["run", "policy"])
>>> bool((runs.loc[(0, "equity"), "unmet_need_vulnerable"]
...       < runs.loc[(0, "fcfs"), "unmet_need_vulnerable"]))
True
>>> sorted(result.daily.columns)
['day', 'group', 'metric', 'policy', 'run', 'value']
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from civicgrid.engine._simulation_batch import batch_size, run_replications
from civicgrid.engine._simulation_kernel import GROUPS, HELP_WITHIN_DAYS, RunOutput, run_replication
from civicgrid.engine._simulation_model import (
    KIND_TIER,
    KINDS,
    SIM_FUNCTIONS,
    Population,
    population_from_facts,
    population_from_governance,
    synthetic_population,
)
from civicgrid.engine._simulation_scenario import (
    Scenario,
    bundled_scenarios,
    load_scenario,
    scenario_from_dict,
)
from civicgrid.engine.allocation import POLICIES
from civicgrid.engine.equity import concentration_index, gini
from civicgrid.engine.governance import ActorInput

__all__ = [
    "POLICIES",
    "Population",
    "Scenario",
    "SimulationResult",
    "bundled_scenarios",
    "load_scenario",
    "population_from_facts",
    "population_from_governance",
    "read_registry",
    "scenario_from_dict",
    "simulate",
    "synthetic_population",
]

MAX_RUNS = 1000
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class SimulationResult:
    """Tidy results: ``daily`` (run, policy, day, group, metric, value) and ``runs`` (one row per
    run and policy with its end-of-run figures), plus the inputs that reproduce them."""

    daily: pd.DataFrame
    runs: pd.DataFrame
    inputs: Mapping[str, Any]

    def intervals(self, *, level: float = 0.95) -> pd.DataFrame:
        """Mean and the central ``level`` interval over runs, per policy, day, group and metric.

        Examples
        --------
        >>> from civicgrid.engine.simulation import scenario_from_dict, simulate, synthetic_population
        >>> result = simulate(synthetic_population(households=300, seed=2),
        ...                   scenario_from_dict({"name": "s", "days": 3}), runs=3, seed=1)
        >>> list(result.intervals().columns)
        ['policy', 'day', 'group', 'metric', 'mean', 'low', 'high', 'runs']
        """
        tail = (1.0 - level) / 2.0
        grouped = self.daily.groupby(["policy", "day", "group", "metric"], sort=False)["value"]
        out = grouped.agg(["mean", "count"])
        out["low"] = grouped.quantile(tail)
        out["high"] = grouped.quantile(1.0 - tail)
        out = out.rename(columns={"count": "runs"}).reset_index()
        return out[["policy", "day", "group", "metric", "mean", "low", "high", "runs"]]

    def summary(self, *, level: float = 0.95) -> pd.DataFrame:
        """Per policy, each end-of-run figure's mean and central interval over runs."""
        tail = (1.0 - level) / 2.0
        figures = self.runs.drop(columns=["run"]).groupby("policy", sort=False)
        mean = figures.mean().add_suffix("_mean")
        low = figures.quantile(tail).add_suffix("_low")
        high = figures.quantile(1.0 - tail).add_suffix("_high")
        return pd.concat([mean, low, high], axis=1).sort_index(axis=1).reset_index()

    def headline(self) -> dict[str, Any]:
        """The figures a sentence about the run needs (first policy against the second)."""
        s = self.summary().set_index("policy")
        policies = list(s.index)
        figures = {
            p: {
                "vulnerable_mean": float(s.loc[p, "unmet_need_per_vulnerable_household_mean"]),
                "vulnerable_low": float(s.loc[p, "unmet_need_per_vulnerable_household_low"]),
                "vulnerable_high": float(s.loc[p, "unmet_need_per_vulnerable_household_high"]),
                "other_mean": float(s.loc[p, "unmet_need_per_other_household_mean"]),
                "critical_mean": float(s.loc[p, "unmet_need_critical_mean"]),
                "wait_vulnerable_mean": float(s.loc[p, "days_to_help_vulnerable_mean"]),
            }
            for p in policies
        }
        out: dict[str, Any] = {"policies": policies, "figures": figures, **dict(self.inputs)}
        if len(policies) >= 2:
            a, b = figures[policies[0]], figures[policies[1]]
            out["vulnerable_change"] = (
                (a["vulnerable_mean"] - b["vulnerable_mean"]) / b["vulnerable_mean"]
                if b["vulnerable_mean"] > 0
                else 0.0
            )
        return out

    def sentence(self) -> str:
        """What the run shows, in one English sentence (the platform words it in both languages)."""
        h = self.headline()
        first = h["policies"][0]
        f = h["figures"][first]
        text = (
            f"Under {first}, each vulnerable household went {f['vulnerable_mean']:.2f} need-days "
            f"unmet on average (95% interval {f['vulnerable_low']:.2f}-{f['vulnerable_high']:.2f})"
        )
        if "vulnerable_change" in h:
            change = h["vulnerable_change"]
            text += (
                f", {abs(change):.0%} {'less' if change <= 0 else 'more'} than under "
                f"{h['policies'][1]} on the same draws"
            )
        return text + "."

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write ``daily``, ``intervals`` and ``runs`` as CSV and Parquet, and ``summary.json``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in (
            ("daily", self.daily),
            ("intervals", self.intervals()),
            ("runs", self.runs),
        ):
            for suffix in ("csv", "parquet"):
                path = out / f"{name}.{suffix}"
                if suffix == "csv":
                    frame.to_csv(path, index=False)
                else:
                    frame.to_parquet(path, index=False)
                written.append(path)
        path = out / "summary.json"
        body = {
            "inputs": dict(self.inputs),
            "sentence": self.sentence(),
            "summary": self.summary().to_dict(orient="records"),
        }
        path.write_text(json.dumps(body, indent=2, default=str), encoding="utf-8")
        written.append(path)
        return written


Sparse = list[tuple[str, str, npt.NDArray[np.int64], npt.NDArray[np.float64]]]


def _help_series(output: RunOutput, *, days: int) -> Sparse:
    """Time to help by the day needs arose, per group: ``needs_arisen``; ``days_to_help`` (mean days
    waited; needs still open at the end count the days until then, so the last days' means are
    lower bounds); ``helped_within_a_day`` (share met the day they arose or the next; only days
    whose next day was simulated). Days on which no need of the group arose have no row."""
    # [day, tier, vulnerable] -> [day, group] with the groups of GROUPS
    def by_group(a: npt.NDArray[np.float64]) -> dict[str, npt.NDArray[np.float64]]:
        out = {"all": a.sum(axis=(1, 2)), "vulnerable": a[:, :, 1].sum(axis=1),
               "other": a[:, :, 0].sum(axis=1)}
        for t in range(3):
            out[f"tier{t}"] = a[:, t, :].sum(axis=1)
        return out

    arisen = by_group(output.arisen)
    waited = by_group(output.waited + output.waited_open)
    within = by_group(output.within)
    series: Sparse = []
    complete = np.arange(days) + HELP_WITHIN_DAYS <= days - 1
    for group, count in arisen.items():
        some = np.flatnonzero(count > 0)
        series.append(("needs_arisen", group, some, count[some]))
        series.append(("days_to_help", group, some, waited[group][some] / count[some]))
        full = np.flatnonzero((count > 0) & complete)
        series.append(("helped_within_a_day", group, full, within[group][full] / count[full]))
    return series


def _equity_series(output: RunOutput, *, sizes: Mapping[str, int]) -> Sparse:
    """Equity of each day's unmet need: its Gini across households and its concentration along the
    relief weight (> 0: concentrated among the more vulnerable), and the gap between the groups
    (unmet need per vulnerable household over that per other household). Days with no unmet need
    (or none among other households, for the gap) have no row."""
    series: Sparse = []
    for metric, values in (("gini_unmet_need", output.gini),
                           ("concentration_unmet_need", output.concentration)):
        some = np.flatnonzero(~np.isnan(values))
        series.append((metric, "all", some, values[some]))
    per_v = output.shortfall[:, 1] / sizes["vulnerable"]
    per_o = output.shortfall[:, 2] / sizes["other"]
    some = np.flatnonzero(per_o > 0)
    series.append(("unmet_need_gap", "vulnerable_vs_other", some, per_v[some] / per_o[some]))
    return series


def _run_frames(
    output: RunOutput, *, run: int, population: Population
) -> tuple[pd.DataFrame, dict[str, Any]]:
    days = output.unmet.shape[0]
    day = np.arange(days)
    n_v = max(int(population.vulnerable.sum()), 1)
    n_o = max(population.n - int(population.vulnerable.sum()), 1)
    sizes = {"all": population.n, "vulnerable": n_v, "other": n_o}
    parts = []
    for g, group in enumerate(GROUPS):
        parts.append(("unmet_households", group, output.unmet[:, g].astype(float)))
        parts.append(("unmet_need", group, output.shortfall[:, g]))
        if group in sizes:
            parts.append(("unmet_share", group, output.unmet[:, g] / max(sizes[group], 1)))
            parts.append(("unmet_need_per_household", group, output.shortfall[:, g] / sizes[group]))
    parts.append(("served_households", "all", output.served.astype(float)))
    for f, function in enumerate(SIM_FUNCTIONS):
        parts.append((f"coverage_{function}", "all", output.coverage[:, f].astype(float)))
    area_counts = np.bincount(population.area, minlength=len(population.areas))
    for a, code in enumerate(population.areas):
        parts.append(
            ("unmet_share", f"grid:{code}", output.unmet_by_area[:, a] / max(area_counts[a], 1))
        )
    # series defined on some days only: (metric, group, days, values)
    sparse = _help_series(output, days=days) + _equity_series(output, sizes=sizes)
    frame = pd.DataFrame(
        {
            "run": np.int32(run),
            "policy": output.policy,
            "day": np.concatenate(
                [np.tile(day, len(parts))] + [p[2] for p in sparse]
            ).astype(np.int16),
            "group": np.concatenate(
                [np.repeat([p[1] for p in parts], days)]
                + [np.full(p[2].size, p[1]) for p in sparse]
            ),
            "metric": np.concatenate(
                [np.repeat([p[0] for p in parts], days)]
                + [np.full(p[2].size, p[0]) for p in sparse]
            ),
            "value": np.concatenate([p[2] for p in parts] + [p[3] for p in sparse]),
        }
    )
    waits = output.wait_sum / np.maximum(output.wait_count, 1)
    resolved = output.wait_count.sum(axis=0)
    tier0 = KIND_TIER == 0
    unmet_days = output.shortfall_days.astype(np.float64)
    row: dict[str, Any] = {
        "run": run,
        "policy": output.policy,
        "unmet_need_all": float(output.shortfall[:, 0].sum()),
        "unmet_need_vulnerable": float(output.shortfall[:, 1].sum()),
        "unmet_need_other": float(output.shortfall[:, 2].sum()),
        "unmet_need_critical": float(output.shortfall[:, 3].sum()),
        "unmet_need_per_vulnerable_household": float(output.shortfall[:, 1].sum() / n_v),
        "unmet_need_per_other_household": float(output.shortfall[:, 2].sum() / n_o),
        "short_days_all": float(output.unmet[:, 0].sum()),
        "short_days_vulnerable": float(output.unmet[:, 1].sum()),
        "short_days_other": float(output.unmet[:, 2].sum()),
        "open_critical_days": float(output.unmet[:, 3].sum()),
        "days_to_help_vulnerable": float(output.wait_sum[:, 1].sum() / max(resolved[1], 1)),
        "days_to_help_other": float(output.wait_sum[:, 0].sum() / max(resolved[0], 1)),
        "days_to_help_critical": float(
            output.wait_sum[tier0].sum() / max(output.wait_count[tier0].sum(), 1)
        ),
        "unresolved_needs": float(output.unresolved.sum()),
        "gini_unmet_need": gini(unmet_days) if unmet_days.any() else 0.0,
        "concentration_unmet_need": (
            concentration_index(unmet_days, rank_by=population.weight) if unmet_days.any() else 0.0
        ),
    }
    for k, kind in enumerate(KINDS):
        row[f"days_to_help_{kind}"] = float(waits[k].sum() / max((output.wait_count[k] > 0).sum(), 1))
    return frame, row


def simulate(
    population: Population,
    scenario: Scenario,
    *,
    policies: Sequence[str] = ("equity",),
    runs: int = 1,
    seed: int = 0,
    days: int | None = None,
    client: Any = None,
    progress: ProgressCallback | None = None,
) -> SimulationResult:
    """Run ``runs`` replications of ``scenario`` on ``population`` under each of ``policies``.

    Parameters
    ----------
    population : Population
        From :func:`read_registry`, :func:`population_from_governance`, the platform, or
        :func:`synthetic_population`.
    scenario : Scenario
        From :func:`load_scenario` or :func:`scenario_from_dict`.
    policies : sequence of str
        Allocation policies of :func:`civicgrid.engine.allocation.allocate`.
    runs : int
        Replications (1 to 1,000); replication ``r`` draws from ``SeedSequence([seed, r])``.
    seed : int
        The one seed of all randomness.
    days : int, optional
        Days to simulate (default: the scenario's).
    client : dask.distributed.Client, optional
        Run the replications as Dask tasks; results are identical to a serial run.
    progress : callable, optional
        Called as ``progress(done, runs)`` after each replication (serially: after each few, as
        the replications of a small population run side by side, see ``_simulation_batch``; at
        least ten times when there are ten or more replications).

    Returns
    -------
    SimulationResult
    """
    unknown = [p for p in policies if p not in POLICIES]
    if unknown or not policies:
        raise ValueError(f"unknown policies {unknown}; choose among {', '.join(POLICIES)}")
    if len(set(policies)) != len(policies):
        raise ValueError("each policy may be named once")
    if isinstance(runs, bool) or not isinstance(runs, int) or not 1 <= runs <= MAX_RUNS:
        raise ValueError(f"runs must be a whole number from 1 to {MAX_RUNS}, got {runs!r}")
    n_days = scenario.days if days is None else days
    if isinstance(n_days, bool) or not isinstance(n_days, int) or not 1 <= n_days <= 365:
        raise ValueError(f"days must be a whole number from 1 to 365, got {n_days!r}")
    if population.n == 0:
        raise ValueError("the population has no households")
    kwargs: dict[str, Any] = {"policies": tuple(policies), "seed": int(seed), "days": n_days}
    outputs: list[list[RunOutput]] = []
    if client is None:
        # replications of a small population side by side, a few at a time (_simulation_batch); a
        # progress bar still moves at least ten times, so it never jumps from nothing to done
        size = batch_size(population)
        if progress is not None:
            size = min(size, max(1, runs // 10))
        for start in range(0, runs, size):
            outputs += run_replications(population, scenario, runs=range(start, min(start + size, runs)),
                                        **kwargs)
            if progress is not None:
                progress(len(outputs), runs)
    else:
        from dask.distributed import as_completed

        shared = client.scatter(population, broadcast=True)
        futures = [
            client.submit(run_replication, shared, scenario, run=r, pure=False, **kwargs)
            for r in range(runs)
        ]
        for done, _ in enumerate(as_completed(futures), start=1):
            if progress is not None:
                progress(done, runs)
        outputs = client.gather(futures)  # in run order, whatever order they finished in
    frames, rows = [], []
    for r, per_policy in enumerate(outputs):
        for output in per_policy:
            frame, row = _run_frames(output, run=r, population=population)
            frames.append(frame)
            rows.append(row)
    daily = pd.concat(frames, ignore_index=True)
    for column in ("policy", "group", "metric"):
        daily[column] = daily[column].astype("category")
    inputs = {
        "scenario": scenario.name,
        "policies": list(policies),
        "runs": runs,
        "seed": int(seed),
        "days": n_days,
        "households": population.n,
        "vulnerable_households": int(population.vulnerable.sum()),
    }
    return SimulationResult(daily=daily, runs=pd.DataFrame(rows), inputs=inputs)


# --------------------------------------------------------------------------- registry folders


def _read(folder: Path, table: str) -> pd.DataFrame:
    path = folder / f"{table}.csv"
    if not path.exists():
        raise ValueError(f"{folder} has no {table}.csv (a folder as 'civicgrid synth' writes)")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _flag(column: pd.Series) -> np.ndarray:
    return column.str.strip().str.lower().isin(["1", "true", "yes", "是"]).to_numpy()


def read_registry(
    folder: str | Path,
    *,
    as_of: date = date(2026, 1, 1),
    vulnerable_score: float = 0.3,
    seed: int = 0,
) -> Population:
    """A population from a registry folder in the format ``civicgrid synth`` writes.

    Household facts come from ``residents.csv`` (ages on ``as_of``), the relief weight and the
    "vulnerable" flag from the platform's rule (:data:`civicgrid.engine.vulnerability.DEFAULT_RULE`,
    vulnerable at ``score >= vulnerable_score``), the areas are the grids, the actors and their
    capacities from ``actors.csv`` and the volunteers from the ``volunteer`` posts.

    Examples
    --------
    >>> import tempfile
    >>> from civicgrid.engine.synth import generate_community
    >>> from civicgrid.engine.simulation import read_registry
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = generate_community(households=400, seed=3).write_csv(folder)
    ...     population = read_registry(folder)
    >>> population.n, len(population.areas), population.volunteer_area.size > 0
    (400, 12, True)
    """
    from civicgrid.engine.vulnerability import DEFAULT_RULE, ages_on

    root = Path(folder)
    places = _read(root, "places")
    households = _read(root, "households")
    residents = _read(root, "residents")
    actors = _read(root, "actors")
    people = _read(root, "people")
    posts = _read(root, "posts")
    parent = dict(zip(places["code"], places["parent_code"], strict=True))
    level = dict(zip(places["code"], places["level"], strict=True))
    grid_of_building = {
        b: parent.get(b, "") for b, lv in level.items() if lv == "building"
    }
    grid = households["building_code"].map(grid_of_building).fillna("").to_numpy()
    age = ages_on(residents["birth_date"], as_of)
    facts = pd.DataFrame(
        {
            "household": residents["household_code"].to_numpy(),
            "age": age,
            "lives_alone": _flag(residents["lives_alone"]),
            "disability_grade": pd.to_numeric(residents["disability_grade"], errors="coerce"),
            "chronic_illness": _flag(residents["chronic_illness"]),
            "pregnant": _flag(residents["pregnant"]),
            "limited_mobility": _flag(residents["limited_mobility"]),
            "language_barrier": _flag(residents["language_barrier"]),
            "mental_health_needs": _flag(residents["mental_health_needs"]),
        }
    )
    scores = DEFAULT_RULE.score(
        residents=facts,
        households=pd.DataFrame(
            {"household": households["code"], "income_status": households["income_status"]}
        ),
    )
    severe = facts["disability_grade"].fillna(0).between(1, 2).to_numpy()
    able = (age >= 18) & (age < 70) & ~facts["limited_mobility"].to_numpy() & ~severe
    facts["able"] = able
    facts["old_alone"] = (age >= 60) & facts["lives_alone"].to_numpy()
    per = facts.groupby("household").agg(
        size=("age", "size"),
        chronic=("chronic_illness", "sum"),
        able=("able", "any"),
        old_alone=("old_alone", "any"),
        mental=("mental_health_needs", "any"),
    )
    per = per.reindex(households["code"].to_numpy()).fillna(0)
    codes_under: dict[str, list[str]] = {}
    grids = sorted(set(grid.tolist()) - {""})
    for g in grids:
        node = g
        while node:
            codes_under.setdefault(node, []).append(g)
            node = parent.get(node, "")
    actor_inputs = []
    for row in actors.itertuples(index=False):
        capacities = json.loads(row.capacities) if row.capacities else {}
        served = codes_under.get(row.service_area_code, [])
        actor_inputs.append(
            ActorInput(
                id=row.code,
                name=row.name,
                sector=row.sector,
                kind=row.kind,
                capacities={k: int(v) for k, v in capacities.items() if int(v) > 0},
                # an actor serving every grid of the registry serves "everywhere"
                service_area=() if set(served) >= set(grids) else tuple(served),
                volunteer_share=1.0 if row.kind == "volunteer_team" else 0.0,
            )
        )
    volunteers = posts[posts["role"] == "volunteer"]
    resident_of = dict(zip(people["code"], people["resident_code"], strict=True))
    household_of = dict(zip(residents["code"], residents["household_code"], strict=True))
    grid_of_household = dict(zip(households["code"], grid, strict=True))
    volunteer_grid = [
        grid_of_household.get(household_of.get(resident_of.get(p, ""), ""), "")
        for p in volunteers["person_code"]
    ]
    return population_from_facts(
        household_ids=households["code"].to_numpy(),
        area_codes=grid,
        size=per["size"].to_numpy(),
        weight=scores["weight"].to_numpy(),
        vulnerable=scores["score"].to_numpy() >= vulnerable_score,
        can_fetch=per["able"].astype(bool).to_numpy(),
        chronic=per["chronic"].to_numpy(),
        elder_alone=per["old_alone"].astype(bool).to_numpy(),
        psychosocial=per["mental"].astype(bool).to_numpy(),
        actors=actor_inputs,
        volunteer_area_codes=volunteer_grid,
        volunteer_actor_ids=volunteers["actor_code"].tolist(),
        seed=seed,
    )
