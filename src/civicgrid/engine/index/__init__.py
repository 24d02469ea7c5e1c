"""civicgrid.engine.index: composite indices from a declarative specification.

A specification (YAML or dict) names indicators with their direction and the tree of groups
above them; :func:`compute_index` evaluates it and keeps every level so a user can see why a
unit ranks where it does.  Presets reproduce published indices exactly from raw inputs.

>>> import pandas as pd
>>> from civicgrid.engine.index import compute_index
>>> data = pd.DataFrame({"area": ["n", "s", "e"], "flooded": [0.1, 0.4, 0.2],
...                      "income": [30, 12, 20]})
>>> spec = {"name": "demo", "id_column": "area", "defaults": {"normalise": "minmax"},
...         "indicators": [{"name": "flooded"}, {"name": "income", "direction": -1}],
...         "groups": [{"name": "risk", "children": ["flooded", "income"]}]}
>>> compute_index(data, spec=spec).rank.to_dict()
{'n': 3, 's': 1, 'e': 2}
"""

from ._engine import IndexResult, compute_index
from ._rounding import round_values
from ._spec import (
    Aggregation,
    Group,
    IndexSpec,
    Indicator,
    Missing,
    Normalisation,
    Outliers,
    Rounding,
)
from .presets import inform, load_preset, svi, svi_layout
from .uncertainty import RankIntervals, plot_rank_intervals, rank_intervals, sobol_sensitivity

__all__ = [
    "Aggregation",
    "Group",
    "IndexResult",
    "IndexSpec",
    "Indicator",
    "Missing",
    "Normalisation",
    "Outliers",
    "RankIntervals",
    "Rounding",
    "compute_index",
    "inform",
    "load_preset",
    "plot_rank_intervals",
    "rank_intervals",
    "round_values",
    "sobol_sensitivity",
    "svi",
    "svi_layout",
]
