"""civicgrid: community resilience governance.

Two layers:

* :mod:`civicgrid.engine` -- pure Python/numpy/pandas (never imports Django), usable from a notebook:
  the synthetic community generator, the vulnerability rule and the analytics kernels.
* The Django platform (:mod:`civicgrid.config`, apps :mod:`civicgrid.core`, :mod:`civicgrid.registry`, ...).
"""

__version__ = "0.1.0"
