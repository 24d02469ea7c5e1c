"""Reads of the council app, always through the user's scope (core.scoping)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from civicgrid.core.scoping import Scope, get_in_scope, scoped
from civicgrid.council.models import (
    Body,
    Clause,
    Covenant,
    CovenantVersion,
    Decision,
    Invitation,
    Meeting,
    Poll,
    Signature,
    Vote,
)


def meeting_list(*, scope: Scope) -> QuerySet[Meeting]:
    return scoped(Meeting.objects.select_related("community", "body__actor"), scope)


def meeting_get(*, scope: Scope, meeting_id: int) -> Meeting:
    return get_in_scope(Meeting.objects.select_related("community", "body__actor"), scope, pk=meeting_id)


def invitations(*, scope: Scope, meeting: Meeting) -> QuerySet[Invitation]:
    """The invitations this user may see (staff of the area: all; a resident: their own)."""
    return scoped(meeting.invitations.select_related("household"), scope)


def own_invitation(*, scope: Scope, meeting: Meeting) -> Invitation | None:
    if scope.role != "resident":
        return None
    return meeting.invitations.filter(household_id__in=scope.household_ids).first()


def present(meeting: Meeting) -> int:
    """Households present (checked in or marked by staff)."""
    return meeting.invitations.filter(attended_at__isnull=False).count()


def attendance_counts(meeting_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(invited, present) per meeting."""
    rows = (Invitation.objects.filter(meeting_id__in=meeting_ids).values("meeting_id")
            .annotate(invited=Count("id"), present=Count("id", filter=Q(attended_at__isnull=False))).order_by())
    return {r["meeting_id"]: (r["invited"], r["present"]) for r in rows}


def tally(poll: Poll) -> dict[str, int]:
    """Votes per choice (yes, no, abstain)."""
    counts = dict(poll.votes.values_list("choice").annotate(n=Count("id")).order_by())
    return {c: int(counts.get(c, 0)) for c in Vote.Choice.values}


def passed(counts: dict[str, int]) -> bool:
    """The published rule: more yes than no (abstentions count for neither)."""
    return counts["yes"] > counts["no"]


@dataclass(frozen=True)
class PollView:
    poll: Poll
    counts: dict[str, int]
    passed: bool
    my_vote: str


def polls(*, scope: Scope, meeting: Meeting) -> list[PollView]:
    mine = dict(Vote.objects.filter(poll__meeting=meeting, household_id__in=scope.household_ids)
                .values_list("poll_id", "choice")) if scope.household_ids else {}
    out = []
    for poll in meeting.polls.all():
        counts = tally(poll)
        out.append(PollView(poll, counts, passed(counts), mine.get(poll.pk, "")))
    return out


def decisions(*, scope: Scope, meeting: Meeting | None = None, published_only: bool = False) -> QuerySet[Decision]:
    """Decisions in scope; residents see published ones only."""
    found = scoped(Decision.objects.select_related("meeting", "body__actor", "case", "poll"), scope)
    if meeting is not None:
        found = found.filter(meeting=meeting)
    if published_only or scope.role == "resident":
        found = found.filter(published_at__isnull=False)
    return found


def decision_get(*, scope: Scope, decision_id: int) -> Decision:
    found = decisions(scope=scope)
    return get_in_scope(found, scope, pk=decision_id)


def poll_get(*, scope: Scope, poll_id: int) -> Poll:
    return get_in_scope(Poll.objects.select_related("meeting"), scope, pk=poll_id)


def bodies(*, scope: Scope) -> QuerySet[Body]:
    return scoped(Body.objects.select_related("actor__service_area"), scope)


def covenant_list(*, scope: Scope) -> QuerySet[Covenant]:
    return scoped(Covenant.objects.select_related("community"), scope)


def covenant_get(*, scope: Scope, covenant_id: int) -> Covenant:
    return get_in_scope(Covenant.objects.select_related("community"), scope, pk=covenant_id)


def in_force(covenant: Covenant) -> CovenantVersion | None:
    return covenant.versions.filter(state=CovenantVersion.State.IN_FORCE).first()


def version_get(*, scope: Scope, version_id: int) -> CovenantVersion:
    return get_in_scope(CovenantVersion.objects.select_related("covenant", "adopted_by"), scope, pk=version_id)


def clause_get(*, scope: Scope, clause_id: int) -> Clause:
    return get_in_scope(Clause.objects.select_related("version__covenant"), scope, pk=clause_id)


def clauses(version: CovenantVersion) -> list[Clause]:
    return list(version.clauses.prefetch_related("comments__author"))


def signed_households(version: CovenantVersion) -> int:
    return version.signatures.count()


def own_signature(*, scope: Scope, version: CovenantVersion) -> Signature | None:
    if scope.role != "resident":
        return None
    return version.signatures.filter(household_id__in=scope.household_ids).first()


def adoptable_decisions(*, scope: Scope, covenant: Covenant) -> QuerySet[Decision]:
    """Decisions taken by vote in the covenant's community that have not adopted a version yet."""
    return decisions(scope=scope).filter(place_path=covenant.place_path, poll__isnull=False,
                                         covenant_version__isnull=True)


def sector_shares(decisions_qs: QuerySet[Decision]) -> dict[str, Any]:
    """Decisions by sector and the share taken by residents' own bodies (for the figures)."""
    total = decisions_qs.count()
    by_sector = dict(decisions_qs.values_list("sector").annotate(n=Count("id")).order_by())
    residents = decisions_qs.filter(residents_body=True).count()
    return {"total": total, "by_sector": by_sector, "residents": residents,
            "residents_share": residents / total if total else None}
