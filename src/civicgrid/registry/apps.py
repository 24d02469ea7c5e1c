from typing import Any

from django.db import connections
from django.db.models.signals import post_migrate

from civicgrid.core import plugins


class RegistryConfig(plugins.CivicgridApp):
    name = "civicgrid.registry"
    label = "registry"
    verbose_name = "registry"

    def ready(self) -> None:
        super().ready()
        post_migrate.connect(_text_indexes_in_step, sender=self, dispatch_uid="civicgrid-registry-text")


def _text_indexes_in_step(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """After every migrate: a later migration that alters the household or resident table makes Django
    rebuild it on SQLite, which drops the search index's triggers; put them back (and refill). Only once
    migration 0003 (which installs the index) has run."""
    from django.db.migrations.recorder import MigrationRecorder

    from civicgrid.core.textsearch import ensure
    from civicgrid.registry.models import HOUSEHOLD_TEXT, RESIDENT_TEXT

    connection = connections[using]
    if connection.vendor != "sqlite" or ("registry", "0003_text_search") not in \
            MigrationRecorder(connection).applied_migrations():
        return  # not there yet (or migrated back before it): nothing to keep in step
    for index in (HOUSEHOLD_TEXT, RESIDENT_TEXT):
        ensure(connection, index)
