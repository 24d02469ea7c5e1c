"""Where the platform keeps its state: ``var/`` under the working directory unless CIVICGRID_VAR_DIR says."""

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(os.environ.get("CIVICGRID_VAR_DIR", Path.cwd() / "var")).resolve()


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by its owner only (0700): the database, keys, outboxes and
    uploads live here. An existing folder is tightened too."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(0o700)
    except OSError:  # a folder we do not own (a mounted volume): leave it to its owner
        pass
    return path
