"""Helpers of the council tests: the bodies of the director's community C01 and a meeting there."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.core.scoping import PLATFORM
from civicgrid.council import services
from civicgrid.council.models import Body, Meeting
from civicgrid.registry.models import Actor, Place
from tests.platform.factories import user


def c01() -> Place:
    return Place.objects.get(level="community", code__endswith="C01")


def body(suffix: str = "A02", kind: str = Body.Kind.RESIDENTS_COMMITTEE, community: Place | None = None) -> Body:
    """The body of the community's actor ``<community>-<suffix>`` (A02 residents' committee, A01 party
    committee, A06 enterprise group in the generated registry)."""
    actor = Actor.objects.get(code=f"{(community or c01()).code}-{suffix}")
    existing = Body.objects.filter(actor=actor).first()
    return existing or services.body_register(user=None, scope=PLATFORM, actor=actor, kind=kind)


def meeting(*, quorum: int = 1, b: Body | None = None, invite_resident: bool = True, **kwargs: Any) -> Meeting:
    """A meeting of C01 called by the director, inviting the resident's grid."""
    director = user("director")
    scope = scope_for(director)
    m = services.meeting_create(user=director, scope=scope, community=c01(), body=b or body(), title="楼道议事",
                                starts_at=timezone.now() + timedelta(hours=1), quorum=quorum,
                                agenda=["加装电梯", "堆物清理"], **kwargs)
    if invite_resident:
        services.meeting_invite(user=director, scope=scope, meeting=m, place=user("resident").role.household.grid)
    return m


def as_user(name: str) -> tuple[Any, Any]:
    u = user(name)
    return u, scope_for(u)
