"""What a grievance is about: a generic subject (kind + reference + place path), checked against the
records of the apps that keep them (relief rounds, grid cases, registry actors and people) and taken as a
free reference otherwise (a decision, something else). A record outside the complainant's scope is "not
found", as everywhere."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from civicgrid.core.errors import Invalid
from civicgrid.core.scoping import Scope, scoped
from civicgrid.grievances.models import Grievance
from civicgrid.registry.models import Actor, Person

RECORDED = {"relief_round", "case", "organisation", "volunteer", "grid_member"}


@dataclass(frozen=True)
class Subject:
    kind: str
    ref: str
    label: str
    path: str  # where the subject lies ("" when it is a free reference)


def _number(ref: str) -> int | None:
    text = ref.strip().lstrip("#")
    return int(text) if text.isdigit() and len(text) <= 18 else None


def resolve(*, scope: Scope, kind: str, ref: str) -> Subject:
    """The subject named by ``kind`` and ``ref``; Invalid (on ``subject_ref``) when no record of that kind
    in the scope matches."""
    ref = ref.strip()
    if kind not in Grievance.Kind.values:
        raise Invalid({"kind": _("Choose what the complaint is about.")})
    if kind not in RECORDED:
        if not ref:
            raise Invalid({"subject_ref": _("Name the decision or matter you complain about.")})
        return Subject(kind, ref, ref, "")
    found = _find(scope, kind, ref)
    if found is None:
        raise Invalid({"subject_ref": _("No such record in your area: give its number or code as shown on its page.")})
    return found


def _find(scope: Scope, kind: str, ref: str) -> Subject | None:
    number = _number(ref)
    if kind == "relief_round":
        from civicgrid.relief.models import AllocationRound

        # its number and place only: a district round's snapshot and result are seconds to decode
        rnd = scoped(AllocationRound.objects.select_related("place"), scope).only(
            "pk", "place__name", "place__path").filter(pk=number or 0).first()
        return Subject(kind, str(rnd.pk), f"#{rnd.pk} {rnd.place.name}", rnd.place.path) if rnd else None
    if kind == "case":
        from civicgrid.cases.models import Case

        case = scoped(Case.objects.all(), scope).filter(Q(code=ref) | Q(pk=number or 0)).first()
        return Subject(kind, case.code, case.code, case.place_path) if case else None
    if kind == "organisation":
        actor = scoped(Actor.objects.select_related("service_area"), scope).filter(
            Q(code=ref) | Q(name=ref) | Q(pk=number or 0)).order_by("pk").first()
        return Subject(kind, actor.code, actor.name, actor.service_area.path) if actor else None
    role = "volunteer" if kind == "volunteer" else "grid_member"
    person = scoped(Person.objects.filter(posts__role=role), scope).filter(
        Q(code=ref) | Q(name=ref) | Q(pk=number or 0)).order_by("pk").first()
    if person is None:
        return None
    post = person.posts.filter(role=role).select_related("place", "actor__service_area").first()
    path = (post.place.path if post and post.place else post.actor.service_area.path if post else "")
    return Subject(kind, person.code, person.name, path)
