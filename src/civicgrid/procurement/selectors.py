"""Reads of the procurement app, always through the user's scope (civicgrid.core.scoping)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.errors import NotFound
from civicgrid.core.places import ancestors, under
from civicgrid.core.plugins import deliverable
from civicgrid.core.scoping import Scope, get_in_scope, require, scoped
from civicgrid.procurement.models import (
    Application,
    Appropriation,
    Call,
    Contract,
    Milestone,
    Payment,
    Reviewer,
    Score,
)
from civicgrid.registry.models import Actor, Post

MANAGER_ROLES = ("district_official", "community_director")


def appropriations(*, scope: Scope) -> QuerySet[Appropriation]:
    require(scope, "procurement_manage")
    return scoped(Appropriation.objects.select_related("place", "funder"), scope)


def calls(*, scope: Scope, status: str = "") -> QuerySet[Call]:
    require(scope, "procurement")
    found = scoped(Call.objects.select_related("place", "appropriation__funder"), scope)
    return found.filter(status=status) if status else found


def call_get(*, scope: Scope, call_id: int) -> Call:
    require(scope, "procurement")
    return get_in_scope(Call.objects.select_related("place", "appropriation__funder", "appropriation__place"),
                        scope, pk=call_id)


def is_reviewer(*, user: Any, call: Call) -> bool:
    return bool(getattr(user, "pk", None)) and Reviewer.objects.filter(call=call, user_id=user.pk).exists()


def applications(*, scope: Scope, user: Any, call: Call) -> QuerySet[Application]:
    """A call's applications as this user may see them: all of them for its named reviewers and for those who
    manage the call's area, an organisation's staff only their own."""
    found = Application.objects.filter(call=call).select_related("organisation__actor").annotate(
        mean=Avg("scores__total"), n_scores=Count("scores"))
    if is_reviewer(user=user, call=call):
        return found
    return scoped(found, scope)


def application_get(*, scope: Scope, user: Any, application_id: int) -> Application:
    require(scope, "procurement")
    found = Application.objects.select_related("call__place", "organisation__actor").filter(pk=application_id)
    application = found.first()
    if application is None:
        raise NotFound()
    if is_reviewer(user=user, call=application.call):
        return application
    return get_in_scope(found, scope, pk=application_id)


def scores(*, application: Application) -> QuerySet[Score]:
    return application.scores.select_related("reviewer").order_by("scored_at", "id")


def ranking(*, call: Call) -> list[tuple[int, float]]:
    """(application id, mean total) of the scored applications, best first (ties by earlier submission)."""
    rows = (Application.objects.filter(call=call).annotate(mean=Avg("scores__total"))
            .filter(mean__isnull=False).order_by("-mean", "submitted_at", "id").values_list("id", "mean"))
    return [(pk, float(mean)) for pk, mean in rows]


def funders_of(actor_id: int) -> set[int]:
    """Actors that fund ``actor_id``, from the social app's funding evidence of the organisation (the one
    record of who funds whom): the conflict-of-interest check refuses reviewers with a post in any of them."""
    from civicgrid.social.models import Funding

    return set(Funding.objects.filter(organisation__actor_id=actor_id, source__isnull=False)
               .values_list("source_id", flat=True))


def conflict_of(*, user: Any, actor_id: int) -> str | None:
    """Why ``user`` may not judge work of the organisation ``actor_id`` (a post in it, or in one of its
    funders: the fusion the governance page measures), or None. A user without a registry person cannot be
    checked, so cannot judge either."""
    role = getattr(user, "role", None)
    person_id = getattr(role, "person_id", None)
    if person_id is None:
        return _("this account is not linked to a registry person, so a conflict of interest cannot be checked")
    post = Post.objects.filter(person_id=person_id, actor_id=actor_id).select_related("actor").first()
    if post is not None:
        return _("holds the post “%(role)s” in the applicant %(actor)s") % {"role": post.role_label, "actor": post.actor.name}
    funders = funders_of(actor_id)
    post = Post.objects.filter(person_id=person_id, actor_id__in=funders).select_related("actor").first()
    if post is not None:
        return _("holds the post “%(role)s” in %(actor)s, which funds the applicant") % {
            "role": post.role, "actor": post.actor.name}
    return None


def reviewer_candidates(*, scope: Scope, call: Call) -> QuerySet[Any]:
    """Accounts linked to a registry person with a post in an actor serving the call's area or in a grid of it."""
    paths = ancestors(call.place.path)
    return (get_user_model().objects.filter(role__person__isnull=False, is_active=True,
                                            role__role__in=("grid_member", "org_staff"))
            .filter(Q(role__person__posts__actor__service_area__path__in=paths)
                    | under("role__person__posts__place__path", (call.place.path,))
                    | under("role__person__posts__actor__service_area__path", (call.place.path,)))
            .exclude(pk__in=Reviewer.objects.filter(call=call).values("user_id"))
            .distinct().order_by("username")[:200])


def arbiter_candidates(*, call: Call) -> QuerySet[Any]:
    """Officials and directors whose area holds the call's area."""
    return (get_user_model().objects.filter(is_active=True, role__role__in=MANAGER_ROLES,
                                            role__place__path__in=ancestors(call.place.path))
            .order_by("username"))


def contracts(*, scope: Scope) -> QuerySet[Contract]:
    require(scope, "procurement")
    return scoped(Contract.objects.select_related("call__place", "organisation__actor", "arbiter"), scope)


def contract_get(*, scope: Scope, contract_id: int) -> Contract:
    require(scope, "procurement")
    return get_in_scope(Contract.objects.select_related("call__place", "call__appropriation__funder",
                                                        "organisation__actor", "arbiter", "application"),
                        scope, pk=contract_id)


def milestone_get(*, scope: Scope, milestone_id: int) -> Milestone:
    require(scope, "procurement")
    return get_in_scope(Milestone.objects.select_related("contract__call__place", "contract__organisation__actor"),
                        scope, pk=milestone_id)


def payments(*, scope: Scope) -> QuerySet[Payment]:
    require(scope, "procurement")
    return scoped(Payment.objects.select_related("milestone__contract__organisation__actor", "appropriation"), scope)


@dataclass(frozen=True)
class Progress:
    kind_label: str
    count: int | None  # None: no app provides this deliverable any more
    reached: bool


def deliverable_count(*, milestone: Milestone, now: datetime | None = None) -> int | None:
    """Records of the milestone's deliverable done by the organisation in the call's area between the
    signature and the milestone's deadline (the end of that day) or now, whichever is earlier."""
    counter = deliverable(milestone.deliverable)
    if counter is None:
        return None
    contract = milestone.contract
    end_of_due = timezone.make_aware(datetime.combine(milestone.due_on, time.max))
    end = min(now or timezone.now(), end_of_due)
    return int(counter.count(place_path=contract.call.place.path, start=contract.signed_at, end=end,
                             actor_id=contract.organisation.actor_id))


def progress(*, milestone: Milestone) -> Progress:
    counter = deliverable(milestone.deliverable)
    count = deliverable_count(milestone=milestone)
    return Progress(kind_label=str(counter.label) if counter else milestone.deliverable, count=count,
                    reached=count is not None and count >= milestone.target)


def organisations_of(scope: Scope) -> QuerySet[Actor]:
    """The organisations an org's staff act for (their own)."""
    return Actor.objects.filter(pk__in=scope.actor_ids, organisation__isnull=False)
