"""The log-in backend: Django's own (passwords, permissions), with the user's role read in the same query.

Every request of a logged-in user builds its :class:`~civicgrid.core.scoping.Scope` from the role
(:func:`civicgrid.accounts.roles.scope_for`). Read with the user, the role costs no query of its own; only
the columns a scope is built from are read (a household's encrypted contact phone is never decrypted for it).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

# the role's columns a scope needs (accounts.roles._build), read beside the user's own
ROLE_COLUMNS = ("role__role", "role__identity_clearance", "role__person_id", "role__place__path",
                "role__actor__service_area__path", "role__household__place_path")


class RoleModelBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        User = get_user_model()
        own = [f.name for f in User._meta.concrete_fields]
        user = (User._default_manager.select_related("role__place", "role__actor__service_area", "role__household")
                .only(*own, *ROLE_COLUMNS).filter(pk=user_id).first())
        return user if user is not None and self.user_can_authenticate(user) else None
