from __future__ import annotations

import os
from typing import Any

from django.apps import AppConfig
from django.core import checks


@checks.register()
def plugins_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every app's plugin declaration holds together once the URLs load (civicgrid.core.plugins)."""
    from civicgrid.core.plugins import check_plugins

    return [checks.Error(problem, id="civicgrid.E002") for problem in check_plugins()]


class CoreConfig(AppConfig):
    name = "civicgrid.core"
    label = "core"
    verbose_name = "civicgrid core"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from civicgrid.core.crypto import digest_index_check

        checks.register(field_key_check, checks.Tags.security)
        checks.register(digest_index_check, checks.Tags.models)
        connection_created.connect(_private_sqlite_files, dispatch_uid="civicgrid-private-sqlite")


def field_key_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """System check (runserver, migrate, ``manage check``): the field key can read the stored data."""
    from civicgrid.core.crypto import FieldKeyError, check_field_key

    try:
        check_field_key()
    except FieldKeyError as exc:
        return [checks.Critical(str(exc), id="civicgrid.E001")]
    return []


def _private_sqlite_files(sender: Any, connection: Any, **kwargs: Any) -> None:
    """The embedded database and its WAL files hold everything: owner-only (0600)."""
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    for path in (name, name + "-wal", name + "-shm"):
        try:
            if os.path.exists(path) and os.stat(path).st_mode & 0o077:
                os.chmod(path, 0o600)
        except OSError:
            pass
