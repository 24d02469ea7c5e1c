"""Secrets, encryption keys and cookie safety.

In production set CIVICGRID_SECRET_KEY and CIVICGRID_FIELD_KEY (a Fernet key: 32 url-safe base64
bytes; ``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``).
Without them (development, the demo) keys are generated once into var/secrets.json, so a demo
database stays readable across restarts. Losing the field key loses the encrypted ID numbers and phones.
"""

import json
import os

from cryptography.fernet import Fernet
from django.core.management.utils import get_random_secret_key

from civicgrid.config.settings.paths import VAR_DIR


def _local_secrets() -> dict[str, str]:
    path = VAR_DIR / "secrets.json"
    if path.exists():
        return dict(json.loads(path.read_text()))
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    secrets = {"secret_key": get_random_secret_key(), "field_key": Fernet.generate_key().decode()}
    path.write_text(json.dumps(secrets))
    path.chmod(0o600)
    return secrets


_env_secret, _env_field = os.environ.get("CIVICGRID_SECRET_KEY"), os.environ.get("CIVICGRID_FIELD_KEY")
_local = {} if (_env_secret and _env_field) else _local_secrets()
SECRET_KEY = _env_secret or _local["secret_key"]
CIVICGRID_FIELD_KEY = _env_field or _local["field_key"]

DEBUG = os.environ.get("CIVICGRID_DEBUG", "0") == "1"
ALLOWED_HOSTS = [h for h in os.environ.get("CIVICGRID_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
