"""Secrets, encryption keys and cookie safety.

In production set CIVICGRID_SECRET_KEY and CIVICGRID_FIELD_KEY (a Fernet key: 32 url-safe base64
bytes; ``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``).
Without them (development, the demo) keys are generated once into var/secrets.json (mode 0600), so a
demo database stays readable across restarts. Losing the field key loses the encrypted ID numbers and
phones: ``civicgrid backup`` saves the database with its keys. CIVICGRID_FIELD_KEY may hold several
comma-separated keys (the first encrypts; see civicgrid.core.crypto and ``civicgrid rotate-keys``).

A generated key is flagged (CIVICGRID_FIELD_KEY_GENERATED): if the database already holds encrypted
data, civicgrid.core.crypto.check_field_key then refuses to start, saying that secrets.json was lost,
instead of serving errors and writing rows under a key nobody keeps.
"""

import json
import os

from cryptography.fernet import Fernet
from django.core.management.utils import get_random_secret_key

from civicgrid.config.settings.paths import VAR_DIR, ensure_private_dir

SECRETS_FILE = VAR_DIR / "secrets.json"


def write_private(path: os.PathLike[str] | str, text: str) -> None:
    """Write ``text`` to a file only its owner may read (created 0600, never briefly world-readable)."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(path, 0o600)


def _local_secrets() -> tuple[dict[str, str], bool]:
    if SECRETS_FILE.exists():
        return dict(json.loads(SECRETS_FILE.read_text())), False
    ensure_private_dir(VAR_DIR)
    secrets = {"secret_key": get_random_secret_key(), "field_key": Fernet.generate_key().decode()}
    write_private(SECRETS_FILE, json.dumps(secrets))
    return secrets, True


_env_secret, _env_field = os.environ.get("CIVICGRID_SECRET_KEY"), os.environ.get("CIVICGRID_FIELD_KEY")
_local, _generated = ({}, False) if (_env_secret and _env_field) else _local_secrets()
SECRET_KEY = _env_secret or _local["secret_key"]
CIVICGRID_FIELD_KEY = _env_field or _local["field_key"]
CIVICGRID_FIELD_KEY_GENERATED = _generated and not _env_field

DEBUG = os.environ.get("CIVICGRID_DEBUG", "0") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("CIVICGRID_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
