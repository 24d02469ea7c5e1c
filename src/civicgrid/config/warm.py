"""Load the whole app before serving, then hand what is loaded to the collector's permanent generation.

``civicgrid serve`` loads the app once in gunicorn's master and forks the workers from it. Loading the WSGI app
runs ``django.setup()`` but does not import the URLconf: every view module, and through them pandas, plotly and
the engine, used to be imported by a worker's first request, after the master's ``gc.freeze()``. Those ~40,000
objects then stayed under the collector, and each full collection walked them again: 50-80 ms of a heavy page's
CPU at 1,000,000 households (the 3W board; measured with ``bench/bench_pages_scale.py``, issue 15). Imported
here before the freeze, they are loaded once for all workers and never walked.

The young generation's threshold is raised too (:data:`YOUNG`): a heavy page at 1,000,000 households allocates
some 75,000 containers (tally cells and rows), so at Python's default of 700 a request ran ~100 young, ~10 middle
and about one full collection, and a full collection walks everything a worker has gathered since the freeze:
~35 ms each after serving the district's pages, 25-30 ms of the CREI page's CPU (issue 15). At 7,000 a young
collection still costs little and full collections come ten times less often; garbage is still collected.
"""

from __future__ import annotations

import gc

YOUNG = 7000  # objects allocated (net) between young collections; Python's default is 700


def load_and_freeze() -> int:
    """Import the URLconf (every app's views and what they import), then ``gc.freeze()`` and raise the young
    generation's threshold (inherited by the forked workers). Opens no database connection. Returns the number of
    objects now frozen."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the import is the point
    gc.freeze()
    gc.set_threshold(YOUNG, *gc.get_threshold()[1:])
    return gc.get_freeze_count()
