"""Where a role grant lies in the place hierarchy, so the directors and officials over it see its
audit rows (grants, log-ins, password changes)."""

from __future__ import annotations

from civicgrid.accounts.models import Role
from civicgrid.core.places import common_ancestor
from civicgrid.registry.models import Post


def role_place_path(grant: Role) -> str:
    if grant.place is not None:
        return grant.place.path
    if grant.household is not None:
        return grant.household.place_path
    if grant.actor is not None:
        return grant.actor.service_area.path
    if grant.person_id is None:
        return ""
    paths = Post.objects.filter(person_id=grant.person_id, place__isnull=False).values_list("place__path", flat=True)
    return common_ancestor(list(paths))
