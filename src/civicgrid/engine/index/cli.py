"""Command line: ``civicgrid index``.

    civicgrid index --spec SPEC.yaml --input UNITS.csv --out SCORES.csv
    civicgrid index svi --input SVI_county.csv --out svi.csv [--release 2022]
    civicgrid index inform --input INFORM.csv --out inform.csv

Inputs and outputs are CSV (``.xlsx`` also works).  CSV input is read as UTF-8 and, failing
that, Latin-1 (INFORM's files), unless ``--encoding`` says otherwise.  For ``--spec`` the output
holds the columns named in the specification's ``outputs`` when it names any, otherwise every
level plus the index rank.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
import yaml

from .._cli import CliExit, CliParser, CliUsageError, usage_error
from ._engine import compute_index
from ._spec import IndexSpec
from .presets import inform, svi

_PROG = "civicgrid index"


def _read_table(path: Path, encoding: str | None) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"input file not found: {path}")
    if path.suffix.lower() in (".xlsx", ".xls"):
        return pd.read_excel(path, dtype=str, keep_default_na=False)
    encodings = [encoding] if encoding else ["utf-8-sig", "latin-1"]
    for candidate in encodings:
        try:
            # read everything as text: codes such as "x" and leading zeros of ids survive,
            # and the engine converts indicator columns itself with clear errors
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=candidate)
        except UnicodeDecodeError:
            if candidate == encodings[-1]:
                raise
    raise AssertionError("unreachable")


def _write_table(table: pd.DataFrame, path: Path, *, missing: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".xlsx":
        table.to_excel(path, index=False)
    else:
        table.to_csv(path, index=False, na_rep=missing)


def _parser(command: str | None) -> argparse.ArgumentParser:
    prog = f"{_PROG} {command}" if command else _PROG
    parser = CliParser(
        prog=prog, description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    if command is None:
        parser.add_argument("--spec", required=True, type=Path, help="index specification (YAML)")
    if command == "svi":
        parser.add_argument(
            "--release", type=int, help="SVI release year; detected from the columns if omitted"
        )
    parser.add_argument("--input", required=True, type=Path, help="one row per unit (CSV or XLSX)")
    parser.add_argument(
        "--out", required=True, type=Path, help="where to write the results (CSV or XLSX)"
    )
    parser.add_argument(
        "--encoding", help="text encoding of a CSV input (default: UTF-8, else Latin-1)"
    )
    return parser


def run_index_cli(argv: list[str]) -> int:
    """Run ``civicgrid index`` with the arguments after ``index``; return the exit status.

    A leading ``"index"`` is accepted too.  Errors in the input are reported on stderr with
    status 2.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "spec.yaml").write_text(
    ...     "{name: demo, id_column: grid, defaults: {normalise: percent_rank}, "
    ...     "indicators: [{name: drills}], groups: [{name: readiness, children: [drills]}]}")
    >>> grids = pd.DataFrame({"grid": ["01", "02"], "drills": [3, 5]})
    >>> grids.to_csv(folder / "grids.csv", index=False)
    >>> run_index_cli(["--spec", str(folder / "spec.yaml"), "--input", str(folder / "grids.csv"),
    ...                "--out", str(folder / "scores.csv")])  # doctest: +ELLIPSIS
    wrote 2 rows x 4 columns to .../scores.csv
    0
    >>> pd.read_csv(folder / "scores.csv", dtype={"grid": str}).to_dict("list")
    {'grid': ['01', '02'], 'drills': [0.0, 1.0], 'readiness': [0.0, 1.0], 'readiness:rank': [2, 1]}
    """
    arguments = list(argv)
    if arguments[:1] == ["index"]:
        arguments = arguments[1:]
    command = arguments[0] if arguments[:1] and arguments[0] in ("svi", "inform") else None
    parser = _parser(command)
    try:
        options = parser.parse_args(arguments[1:] if command else arguments)
    except CliExit as exc:
        return exc.status
    except CliUsageError as exc:
        return usage_error(parser.prog, exc)
    try:
        data = _read_table(options.input, options.encoding)
        missing = ""
        if command == "svi":
            # NaN in the frame, written as the published -999 (keeps scores as plain numbers)
            table, missing = svi(data, release=options.release, missing=None), "-999"
        elif command == "inform":
            table, missing = inform(data), "x"
        else:
            spec = IndexSpec.load(options.spec)
            result = compute_index(data, spec=spec)
            published = any(i.outputs for i in result.spec.indicators) or any(
                g.outputs for g in result.spec.groups
            )
            table = result.table(published=published, missing=None)
            if result.spec.output_missing is not None:
                missing = str(result.spec.output_missing)
            if not published:
                table[f"{result.spec.root}:rank"] = result.rank
            key = result.spec.id_column or "unit"
            table.insert(0, key, table.index.to_numpy())
            table = table.reset_index(drop=True)
        _write_table(table, options.out, missing=missing)
    except (ValueError, TypeError, FileNotFoundError, UnicodeDecodeError, yaml.YAMLError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {len(table)} rows x {table.shape[1]} columns to {options.out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(run_index_cli(sys.argv[1:]))
