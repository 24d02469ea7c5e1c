"""Where the platform keeps its state: ``var/`` under the working directory unless CIVICGRID_VAR_DIR says."""

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(os.environ.get("CIVICGRID_VAR_DIR", Path.cwd() / "var")).resolve()
