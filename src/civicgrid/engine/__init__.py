"""civicgrid.engine: the analytics and generation kernels, pure Python/numpy/pandas.

This package never imports Django, so a researcher can use it from a notebook::

    >>> from civicgrid.engine import generate_community
    >>> community = generate_community(households=200, seed=1)
    >>> len(community.households)
    200
"""

from civicgrid.engine.synth import SynthCommunity, generate_community
from civicgrid.engine.vulnerability import DEFAULT_RULE, VulnerabilityRule

__all__ = ["DEFAULT_RULE", "SynthCommunity", "VulnerabilityRule", "generate_community"]
