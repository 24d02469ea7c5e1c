"""``civicgrid simulate``: run a scenario on a registry folder (or, through the platform, a community).

    civicgrid simulate --registry DIR --scenario lockdown --days 30 --runs 20 \\
        --policy equity --policy fcfs --out results/

``--scenario`` is a YAML file or the name of a bundled example (``lockdown``, ``earthquake``,
``flood``, ``lockdown_enterprise_withdrawal``). Replications run on Dask: a local cluster unless
``--scheduler ADDRESS`` names a running one, in-process with ``--serial`` (same numbers either way).
``--community CODE`` reads the live database and needs the platform; ``civicgrid.cli`` passes the
loader in, so this module never imports Django.

Exit codes: 0 done, 1 the work failed, 2 a bad call or bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from civicgrid.engine._cli import CliExit, CliParser, CliUsageError, usage_error
from civicgrid.engine.allocation import POLICIES
from civicgrid.engine.simulation import (
    Population,
    Scenario,
    bundled_scenarios,
    load_scenario,
    read_registry,
    simulate,
)

CommunityLoader = Callable[[str, int], Population]
PROG = "civicgrid simulate"


def _parser() -> argparse.ArgumentParser:
    parser = CliParser(prog=PROG, description="Simulate a shock on a community's registry.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--registry", type=Path, help="a registry folder as 'civicgrid synth' writes")
    source.add_argument("--community", help="a community code of the live database")
    parser.add_argument("--scenario", required=True, help="scenario YAML file or bundled name")
    parser.add_argument("--days", type=int, default=None, help="days (default: the scenario's)")
    parser.add_argument("--runs", type=int, default=1, help="Monte Carlo replications")
    parser.add_argument("--policy", action="append", choices=POLICIES, dest="policies",
                        help="allocation policy, repeatable (default: equity and fcfs)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scheduler", default="", help="address of a running Dask scheduler")
    parser.add_argument("--serial", action="store_true", help="run in this process, without Dask")
    parser.add_argument("--out", required=True, type=Path, help="folder for the results")
    return parser


def resolve_scenario(name: str) -> Scenario:
    """A scenario from a file path or a bundled example's name."""
    bundled = bundled_scenarios()
    if name in bundled:
        return load_scenario(bundled[name])
    path = Path(name)
    if not path.exists():
        raise ValueError(
            f"no scenario file {name!r}; bundled examples: {', '.join(sorted(bundled))}"
        )
    return load_scenario(path)


def _client(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    if args.serial or (args.runs == 1 and not args.scheduler):
        return None, None
    from dask.distributed import Client, LocalCluster

    if args.scheduler:
        return Client(args.scheduler), None
    cluster = LocalCluster(
        n_workers=max(1, min(args.runs, os.cpu_count() or 1)),
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
    )
    return Client(cluster), cluster


def run_simulate_cli(argv: list[str], *, community_loader: CommunityLoader | None = None) -> int:
    """Run ``civicgrid simulate`` with the arguments after the subcommand name.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from civicgrid.engine.synth import generate_community
    >>> from civicgrid.engine._simulation_cli import run_simulate_cli
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = generate_community(households=300, seed=1).write_csv(folder / "registry")
    >>> run_simulate_cli(["--registry", str(folder / "registry"), "--scenario", "lockdown",
    ...                   "--days", "5", "--runs", "2", "--serial", "--out", str(folder / "out")])
    ... # doctest: +ELLIPSIS
    300 households, 5 days, 2 runs, policies equity, fcfs: ...
    0
    >>> sorted(p.name for p in (folder / "out").iterdir())  # doctest: +NORMALIZE_WHITESPACE
    ['daily.csv', 'daily.parquet', 'intervals.csv', 'intervals.parquet', 'runs.csv',
     'runs.parquet', 'summary.json']
    >>> run_simulate_cli(["--registry", str(folder), "--scenario", "nowhere", "--out", "x"])
    2
    """
    try:
        args = _parser().parse_args(argv)
    except CliExit as exc:
        return exc.status
    except CliUsageError as exc:
        return usage_error(PROG, exc)
    policies = tuple(dict.fromkeys(args.policies or ["equity", "fcfs"]))
    try:
        scenario = resolve_scenario(args.scenario)
        if args.community:
            if community_loader is None:
                raise ValueError("--community reads the live database: run it as 'civicgrid simulate'")
            population = community_loader(args.community, args.seed)
        else:
            population = read_registry(args.registry, seed=args.seed)
    except (ValueError, OSError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    client, cluster = _client(args)
    try:
        result = simulate(population, scenario, policies=policies, runs=args.runs, seed=args.seed,
                          days=args.days, client=client)
    except ValueError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    try:
        result.write(args.out)
    except OSError as exc:
        print(f"{PROG}: error: cannot write {args.out}: {exc}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    print(f"{population.n} households, {result.inputs['days']} days, {args.runs} runs, "
          f"policies {', '.join(policies)}: {elapsed:.1f} s; wrote {args.out}")
    print(result.sentence())
    return 0
