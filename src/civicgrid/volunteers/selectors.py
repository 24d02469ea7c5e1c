"""Reads of the volunteers app, always through the caller's scope (a volunteer's own records are theirs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.errors import NotFound
from civicgrid.core.places import ancestor_at
from civicgrid.core.scoping import Scope, get_in_scope, require, scoped
from civicgrid.registry.models import Place, Resident, vulnerable_filter
from civicgrid.volunteers.models import (
    KIND_SKILLS,
    SKILLS,
    CareVisit,
    HelperAssignment,
    HoursEntry,
    TimeAccount,
    TimeTransfer,
    Volunteer,
)
from civicgrid.volunteers.services import (
    claimable_filter,
    person_of,
    qualification_refusal,
    volunteer_of,
)

# An entry counts when it names a confirmed act, or when a second person approved it.
COUNTED = ~Q(source=HoursEntry.Source.MANUAL) | Q(approval__approved=True)
PENDING = Q(source=HoursEntry.Source.MANUAL, approval__isnull=True)
AREA_ROLES = {"district_official", "community_director", "grid_member"}


def volunteer_list(*, scope: Scope) -> QuerySet[Volunteer]:
    """The area's volunteers by code, each with their counted hours (``total``, None without any).

    The total is a correlated subquery, not a join with GROUP BY: grouped, every entry of every volunteer
    in the district (780k at 1M households) was summed before the page's 50 rows were cut; a subquery in
    the select list is evaluated after the LIMIT, for the rows shown only (issue 15)."""
    require(scope, "volunteers")
    totals = HoursEntry.objects.filter(COUNTED, volunteer=OuterRef("pk")).order_by().values("volunteer").annotate(
        t=Sum("hours")).values("t")
    return scoped(Volunteer.objects.select_related("person", "home"), scope).annotate(
        total=Subquery(totals)).order_by("person__code")


def volunteer_get(*, scope: Scope, user: Any, volunteer_id: int) -> Volunteer:
    """A volunteer in the scope's area, or the user themself."""
    require(scope, "volunteers")
    own = volunteer_of(user)
    if own is not None and own.pk == volunteer_id:
        return own
    return get_in_scope(Volunteer.objects.select_related("person", "home"), scope, pk=volunteer_id)


def hours_total(volunteer: Volunteer) -> Decimal:
    return volunteer.hours.filter(COUNTED).aggregate(t=Sum("hours"))["t"] or Decimal("0")


def hours_by_source(volunteer: Volunteer) -> list[tuple[str, Decimal, int]]:
    rows = volunteer.hours.filter(COUNTED).values("source").annotate(t=Sum("hours"), n=Count("id")).order_by("source")
    labels = dict(HoursEntry.Source.choices)
    return [(str(labels[r["source"]]), r["t"], r["n"]) for r in rows]


def hours_list(*, scope: Scope, volunteer: Volunteer | None = None) -> QuerySet[HoursEntry]:
    """The ledger: one volunteer's lines (their own, or in the scope's area), or the area's."""
    require(scope, "volunteers")
    entries = HoursEntry.objects.select_related("volunteer__person", "approval", "entered_by")
    if volunteer is not None:
        return entries.filter(volunteer=volunteer)
    return scoped(entries, scope)


def hours_pending(*, scope: Scope) -> QuerySet[HoursEntry]:
    require(scope, "volunteers_manage")
    return scoped(HoursEntry.objects.select_related("volunteer__person", "entered_by"), scope).filter(PENDING)


def entry_state(entry: HoursEntry) -> str:
    if entry.source != HoursEntry.Source.MANUAL:
        return _("from the record")
    approval = getattr(entry, "approval", None)
    if approval is None:
        return _("waiting for approval")
    return _("approved") if approval.approved else _("rejected")


# --- care visits -----------------------------------------------------------------------------------
def visits_mine(*, user: Any) -> QuerySet[CareVisit]:
    person = person_of(user)
    return CareVisit.objects.select_related("resident", "grid").filter(
        visitor=person, status__in=[CareVisit.Status.CLAIMED, CareVisit.Status.MISSED]) if person else \
        CareVisit.objects.none()


def visits_claimable(*, scope: Scope, user: Any) -> QuerySet[CareVisit]:
    require(scope, "volunteers")
    return CareVisit.objects.select_related("resident", "grid").filter(claimable_filter(scope, volunteer_of(user)))


def visits_area(*, scope: Scope, status: str = "") -> QuerySet[CareVisit]:
    require(scope, "volunteers")
    if scope.role not in AREA_ROLES and not scope.unrestricted:
        return CareVisit.objects.none()
    visits = scoped(CareVisit.objects.select_related("resident", "grid", "visitor"), scope)
    return visits.filter(status=status) if status else visits


def visit_get(*, scope: Scope, user: Any, visit_id: int) -> CareVisit:
    """A visit the user holds, may claim, or oversees."""
    require(scope, "volunteers")
    person = person_of(user)
    mine = Q(visitor=person) if person else Q(pk__in=[])
    visible = mine | claimable_filter(scope, volunteer_of(user)) | Q(pk__in=scoped(CareVisit.objects.all(), scope)
                                                                    .values("pk"))
    found = CareVisit.objects.select_related("resident__household__building", "grid", "visitor", "assignment") \
        .filter(visible, pk=visit_id).first()
    if found is None:
        raise NotFound()
    return found


@dataclass
class Match:
    volunteer: Volunteer
    score: float
    reasons: list[str] = field(default_factory=list)
    refusal: str | None = None


def candidates(*, scope: Scope, visit: CareVisit, limit: int = 10) -> list[Match]:
    """Volunteers for a visit, best first: qualified, with the skill, available on the due day, near (same
    building, same grid), with few visits in hand; each with the reasons for their place."""
    require(scope, "volunteers_manage")
    kind = "care_visit"
    community = ancestor_at(visit.place_path, "community")
    building = visit.resident.household.building.path if visit.resident_id else ""
    grid = ancestor_at(visit.place_path, "grid")
    load = dict(CareVisit.objects.filter(status=CareVisit.Status.CLAIMED).values_list("visitor_id")
                .annotate(n=Count("id")))
    weekday = visit.due_on.weekday()
    out = []
    for v in Volunteer.objects.select_related("person").filter(active=True, place_path__startswith=community):
        m = Match(volunteer=v, score=0.0)
        m.refusal = qualification_refusal(v, kind, visit.due_on)
        if m.refusal:
            m.score -= 100
        skill = KIND_SKILLS.get(kind, "")
        if skill in v.skills:
            m.score += 2
            m.reasons.append(_("skill: %(s)s") % {"s": SKILLS[skill]})
        if v.days >> weekday & 1:
            m.score += 1
            m.reasons.append(_("available on the due day"))
        else:
            m.reasons.append(_("not available on the due day"))
        if building and v.place_path.startswith(building):
            m.score += 3
            m.reasons.append(_("same building"))
        elif grid and v.place_path.startswith(grid):
            m.score += 2
            m.reasons.append(_("same grid"))
        n = load.get(v.person_id, 0)
        m.score -= 0.5 * n
        m.reasons.append(_("%(n)d visits in hand") % {"n": n})
        out.append(m)
    out.sort(key=lambda m: (-m.score, m.volunteer.person.code))
    return out[:limit]


# --- coverage of paired help -----------------------------------------------------------------------
@dataclass
class GridCoverage:
    grid: Place
    vulnerable: int
    with_helper: int
    due: int  # visits due in the window (done or missed)
    on_time: int
    missed: int

    @property
    def share(self) -> float | None:
        return self.with_helper / self.vulnerable if self.vulnerable else None

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.due if self.due else None


def vulnerable_residents() -> QuerySet[Resident]:
    """The residents of vulnerable households: the platform's one definition (registry's vulnerable_filter).
    A filter on the joined household, not ``household__in=<vulnerable households>``: with that subquery
    SQLite counted a district's vulnerable residents per grid in 2.8 s instead of 0.05 s (issue 15)."""
    return Resident.objects.filter(vulnerable_filter("household__"))


def paired_residents() -> QuerySet[Any]:
    """Ids of the residents with an active paired helper (a subquery)."""
    return HelperAssignment.objects.filter(ended_on__isnull=True).values("resident_id")


def has_active_helper() -> Exists:
    """Whether the outer query's resident has an active paired helper: an index probe per resident. Not
    ``pk IN paired_residents()``: with a district's pairings PostgreSQL could not hash that list in its
    working memory and rescanned it for every resident (30 s for the helpers page at 1M, issue 15)."""
    return Exists(HelperAssignment.objects.filter(resident_id=OuterRef("pk"), ended_on__isnull=True))


def coverage(*, scope: Scope, days: int = 90, today: date | None = None) -> list[GridCoverage]:
    require(scope, "volunteers_manage")
    today = today or timezone.localdate()
    start = today - timedelta(days=days)
    grids = scoped(Place.objects.filter(level="grid"), scope)
    # vulnerable residents and those with a helper per grid: from the tally the job recounts every few minutes
    # (volunteers.helpers; counted from the records until its first count), not over a district's residents on
    # every request (5 s at 1,000,000 households, issue 15); the page says when they were counted
    from civicgrid.core import tallies
    from civicgrid.volunteers.crei import HELPERS

    cells = tallies.read(HELPERS, grids=grids.values("pk"))
    vuln = {c["grid"]: int(c["vulnerable"] or 0) for c in cells}
    helped = {c["grid"]: int(c["helped"] or 0) for c in cells}
    visits = CareVisit.objects.filter(grid__in=grids, due_on__gte=start, due_on__lt=today,
                                      status__in=[CareVisit.Status.DONE, CareVisit.Status.MISSED])
    # on time: visited on or before the day it was due, the visit's day in the platform's time zone (``__date``
    # takes the current one, as timezone.localdate does); counted in the database, not by reading a district's
    # 190,000 done visits into Python (1 s at 1M households, issue 15). Due, missed and on time in one pass over
    # the visits: three grouped counts were 310 ms at 1M, one is 140 ms.
    counted = {r["grid_id"]: r for r in visits.values("grid_id").annotate(
        due=Count("id"), missed=Count("id", filter=Q(status=CareVisit.Status.MISSED)),
        on_time=Count("id", filter=Q(status=CareVisit.Status.DONE, done_at__date__lte=F("due_on")))).order_by()}
    none = {"due": 0, "missed": 0, "on_time": 0}
    return [GridCoverage(g, vuln.get(g.pk, 0), helped.get(g.pk, 0), counted.get(g.pk, none)["due"],
                         counted.get(g.pk, none)["on_time"], counted.get(g.pk, none)["missed"]) for g in grids]


def coverage_counted(*, scope: Scope) -> tuple[int, int, datetime | None]:
    """Vulnerable residents with a paired helper, vulnerable residents, in the scope's grids, and when they
    were counted: from the tally the job recounts every few minutes (``volunteers.helpers``), not counted
    over a district's residents on every home page (issue 15). ``None`` when never counted (then counted
    from the records, as :func:`civicgrid.core.tallies.read` does)."""
    from civicgrid.core import tallies
    from civicgrid.volunteers.crei import HELPERS

    require(scope, "volunteers_manage")
    cells = tallies.read(HELPERS, grids=scoped(Place.objects.filter(level="grid"), scope).values("pk"))
    helped = int(sum(c["helped"] or 0 for c in cells))
    vulnerable = int(sum(c["vulnerable"] or 0 for c in cells))
    return helped, vulnerable, tallies.as_of([HELPERS])


def coverage_as_of() -> datetime | None:
    """When the helper coverage of :func:`coverage` was counted (None: counted from the records just now)."""
    from civicgrid.core import tallies
    from civicgrid.volunteers.crei import HELPERS

    return tallies.as_of([HELPERS])


def missed_recently(*, scope: Scope, days: int = 90, today: date | None = None) -> int:
    """Care visits missed in the scope in the last ``days`` days (as :func:`coverage` counts them)."""
    require(scope, "volunteers_manage")
    today = today or timezone.localdate()
    grids = scoped(Place.objects.filter(level="grid"), scope)
    return CareVisit.objects.filter(grid__in=grids, due_on__gte=today - timedelta(days=days), due_on__lt=today,
                                    status=CareVisit.Status.MISSED).count()


def assignments(*, scope: Scope) -> QuerySet[HelperAssignment]:
    require(scope, "volunteers_manage")
    return scoped(HelperAssignment.objects.select_related("resident", "helper", "grid"), scope).filter(
        ended_on__isnull=True)


def unpaired(*, scope: Scope) -> QuerySet[Resident]:
    """Vulnerable residents in the scope without an active helper."""
    require(scope, "volunteers_manage")
    return scoped(vulnerable_residents(), scope).exclude(has_active_helper()).select_related("household")


# --- the time bank ---------------------------------------------------------------------------------
def accounts(*, scope: Scope, user: Any) -> QuerySet[TimeAccount]:
    require(scope, "volunteers")
    person = person_of(user)
    own = Q(person=person) if person else Q(pk__in=[])
    if scope.role in AREA_ROLES or scope.unrestricted:
        own |= Q(pk__in=scoped(TimeAccount.objects.all(), scope).values("pk"))
    return TimeAccount.objects.select_related("person", "community").filter(own)


def transfers(*, scope: Scope, user: Any) -> QuerySet[TimeTransfer]:
    visible = accounts(scope=scope, user=user).values("pk")
    return TimeTransfer.objects.select_related("from_account__person", "to_account__person").filter(
        Q(from_account__in=visible) | Q(to_account__in=visible))
