"""The work guard (``AppPlugin.work_guards``): while an emergency is in force in a community, work there is
claimed on behalf of an organisation only if that organisation is admitted for the grid and the kind of
service (seed 000: the "disorderly participation" of organisations pouring in after Wenchuan)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from civicgrid.core.places import ancestor_at
from civicgrid.core.scoping import Scope
from civicgrid.core.servicekinds import service_kind_label
from civicgrid.emergency.models import Emergency
from civicgrid.registry.models import Actor, Post
from civicgrid.social.models import Admission, Organisation
from civicgrid.social.services.admission import SERVING_SECTORS


def claiming_for(user: Any) -> list[int]:
    """The organisations (society or capital actors) ``user`` claims work on behalf of: a staff member's
    organisation, a volunteer's teams. Anyone else claims for nobody (the state's own staff, residents)."""
    from civicgrid.accounts.models import Role

    role = Role.objects.filter(user_id=getattr(user, "pk", None) or 0).values("role", "actor_id", "person_id").first()
    if role is None:
        return []
    if role["role"] == "org_staff" and role["actor_id"]:
        ids = [role["actor_id"]]
    elif role["role"] == "volunteer" and role["person_id"]:
        ids = list(Post.objects.filter(person_id=role["person_id"]).values_list("actor_id", flat=True))
    else:
        return []
    return list(Actor.objects.filter(pk__in=ids, sector__in=SERVING_SECTORS).values_list("pk", flat=True))


def admission_guard(*, user: Any, scope: Scope, place_path: str, service_kind: str) -> str | None:
    """Why ``user`` may not claim ``service_kind`` work at ``place_path`` now (not admitted), or None."""
    if scope.unrestricted:
        return None
    community = ancestor_at(place_path, "community")
    if not community:
        return None
    in_force = Emergency.objects.filter(status=Emergency.Status.ACTIVE, community__path=community)
    if not in_force.exists():
        return None
    actors = claiming_for(user)
    if not actors:
        return None
    admitted = Admission.objects.filter(emergency__in=in_force, actor_id__in=actors, service_kind=service_kind,
                                        status=Admission.Status.ADMITTED).exclude(
        actor__organisation__verification=Organisation.Verification.SUSPENDED)
    grid = ancestor_at(place_path, "grid")
    if grid:  # work for the whole community (no grid in its path): admitted for any of its grids will do
        admitted = admitted.filter(grid__path=grid)
    if admitted.exists():
        return None
    return _("During the emergency in force, only organisations admitted for %(kind)s in this grid may claim this "
             "work, and your organisation is not: ask the coordinator to admit it (Organisations › Admission).") % {
        "kind": service_kind_label(service_kind)}
