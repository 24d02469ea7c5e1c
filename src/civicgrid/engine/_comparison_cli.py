"""``civicgrid compare --panel FILE ...``: the before/after comparison on a researcher's panel (CSV), no
database. (``civicgrid compare --community CODE ...`` runs on the live records: civicgrid.evaluation.)

The panel has the columns ``unit``, ``date``, ``value`` and, for means and shares, ``weight``. The event
is one date for the ``--treated`` units, or a CSV ``unit,date`` (``--events``) for staggered adoption;
the other units are the comparisons. Writes the estimates (and placebos) as CSV and prints the verdict
in English and Chinese. Exit codes: 0 done, 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from civicgrid.engine._cli import CliExit, CliParser, CliUsageError, usage_error
from civicgrid.engine.comparison import (
    DidResult,
    ItsResult,
    OutcomeWords,
    difference_in_differences,
    interrupted_time_series,
    verdict,
)

__all__ = ["estimates_frame", "run_compare_cli"]

KINDS = {"poisson": "count", "gamma": "duration", "binomial": "share"}


def _parser() -> argparse.ArgumentParser:
    parser = CliParser(prog="civicgrid compare", description="Before/after comparison (ITS and stacked DiD).")
    parser.add_argument("--panel", required=True, type=Path, help="CSV: unit, date, value[, weight]")
    parser.add_argument("--event", help="the first day under the event (with --treated)")
    parser.add_argument("--treated", nargs="+", default=[], help="units that had the event on --event")
    parser.add_argument("--events", type=Path, help="CSV unit,date: staggered events")
    parser.add_argument("--family", choices=list(KINDS), default="poisson",
                        help="poisson (counts), gamma (durations), binomial (shares)")
    parser.add_argument("--outcome-en", default="the outcome", help="the outcome in English words")
    parser.add_argument("--outcome-zh", default="结果指标", help="the outcome in Chinese words")
    parser.add_argument("--event-en", default="the event")
    parser.add_argument("--event-zh", default="事件")
    parser.add_argument("--out", required=True, help="CSV of the estimates and placebos, or - for stdout")
    return parser


def estimates_frame(its: ItsResult, did: DidResult | None) -> pd.DataFrame:
    """One row per estimate and placebo: method, label, ratio, low, high, p_value, alarm."""
    rows = [{"method": "its", "label": "", "ratio": its.effect.ratio, "low": its.effect.low,
             "high": its.effect.high, "p_value": its.effect.p_value, "alarm": ""}]
    if did is not None:
        rows.append({"method": "stacked_did", "label": "", "ratio": did.effect.ratio, "low": did.effect.low,
                     "high": did.effect.high, "p_value": did.effect.p_value, "alarm": ""})
    for method, result in (("its", its), ("stacked_did", did)):
        for p in result.placebos if result is not None else ():
            rows.append({"method": f"{method}_placebo_{p.kind}", "label": p.label, "ratio": p.effect.ratio,
                         "low": p.effect.low, "high": p.effect.high, "p_value": p.effect.p_value,
                         "alarm": p.alarm})
    return pd.DataFrame(rows)


def run_compare_cli(argv: list[str]) -> int:
    """Run ``civicgrid compare --panel ...`` with the arguments after the subcommand name.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, pandas as pd
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> rng = np.random.default_rng(1)
    >>> days = pd.date_range("2026-01-01", periods=84, freq="D")
    >>> rows = [{"unit": u, "date": d.date(), "value": rng.poisson(5 * (2 if u == "A" and d >= days[42] else 1))}
    ...         for u in "ABCD" for d in days]
    >>> pd.DataFrame(rows).to_csv(folder / "panel.csv", index=False)
    >>> run_compare_cli(["--panel", str(folder / "panel.csv"), "--event", str(days[42].date()),
    ...                  "--treated", "A", "--outcome-en", "cases reported", "--out", str(folder / "e.csv")])
    ... # doctest: +ELLIPSIS
    Cases reported rose by ...
    0
    >>> run_compare_cli(["--panel", str(folder / "missing.csv"), "--event", "2026-02-12", "--treated", "A",
    ...                  "--out", "-"])
    2
    """
    try:
        args = _parser().parse_args(argv)
        panel = pd.read_csv(args.panel, dtype={"unit": str})
        if args.events:
            table = pd.read_csv(args.events, dtype={"unit": str})
            events = dict(zip(table["unit"], pd.to_datetime(table["date"]), strict=True))
        elif args.event and args.treated:
            events = {u: pd.Timestamp(args.event) for u in args.treated}
        else:
            raise CliUsageError("give --event with --treated, or --events")
        weight = "weight" if "weight" in panel.columns and args.family != "poisson" else None
        panel["unit"] = panel["unit"].astype(str)
        treated = panel[panel["unit"].isin(events)]
        others = panel[~panel["unit"].isin(events)]
        first = min(events.values())
        series = (treated.groupby("date", as_index=False)[["value"]].sum() if weight is None else
                  treated.assign(total=treated["value"] * treated[weight]).groupby("date", as_index=False)
                  [["total", weight]].sum().assign(value=lambda f: f["total"] / f[weight]))
        its = interrupted_time_series(data=series, event=first, family=args.family, weight=weight,
                                      placebo_units=others if len(others) else None)
        did = (difference_in_differences(data=panel, events=events, family=args.family, weight=weight)
               if len(others) else None)
    except CliExit as exc:
        return exc.status
    except CliUsageError as exc:
        return usage_error("civicgrid compare", exc)
    except (OSError, ValueError, KeyError, pd.errors.ParserError) as exc:
        print(f"civicgrid compare: error: {exc}", file=sys.stderr)
        return 2
    words = OutcomeWords(KINDS[args.family], args.outcome_en, args.outcome_zh)  # type: ignore[arg-type]
    main = did if did is not None else its
    frame = estimates_frame(its, did)
    try:
        frame.to_csv(sys.stdout if args.out == "-" else args.out, index=False)
    except OSError as exc:
        print(f"civicgrid compare: error: cannot write {args.out}: {exc}", file=sys.stderr)
        return 2
    print(verdict(main, outcome=words, event=args.event_en, language="en"))
    print(verdict(main, outcome=words, event=args.event_zh, language="zh"))
    return 0
