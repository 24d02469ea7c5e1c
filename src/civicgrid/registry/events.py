"""The registry's audit events (see civicgrid.core.audit)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegistryEvent(models.TextChoices):
    HOUSEHOLD_CREATED = "registry.household_created", _("household added")
    HOUSEHOLD_UPDATED = "registry.household_updated", _("household changed")
    RESIDENT_CREATED = "registry.resident_created", _("resident added")
    RESIDENT_UPDATED = "registry.resident_updated", _("resident changed")
    RESIDENT_DELETED = "registry.resident_deleted", _("resident removed")
    REGISTRY_IMPORTED = "registry.imported", _("registry imported")
    REGISTRY_EXPORTED = "registry.exported", _("registry exported")
