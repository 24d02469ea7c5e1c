"""A file held between a preview and its application: what is applied is exactly what was previewed.

Apart from the import (:mod:`civicgrid.core.importing`) because it reads no table: it keeps an upload's bytes
on disk (private, under ``var/imports``) for the one user who uploaded it, for :data:`STAGE_HOURS`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO, Any

STAGE_HOURS = 2
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def _stage_dir() -> Path:
    from civicgrid.config.settings.paths import VAR_DIR, ensure_private_dir

    folder = Path(VAR_DIR) / "imports"
    ensure_private_dir(folder)
    return folder


def stage(upload: IO[bytes], *, filename: str, owner: Any) -> str:
    """Keep an uploaded file (private, 0600, under ``var/imports``) until it is applied, so that what is
    applied is exactly what was previewed. Returns a token only ``owner`` can use; files older than
    :data:`STAGE_HOURS` are removed on the way."""
    import secrets
    import time

    folder = _stage_dir()
    for old in folder.iterdir():
        if old.stat().st_mtime < time.time() - STAGE_HOURS * 3600:
            old.unlink(missing_ok=True)
    token = secrets.token_hex(16)
    suffix = Path(filename).suffix.lower()
    path = folder / f"{owner}-{token}{suffix}"
    with open(path, "xb") as out:
        path.chmod(0o600)
        if hasattr(upload, "chunks"):
            for chunk in upload.chunks():
                out.write(chunk)
        else:
            upload.seek(0)
            while chunk := upload.read(1024 * 1024):
                out.write(chunk)
    return token


def staged(token: str, *, owner: Any) -> Path | None:
    """The file staged under ``token`` by ``owner``, or None (unknown, expired, or someone else's)."""
    if not _TOKEN.match(token or ""):
        return None
    found = sorted(_stage_dir().glob(f"{owner}-{token}.*"))
    return found[0] if found else None


def unstage(token: str, *, owner: Any) -> None:
    path = staged(token, owner=owner)
    if path is not None:
        path.unlink(missing_ok=True)
