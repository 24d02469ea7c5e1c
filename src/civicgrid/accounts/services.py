"""Role assignment (audited) and the demo logins."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.db import transaction

from civicgrid.accounts.models import Role
from civicgrid.core import audit
from civicgrid.core.models import AuditLog
from civicgrid.registry.models import Actor, Household, Person, Place, Post

DEMO_PASSWORD = "civicgrid-demo"


@transaction.atomic
def role_assign(*, by: Any, username: str, password: str, role: str, place: Place | None = None,
                person: Person | None = None, actor: Actor | None = None, household: Household | None = None,
                identity_clearance: bool = False) -> Role:
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=username)
    password_validation.validate_password(password, user)  # AUTH_PASSWORD_VALIDATORS: refuse weak ones
    user.set_password(password)
    user.save()
    grant, _ = Role.objects.update_or_create(user=user, defaults={
        "role": role, "place": place, "person": person, "actor": actor, "household": household,
        "identity_clearance": identity_clearance})
    grant.full_clean()
    audit.record(user=by, action=AuditLog.Action.UPDATE, instance=grant, new=audit.snapshot(grant))
    return grant


def demo_users_create() -> list[tuple[str, str, str]]:
    """One login per role over the demo community; returns (username, password, what they see)."""
    district = Place.objects.get(level="district", parent__isnull=True)
    community = Place.objects.filter(level="community").order_by("code").first()
    if community is None:
        raise ValueError("the registry has no community: load one before creating demo logins")
    grid_post = Post.objects.filter(role="grid_member", place__parent=community).select_related(
        "person", "place").order_by("place__code").first()
    staff_post = Post.objects.filter(actor__kind="social_organisation").select_related(
        "person", "actor").order_by("actor__code").first()
    volunteer_post = Post.objects.filter(role="volunteer").select_related("person", "actor").order_by("id").first()
    household = Household.objects.filter(grid=grid_post.place if grid_post else None) \
        .order_by("-vulnerability_score", "code").first()
    specs: list[tuple[str, dict[str, Any], str]] = [
        ("district", {"role": "district_official", "place": district}, f"the whole district {district.name}"),
        ("director", {"role": "community_director", "place": community, "identity_clearance": True},
         f"community {community.name}"),
    ]
    if grid_post and grid_post.place:
        specs.append(("grid", {"role": "grid_member", "person": grid_post.person, "identity_clearance": True},
                      f"grid {grid_post.place.name} of {community.name}"))
    if staff_post:
        specs.append(("orgstaff", {"role": "org_staff", "person": staff_post.person, "actor": staff_post.actor},
                      f"organisation {staff_post.actor.name}"))
    if volunteer_post:
        specs.append(("volunteer", {"role": "volunteer", "person": volunteer_post.person},
                      f"own tasks, team {volunteer_post.actor.name}"))
    if household:
        specs.append(("resident", {"role": "resident", "household": household, "identity_clearance": True},
                      f"own household {household.address}"))
    logins = []
    for username, kwargs, sees in specs:
        role_assign(by=None, username=username, password=DEMO_PASSWORD, **kwargs)
        logins.append((username, DEMO_PASSWORD, f"{kwargs['role']}: {sees}"))
    return logins
