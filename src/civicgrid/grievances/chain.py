"""Who is in a grievance's handling chain, who handles it at a level, and where it may be seen: the facts
the services and selectors share (reads only)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from civicgrid.accounts.models import Role
from civicgrid.accounts.roles import director_users, grid_member_users
from civicgrid.core.places import ancestor_at
from civicgrid.grievances.models import LEVELS, Grievance

HANDLING_ACTIONS = frozenset({"respond", "pause", "resume", "close"})
SENSITIVE_MARK = "~/"  # a path segment no place code has: a grid's path never begins a sensitive one's


def visible_path(place_path: str, *, sensitive: bool) -> str:
    """Where a grievance may be seen. A sensitive one (a complaint against a grid member, say) is handled
    by the community and hidden from the grids: its path is the community's plus a segment no grid's path
    begins with, so a grid member's scope never holds it while the director's and the district's do.

    >>> visible_path("D/S/C/G1/B1/", sensitive=True)
    'D/S/C/~/'
    """
    if not sensitive:
        return place_path
    return ancestor_at(place_path, "community") + SENSITIVE_MARK


def start_level(*, sensitive: bool) -> str:
    return "community" if sensitive else "grid"


def level_of_user(user: Any) -> str | None:
    """The handling level a user's role works at (None: the role handles no grievances)."""
    if getattr(user, "is_superuser", False):
        return "district"
    role = Role.objects.select_related("place").filter(user_id=getattr(user, "pk", None) or 0).first()
    if role is None:
        return None
    if role.role == "grid_member":
        return "grid"
    if role.role == "community_director":
        return "community"
    if role.role == "district_official" and role.place is not None:
        return role.place.level if role.place.level in LEVELS else "district"
    return None


def level_users(grievance: Grievance, level: str) -> QuerySet[Any]:
    """The accounts that handle grievances of this place at ``level``."""
    users = get_user_model().objects
    if level == "grid":
        return grid_member_users([grievance.grid_id])  # type: ignore[no-any-return]
    if level == "community":
        return director_users(grievance.place_path)  # type: ignore[no-any-return]
    path = ancestor_at(grievance.place_path, level)
    return users.filter(role__role="district_official", role__place__path=path) if path else users.none()


def levels_reached(grievance: Grievance) -> set[str]:
    reached = set(grievance.steps.values_list("level", flat=True)) | {grievance.level}
    return {level for level in reached if level in LEVELS}


def handling_chain(grievance: Grievance) -> set[int]:
    """User ids of everyone who handled the grievance, and of the handlers of every level it reached: an
    appeal goes to a reviewer outside this set."""
    acted = set(grievance.steps.filter(action__in=HANDLING_ACTIONS, user__isnull=False)
                .values_list("user_id", flat=True))
    for level in levels_reached(grievance):
        acted |= set(level_users(grievance, level).values_list("pk", flat=True))
    return acted


def chains_holding(user: Any, grievances: list[Grievance]) -> set[int]:
    """Ids of the grievances among ``grievances`` in whose :func:`handling_chain` the user is, in three queries
    whatever their number (the home page asked each appeal's chain apart: ~58 queries, issue 15).

    The same facts from the user's side: their handling steps, and the levels they handle (their roles, read
    once) against each level the grievance reached, as :func:`level_users` finds a level's handlers."""
    from civicgrid.grievances.models import Step
    from civicgrid.registry.models import Post

    user_id = getattr(user, "pk", None)
    if user_id is None or not grievances:
        return set()
    by_id = {g.pk: g for g in grievances}
    reached: dict[int, set[str]] = {g.pk: {g.level} for g in grievances}
    held: set[int] = set()
    for grievance_id, level, action, step_user in Step.objects.filter(grievance_id__in=list(by_id)).values_list(
            "grievance_id", "level", "action", "user_id"):
        reached[grievance_id].add(level)
        if action in HANDLING_ACTIONS and step_user == user_id:
            held.add(grievance_id)
    roles = list(Role.objects.filter(user_id=user_id).values_list("role", "person_id", "place__path"))
    members = [person for role, person, _path in roles if role == "grid_member" and person is not None]
    grids = set(Post.objects.filter(role="grid_member", person_id__in=members).values_list("place_id", flat=True)) \
        if members else set()
    directing = {path for role, _person, path in roles if role == "community_director" and path}
    official = {path for role, _person, path in roles if role == "district_official" and path}
    for grievance_id, levels in reached.items():
        g = by_id[grievance_id]
        for level in levels & set(LEVELS):
            if level == "grid":
                mine = g.grid_id in grids
            elif level == "community":
                mine = ancestor_at(g.place_path, "community") in directing
            else:
                mine = ancestor_at(g.place_path, level) in official
            if mine:
                held.add(grievance_id)
    return held


def is_complainant(user: Any, grievance: Grievance) -> bool:
    """The user filed it, or is a resident of the household it was filed for."""
    if grievance.filed_by_id is not None and grievance.filed_by_id == getattr(user, "pk", None):
        return True
    return Role.objects.filter(user_id=getattr(user, "pk", None) or 0, role="resident",
                               household_id=grievance.household_id).exists()
