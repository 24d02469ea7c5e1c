"""``civicgrid allocate``: run :func:`~civicgrid.engine.allocation.allocate` on CSV files.

The main ``civicgrid`` console script dispatches ``civicgrid allocate ...`` here::

    civicgrid allocate --requests requests.csv --stock stock.csv --policy equity --out out.csv

Exit codes: 0 on success, 2 on bad input (unreadable file, missing column, bad value,
unknown policy), with the reason on standard error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from civicgrid.engine._cli import CliExit, CliParser, CliUsageError, usage_error
from civicgrid.engine.allocation import POLICIES, allocate

__all__ = ["run_allocate_cli"]

# Labels must match between the two files whatever they look like ("07", "1", "A"), so they
# are read as text; ids keep pandas' inference so numeric ids sort numerically.
_TEXT_COLUMNS = {"item": str, "point": str, "household_id": str, "unit": str, "weight_reason": str}


def _parser() -> argparse.ArgumentParser:
    parser = CliParser(
        prog="civicgrid allocate",
        description=(
            "Allocate relief stock to household requests (CSV in, CSV out). Requests need the "
            "columns request_id, household_id, item, need, weight, tier, floor, requested_at "
            "(optional point, weight_reason); stock needs item, quantity (optional point, unit)."
        ),
    )
    parser.add_argument("--requests", required=True, type=Path, help="requests CSV file")
    parser.add_argument("--stock", required=True, type=Path, help="stock CSV file")
    parser.add_argument(
        "--policy", default="equity", choices=POLICIES, help="allocation policy (default: equity)"
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of the lottery policy")
    parser.add_argument(
        "--out", required=True, help="output CSV file for the allocations, or - for stdout"
    )
    return parser


def _read(path: Path, what: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=_TEXT_COLUMNS, keep_default_na=True)
    except FileNotFoundError:
        raise ValueError(f"{what} file not found: {path}") from None
    except pd.errors.EmptyDataError:
        raise ValueError(f"{what} file is empty: {path}") from None
    except (pd.errors.ParserError, UnicodeDecodeError, IsADirectoryError) as exc:
        raise ValueError(f"cannot read {what} file {path}: {exc}") from None


def run_allocate_cli(argv: list[str]) -> int:
    """Run ``civicgrid allocate`` with the arguments after the subcommand name.

    Parameters
    ----------
    argv : list of str
        E.g. ``["--requests", "r.csv", "--stock", "s.csv", "--out", "a.csv"]``.

    Returns
    -------
    int
        0 on success, 2 on bad input (the reason is printed on standard error).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from civicgrid.engine.allocation_cli import run_allocate_cli
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "r.csv").write_text(
    ...     "request_id,household_id,item,need,weight,tier,floor,requested_at\\n"
    ...     "1,h1,water,10,1.0,1,4,2024-03-01T08:00\\n"
    ...     "2,h2,water,10,2.0,1,4,2024-03-01T09:00\\n")
    >>> _ = (folder / "s.csv").write_text("item,quantity\\nwater,12\\n")
    >>> run_allocate_cli(["--requests", str(folder / "r.csv"), "--stock", str(folder / "s.csv"),
    ...                   "--out", str(folder / "a.csv")])  # doctest: +ELLIPSIS
    allocated 12 of 20 units to 2 requests (policy equity); wrote ...a.csv
    0
    >>> run_allocate_cli(["--requests", str(folder / "r.csv"), "--stock", str(folder / "s.csv"),
    ...                   "--policy", "fastest", "--out", "-"])
    2
    """
    try:
        args = _parser().parse_args(argv)
        requests = _read(args.requests, "requests")
        stock = _read(args.stock, "stock")
        result = allocate(requests, stock, policy=args.policy, seed=args.seed)
    except CliExit as exc:
        return exc.status
    except CliUsageError as exc:
        return usage_error("civicgrid allocate", exc)
    except (ValueError, TypeError) as exc:
        print(f"civicgrid allocate: error: {exc}", file=sys.stderr)
        return 2
    if args.out == "-":
        result.to_csv(sys.stdout, index=False)
        return 0
    try:
        result.to_csv(args.out, index=False)
    except OSError as exc:
        print(f"civicgrid allocate: error: cannot write {args.out}: {exc}", file=sys.stderr)
        return 2
    print(
        f"allocated {int(result['allocated'].sum())} of {int(result['need'].sum())} units to "
        f"{len(result)} requests (policy {args.policy}); wrote {args.out}"
    )
    return 0
