"""Reads for mediation, through the caller's scope. The parties and every confidential text are read only
through :func:`may_see_parties`: the case's mediator and its community's director."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from civicgrid.accounts.models import Role
from civicgrid.core.places import ancestor_at
from civicgrid.core.scoping import Scope, require, scoped
from civicgrid.mediation.models import MediationCase, Party, Session
from civicgrid.registry.models import Place, Post


def case_list(*, scope: Scope, state: str = "") -> QuerySet[MediationCase]:
    require(scope, "mediation")
    rows = scoped(MediationCase.objects.select_related("grid", "mediator"), scope)
    if state in MediationCase.State.values:
        rows = rows.filter(state=state)
    return rows.order_by("-opened_at", "-id")


def case_get(*, scope: Scope, case_id: int) -> MediationCase:
    require(scope, "mediation")
    return scoped(MediationCase.objects.select_related("grid", "place", "mediator"), scope).get(pk=case_id)


def is_director_of(user: Any, place_path: str) -> bool:
    community = ancestor_at(place_path, "community")
    return bool(community) and Role.objects.filter(user_id=getattr(user, "pk", None) or 0, role="community_director",
                                                   place__path=community).exists()


def may_see_parties(user: Any, case: MediationCase) -> bool:
    """Only the case's mediator and the director of its community (no other role, the district included)."""
    uid = getattr(user, "pk", None)
    return uid is not None and (case.mediator_id == uid or is_director_of(user, case.place_path))


def parties(*, user: Any, case: MediationCase) -> list[Party]:
    return list(case.parties.all()) if may_see_parties(user, case) else []


def sessions(*, user: Any, case: MediationCase) -> list[Session]:
    return list(case.sessions.all()) if may_see_parties(user, case) else []


def mediator_candidates(*, community_path: str) -> QuerySet[Any]:
    """Who may mediate in a community (or, given a wider path, in any community under it): the directors
    and the grid members serving its grids."""
    if not community_path:
        return get_user_model().objects.none()
    grids = Place.objects.filter(level="grid", path__startswith=community_path).values("pk")
    people = Post.objects.filter(role="grid_member", place_id__in=grids).values("person_id")
    return get_user_model().objects.filter(
        Q(role__role="community_director", role__place__path__startswith=community_path)
        | Q(role__role="grid_member", role__person_id__in=people)).order_by("username")


def open_places(*, scope: Scope) -> QuerySet[Place]:
    return scoped(Place.objects.filter(level__in=["grid", "building"]), scope)


def followups_due(*, user: Any, scope: Scope) -> QuerySet[MediationCase]:
    """Cases whose follow-up visit is due (the periodic job marks them) for their mediator or director."""
    rows = case_list(scope=scope).filter(follow_up_state=MediationCase.FollowUp.DUE)
    if scope.role == "community_director":
        return rows
    return rows.filter(mediator_id=getattr(user, "pk", None) or 0)
