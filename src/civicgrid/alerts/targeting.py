"""Who an alert reaches: households in the area (all, or the vulnerable ones) or responders serving it
(volunteers, grid members), and the user accounts behind them. One definition, used to queue
deliveries, to count the reach, to accept acknowledgements and to fill each user's notices page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from civicgrid.accounts.models import Role
from civicgrid.alerts.models import Alert
from civicgrid.core.places import ancestors
from civicgrid.registry.models import Household, Person, Place, Post

HOUSEHOLD_GROUPS = frozenset({Alert.Group.ALL, Alert.Group.VULNERABLE})
PERSON_POST_ROLES = {Alert.Group.VOLUNTEERS: "volunteer", Alert.Group.GRID_MEMBERS: "grid_member"}


def _serves(lookup: str, area_path: str) -> Q:
    """A responder's place lies inside the area, or is a place the area lies inside (a community's
    volunteer team serves each of its grids)."""
    return Q(**{f"{lookup}__startswith": area_path}) | Q(**{f"{lookup}__in": ancestors(area_path)})


def target_households(*, area: Place, group: str) -> QuerySet[Household]:
    if group not in HOUSEHOLD_GROUPS:
        return Household.objects.none()
    households = Household.objects.filter(place_path__startswith=area.path)
    if group == Alert.Group.VULNERABLE:
        households = households.vulnerable()
    return households


def target_people(*, area: Place, group: str) -> QuerySet[Person]:
    post_role = PERSON_POST_ROLES.get(group)  # type: ignore[call-overload]
    if post_role is None:
        return Person.objects.none()
    lookup = "actor__service_area__path" if post_role == "volunteer" else "place__path"
    posts = Post.objects.filter(_serves(lookup, area.path), role=post_role)
    return Person.objects.filter(pk__in=posts.values("person_id"))


def target_users(*, area: Place, group: str) -> QuerySet[Any]:
    """Accounts of the targeted residents (through their household) and responders (their person)."""
    if group in HOUSEHOLD_GROUPS:
        roles = Role.objects.filter(role="resident", household__in=target_households(area=area, group=group))
    else:
        roles = Role.objects.filter(person__in=target_people(area=area, group=group))
    return get_user_model().objects.filter(pk__in=roles.values("user_id"))


def household_targeted(alert: Alert, household: Household) -> bool:
    if alert.group not in HOUSEHOLD_GROUPS or not household.place_path.startswith(alert.area_path):
        return False
    return alert.group == Alert.Group.ALL or household.is_vulnerable


def person_targeted(alert: Alert, person: Person) -> bool:
    return target_people(area=alert.area, group=alert.group).filter(pk=person.pk).exists()


def alerts_reaching(user: Any) -> QuerySet[Alert]:
    """Every alert sent to this user: to their household (as a resident, or as a volunteer who lives
    here) or to them as a volunteer or grid member."""
    role = Role.objects.select_related("household", "person__resident__household").filter(
        user_id=getattr(user, "pk", None) or 0).first()
    if role is None:
        return Alert.objects.none()
    q = Q(pk__in=[])
    households = [h for h in (role.household, getattr(getattr(role.person, "resident", None), "household", None))
                  if h is not None]
    for household in households:
        above = Q(area_path__in=ancestors(household.place_path))
        q |= above & Q(group=Alert.Group.ALL)
        if household.is_vulnerable:
            q |= above & Q(group=Alert.Group.VULNERABLE)
    if role.person_id:
        for post in Post.objects.filter(person_id=role.person_id, role__in=PERSON_POST_ROLES.values()) \
                .select_related("actor__service_area", "place"):
            if post.role == "volunteer":
                q |= Q(group=Alert.Group.VOLUNTEERS) & _serves_area(post.actor.service_area.path)
            elif post.place is not None:
                q |= Q(group=Alert.Group.GRID_MEMBERS) & _serves_area(post.place.path)
    return Alert.objects.filter(q)


def _serves_area(responder_path: str) -> Q:
    """Alerts whose area contains the responder's place or lies inside it."""
    return Q(area_path__in=ancestors(responder_path)) | Q(area_path__startswith=responder_path)
