"""Build a user's :class:`~civicgrid.core.scoping.Scope` from their role."""

from __future__ import annotations

from typing import Any

from civicgrid.accounts.models import Role
from civicgrid.core.scoping import NOBODY, Scope, task_households
from civicgrid.registry.models import Place, Post


def scope_for(user: Any) -> Scope:
    if not getattr(user, "is_authenticated", False):
        return NOBODY
    cached = getattr(user, "_civicgrid_scope", None)
    if cached is not None:
        return cached
    scope = _build(user)
    user._civicgrid_scope = scope
    return scope


def scope_forget(user: Any) -> None:
    """Drop the request's cached scope after an act that changes it (a claim gives new households)."""
    if hasattr(user, "_civicgrid_scope"):
        del user._civicgrid_scope


def _build(user: Any) -> Scope:
    if user.is_superuser:
        return Scope(role="district_official", unrestricted=True, identity_clearance=True)
    role = _role_of(user)
    if role is None:
        return NOBODY
    clearance = role.identity_clearance
    if role.role in {"district_official", "community_director"}:
        paths = (role.place.path,) if role.place else ()
        return Scope(role=role.role, area_paths=paths, record_paths=paths, identity_clearance=clearance)
    if role.role == "grid_member":
        grids = Place.objects.filter(
            posts__person_id=role.person_id or 0, posts__role="grid_member", level="grid"
        ).values_list("path", flat=True)
        grid_paths = tuple(sorted(set(grids)))
        return Scope(role=role.role, area_paths=grid_paths, record_paths=grid_paths, identity_clearance=clearance)
    if role.role == "org_staff":
        area = (role.actor.service_area.path,) if role.actor else ()
        return Scope(role=role.role, area_paths=area, household_ids=task_households(user),
                     actor_ids=frozenset({role.actor_id}) if role.actor_id else frozenset(),
                     identity_clearance=False)
    if role.role == "volunteer":
        teams = frozenset(Post.objects.filter(person_id=role.person_id or 0).values_list("actor_id", flat=True))
        return Scope(role=role.role, household_ids=task_households(user), actor_ids=teams,
                     identity_clearance=False)
    if role.role == "resident" and role.household is not None:
        return Scope(role=role.role, household_ids=frozenset({role.household.pk}),
                     home_path=role.household.place_path, identity_clearance=True)
    return NOBODY


def _role_of(user: Any) -> Role | None:
    """The user's role: read with the user by the log-in backend (accounts.backends), or here, reading only the
    columns a scope is built from."""
    if user._state.fields_cache.get("role") is not None:
        return user.role  # type: ignore[no-any-return]
    return (Role.objects.select_related("place", "actor__service_area", "household")
            .only("role", "identity_clearance", "person_id", "place__path", "actor__service_area__path",
                  "household__place_path").filter(user=user).first())


def grid_member_users(grid_ids: Any) -> Any:
    """Accounts of the grid members serving these grids (their posts are the record)."""
    from django.contrib.auth import get_user_model

    people = Post.objects.filter(role="grid_member", place_id__in=list(grid_ids)).values("person_id")
    return get_user_model().objects.filter(role__role="grid_member", role__person_id__in=people)


def director_users(place_path: str) -> Any:
    """Accounts of the community directors whose community holds ``place_path``."""
    from django.contrib.auth import get_user_model

    from civicgrid.core.places import ancestor_at

    community = ancestor_at(place_path, "community")
    return get_user_model().objects.filter(role__role="community_director", role__place__path=community) \
        if community else get_user_model().objects.none()
