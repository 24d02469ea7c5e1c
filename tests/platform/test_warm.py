"""The server loads the whole app before forking its workers and freezes it for the collector
(civicgrid.config.warm, called from gunicorn's pre_fork): every view module is imported, no database connection
is opened, and what a request finds under the collector is small (issue 15: a full collection walked ~40,000
objects of the views imported after the freeze, 50-80 ms of a heavy page)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

PROBE = """
import gc, json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings")
import civicgrid.config.wsgi  # as gunicorn's preload_app
from django.apps import apps
from django.db import connections
connections.close_all()  # the wsgi load checks the field key against the database; pre_fork must not connect
before = len(gc.get_objects())
import civicgrid.config.gunicorn as conf
conf.pre_fork(None, None)
views = [c.name + ".views" for c in apps.get_app_configs() if c.name.startswith("civicgrid.")]
print(json.dumps({
    "before": before, "frozen": gc.get_freeze_count(), "tracked": len(gc.get_objects()),
    "views": {v: v in sys.modules for v in views if __import__("importlib").util.find_spec(v)},
    "connected": [a for a in connections if connections[a].connection is not None],
    "threshold": gc.get_threshold(),
}))
"""


def test_pre_fork_loads_every_view_and_freezes_it_without_connecting():
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["views"] and all(found["views"].values()), found["views"]
    assert found["connected"] == []
    # what stays under the collector is a small fraction of what was loaded (the wsgi load alone is ~400k)
    assert found["frozen"] > found["before"]
    assert found["tracked"] < found["frozen"] / 20
    # and collections come less often than Python's default of every 700 allocations (full ones walked ~35 ms)
    from civicgrid.config.warm import YOUNG

    assert found["threshold"][0] == YOUNG > 700
