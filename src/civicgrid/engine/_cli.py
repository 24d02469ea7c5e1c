"""The one argument parser of civicgrid's command lines (the engine's and the platform's).

:class:`CliParser` never ends the process: a bad argument raises :class:`CliUsageError` and
``--help`` raises :class:`CliExit`, so each command function returns its exit code (0 done, 1 the
work failed, 2 the call was wrong) and can be tested by calling it.
"""

from __future__ import annotations

import argparse
import sys


class CliUsageError(Exception):
    """A bad argument: the caller prints it with a hint and returns 2."""


class CliExit(Exception):
    """argparse wanted to exit (``--help``); carries the exit code."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class CliParser(argparse.ArgumentParser):
    """An ArgumentParser that never exits the process, so the caller gets a return code."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliUsageError(message)

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        if message:
            print(message, file=sys.stderr, end="")
        raise CliExit(status)


def usage_error(prog: str, error: CliUsageError) -> int:
    """Print a bad call's error with where to look, and return its exit code (2)."""
    print(f"{prog}: error: {error}", file=sys.stderr)
    print(f"run '{prog} --help' for the options", file=sys.stderr)
    return 2
