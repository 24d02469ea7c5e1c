"""The social app's reads, always through the acting user's scope."""

from __future__ import annotations

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from civicgrid.core.scoping import Scope, get_in_scope, require, scoped
from civicgrid.emergency.models import Emergency
from civicgrid.registry.models import Actor, Place
from civicgrid.social.models import Admission, Complaint, Organisation
from civicgrid.social.services.admission import SERVING_SECTORS


def organisations(*, scope: Scope, query: str = "", verification: str = "", stage: str = "",
                  complaints: bool = False) -> QuerySet[Organisation]:
    """The register as the scope sees it, each with its count of open complaints (``complaints``: only those
    with one)."""
    require(scope, "social")
    found = scoped(Organisation.objects.select_related("actor", "actor__service_area", "hub"), scope)
    if query:
        found = found.filter(Q(actor__name__icontains=query) | Q(credit_code__icontains=query.upper()))
    if verification in Organisation.Verification.values:
        found = found.filter(verification=verification)
    if stage in Organisation.Stage.values:
        found = found.filter(stage=stage)
    open_ones = Complaint.objects.filter(status=Complaint.Status.OPEN)
    if complaints:
        found = found.filter(pk__in=open_ones.values("organisation_id"))
    return found.annotate(open_complaints=Coalesce(Subquery(
        open_ones.filter(organisation=OuterRef("pk")).order_by().values("organisation").annotate(n=Count("id"))
        .values("n")[:1]),
        0))


def organisation_get(*, scope: Scope, organisation_id: int) -> Organisation:
    require(scope, "social")
    return get_in_scope(Organisation.objects.select_related("actor", "actor__service_area", "hub"), scope,
                        pk=organisation_id)


def unregistered_actors(*, scope: Scope) -> QuerySet[Actor]:
    """Society-sector actors in the scope's area not yet in the register (what a coordinator may register)."""
    require(scope, "social_manage")
    return scoped(Actor.objects.filter(sector="society", organisation__isnull=True), scope).order_by("code")


def emergencies_in_force(*, scope: Scope) -> QuerySet[Emergency]:
    require(scope, "social")
    return scoped(Emergency.objects.filter(status=Emergency.Status.ACTIVE).select_related("community"),
                  scope).order_by("community__code", "hazard")


def emergency_get(*, scope: Scope, emergency_id: int) -> Emergency:
    require(scope, "social")
    return get_in_scope(Emergency.objects.select_related("community"), scope, pk=emergency_id)


def applicants(*, scope: Scope) -> QuerySet[Actor]:
    """Organisations the user may apply for: their own, or (coordinators) any serving one in their area."""
    require(scope, "social")
    if scope.may("social_manage"):
        return scoped(Actor.objects.filter(sector__in=SERVING_SECTORS), scope).order_by("sector", "code")
    return Actor.objects.filter(pk__in=scope.actor_ids, sector__in=SERVING_SECTORS).order_by("code")


def grids_of(emergency: Emergency) -> QuerySet[Place]:
    return Place.objects.filter(parent_id=emergency.community_id, level="grid").order_by("code")


def admissions(*, scope: Scope, emergency: Emergency | None = None, status: str = "") -> QuerySet[Admission]:
    require(scope, "social")
    found = scoped(Admission.objects.select_related("actor", "grid", "emergency", "emergency__community"), scope)
    if emergency is not None:
        found = found.filter(emergency=emergency)
    if status in Admission.Status.values:
        found = found.filter(status=status)
    return found.order_by("status", "actor__code", "grid__code", "service_kind")


def pending_admissions(*, scope: Scope) -> int:
    if not scope.may("social_manage"):
        return 0
    return admissions(scope=scope, status=Admission.Status.APPLIED).filter(
        emergency__status=Emergency.Status.ACTIVE).count()
