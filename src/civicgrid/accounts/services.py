"""Role assignment (audited) and the demo logins."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.db import transaction
from django.utils.translation import gettext as _

from civicgrid.accounts.events import AccountEvent
from civicgrid.accounts.models import Role
from civicgrid.accounts.places import role_place_path
from civicgrid.core import audit
from civicgrid.core.errors import Forbidden, Invalid
from civicgrid.core.scoping import PLATFORM, Scope
from civicgrid.registry.models import Actor, Household, Person, Place, Post

DEMO_PASSWORD = "civicgrid-demo"


@transaction.atomic
def role_assign(*, user: Any, scope: Scope, username: str, password: str, role: str, place: Place | None = None,
                person: Person | None = None, actor: Actor | None = None, household: Household | None = None,
                identity_clearance: bool = False) -> Role:
    """Give ``username`` (created if new) a role. Only the platform (``scope=PLATFORM``: the command
    line, the demo) grants roles today; the audit row keeps the previous role and the new one."""
    if not scope.unrestricted:
        raise Forbidden(_("Only an administrator grants roles."))
    account, _created = get_user_model().objects.get_or_create(username=username)
    password_validation.validate_password(password, account)  # AUTH_PASSWORD_VALIDATORS: refuse weak ones
    account.set_password(password)
    account.save()
    previous = Role.objects.filter(user=account).first()
    old = audit.snapshot(previous) if previous is not None else None
    grant, _created = Role.objects.update_or_create(user=account, defaults={
        "role": role, "place": place, "person": person, "actor": actor, "household": household,
        "identity_clearance": identity_clearance})
    grant.full_clean()
    new = audit.snapshot(grant)
    if old is None:
        audit.record(user=user, event=AccountEvent.ROLE_GRANTED, instance=grant, new=new, place_path=role_place_path(grant))
    else:
        before, after = audit.changed(old, new)
        if after:
            audit.record(user=user, event=AccountEvent.ROLE_CHANGED, instance=grant, old=before, new=after,
                         place_path=role_place_path(grant))
    return grant


def password_change_record(*, user: Any) -> None:
    """Audit a user's own password change (the form has saved it in the same transaction)."""
    role = Role.objects.filter(user=user).first()
    audit.record(user=user, event=AccountEvent.PASSWORD_CHANGED, instance=user, new={"password": "changed"},
                 place_path=role_place_path(role) if role is not None else "")


def demo_users_create() -> list[tuple[str, str, str]]:
    """One login per role over the demo community; returns (username, password, what they see)."""
    district = Place.objects.get(level="district", parent__isnull=True)
    community = Place.objects.filter(level="community").order_by("code").first()
    if community is None:
        raise Invalid("the registry has no community: load one before creating demo logins")
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
        role_assign(user=None, scope=PLATFORM, username=username, password=DEMO_PASSWORD, **kwargs)
        logins.append((username, DEMO_PASSWORD, f"{kwargs['role']}: {sees}"))
    return logins
