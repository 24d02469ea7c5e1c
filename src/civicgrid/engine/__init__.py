"""civicgrid.engine: the analytics and generation kernels, pure Python/numpy/pandas.

This package never imports Django, so a researcher can use it from a notebook::

    >>> from civicgrid.engine import generate_community
    >>> community = generate_community(households=200, seed=1)
    >>> len(community.households)
    200

Modules: :mod:`~civicgrid.engine.synth` (synthetic communities), :mod:`~civicgrid.engine.vulnerability`
(the household vulnerability rule), :mod:`~civicgrid.engine.allocation` (equity-first allocation),
:mod:`~civicgrid.engine.equity` (inequality measures), :mod:`~civicgrid.engine.governance`
(state-capital-society balance and stress tests), :mod:`~civicgrid.engine.index` (composite indices:
CDC/ATSDR SVI and INFORM presets, uncertainty and sensitivity), :mod:`~civicgrid.engine.simulation` (shock
simulation on a registry: needs, supply, delivery, disruptions, day by day, Monte Carlo on Dask),
:mod:`~civicgrid.engine.budgeting` (the participatory budget's published winner rule) and
:mod:`~civicgrid.engine.social_growth` (the demo's two contrasting years of social growth).
"""

from civicgrid.engine.allocation import POLICIES, allocate, sphere_floor
from civicgrid.engine.equity import (
    atkinson,
    concentration_index,
    equity_summary,
    gini,
    group_report,
    theil,
)
from civicgrid.engine.governance import (
    GovernanceInputs,
    GovernanceReport,
    StressScenario,
    governance_report,
    load_governance_fixture,
    report_to_json,
    report_to_text,
    stress_test,
)
from civicgrid.engine.index import (
    IndexResult,
    IndexSpec,
    compute_index,
    inform,
    load_preset,
    rank_intervals,
    sobol_sensitivity,
    svi,
)
from civicgrid.engine.synth import SynthCommunity, generate_community
from civicgrid.engine.vulnerability import DEFAULT_RULE, VulnerabilityRule

__all__ = [
    "DEFAULT_RULE",
    "POLICIES",
    "GovernanceInputs",
    "GovernanceReport",
    "IndexResult",
    "IndexSpec",
    "StressScenario",
    "SynthCommunity",
    "VulnerabilityRule",
    "allocate",
    "atkinson",
    "compute_index",
    "concentration_index",
    "equity_summary",
    "generate_community",
    "gini",
    "governance_report",
    "group_report",
    "inform",
    "load_preset",
    "load_governance_fixture",
    "report_to_json",
    "rank_intervals",
    "report_to_text",
    "sobol_sensitivity",
    "sphere_floor",
    "stress_test",
    "svi",
    "theil",
]
