"""The engine's docstring examples are collected by pytest itself (``--doctest-modules`` over
``src/civicgrid/engine``, configured in pyproject.toml), so a new module's examples run without being
listed anywhere. These tests guard that set-up: the configuration is in place, every engine module
imports without Django (so that collection never needs the platform), and the modules whose examples
are their documentation keep at least one."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import civicgrid.engine

ROOT = Path(__file__).resolve().parents[2]

# Modules whose docstring examples are part of their documentation: they must keep some.
DOCUMENTED_BY_EXAMPLE = (
    "civicgrid.engine.allocation",
    "civicgrid.engine.allocation_cli",
    "civicgrid.engine.budgeting",
    "civicgrid.engine.equity",
    "civicgrid.engine.governance",
    "civicgrid.engine.synth",
    "civicgrid.engine.vulnerability",
    "civicgrid.engine.index",
    "civicgrid.engine.index._rounding",
    "civicgrid.engine.index._normalise",
    "civicgrid.engine.index._aggregate",
    "civicgrid.engine.index._missing",
    "civicgrid.engine.index._outliers",
    "civicgrid.engine.index._weights",
    "civicgrid.engine.index._spec",
    "civicgrid.engine.index._engine",
    "civicgrid.engine.index._replicate",
    "civicgrid.engine.index.presets",
    "civicgrid.engine.index.uncertainty",
    "civicgrid.engine.index.cli",
)


def _engine_modules() -> list[str]:
    return ["civicgrid.engine"] + [
        info.name for info in pkgutil.walk_packages(civicgrid.engine.__path__, "civicgrid.engine.")
    ]


def test_pytest_collects_the_engine_examples() -> None:
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "src/civicgrid/engine" in options["testpaths"]
    assert "--doctest-modules" in options["addopts"].split()
    assert {"NORMALIZE_WHITESPACE", "ELLIPSIS"} <= set(options["doctest_optionflags"])


def test_every_engine_module_imports_without_django() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {_engine_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


@pytest.mark.parametrize("module", DOCUMENTED_BY_EXAMPLE)
def test_module_keeps_its_examples(module: str) -> None:
    assert module in _engine_modules()
    tests = doctest.DocTestFinder().find(importlib.import_module(module))
    assert sum(len(t.examples) for t in tests) > 0, f"{module} has no runnable example"
