"""A participatory round: its dated phases, proposals and their public review, and its results by the
published winner rule (civicgrid.engine.budgeting)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Count, F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core import audit
from civicgrid.core.errors import Conflict, Invalid
from civicgrid.core.limits import bounded_text, whole_number
from civicgrid.core.locking import locked, serialised
from civicgrid.core.scoping import Scope, get_in_scope, require
from civicgrid.engine.budgeting import Project, select_winners
from civicgrid.fund.events import FundEvent
from civicgrid.fund.models import (
    TEXT_CHARS,
    TITLE_CHARS,
    BallotChoice,
    Cosign,
    Fund,
    Proposal,
    Round,
)
from civicgrid.fund.services.ledger import money, yuan
from civicgrid.registry.models import Actor, Place, Resident

PHASES = ("upcoming", "proposals", "review", "voting", "counting", "implementation")
RESIDENTS_BODIES = ("residents_committee", "resident_self_organisation")


def phase(round: Round, now: datetime | None = None) -> str:
    """Where the round stands: its dates decide, and published results start implementation."""
    now = now or timezone.now()
    if round.results_published_at:
        return "implementation"
    for name, start in (("upcoming", round.proposals_open), ("proposals", round.review_open),
                        ("review", round.voting_open), ("voting", round.voting_close)):
        if now < start:
            return name
    return "counting"


def _round(scope: Scope, round_id: int) -> Round:
    """The round, locked, in the acting scope (its community's fund locked first: one order of locks)."""
    found = get_in_scope(Round.objects.select_related("fund__community"), scope, pk=round_id)
    locked(Fund.objects.filter(pk=found.fund_id)).get()
    return locked(Round.objects.select_related("fund__community").filter(pk=found.pk)).get()


@serialised
def round_create(*, user: Any, scope: Scope, fund_id: int, title: str, budget_fen: int, method: str = "approval",
                 unit: str = "household", max_choices: int = 0, partial_funding: bool = False,
                 residents_body_id: int | None = None, proposals_open: datetime, review_open: datetime,
                 voting_open: datetime, voting_close: datetime) -> Round:
    require(scope, "fund_manage")
    fund = get_in_scope(locked(Fund.objects.select_related("community")), scope, pk=fund_id)
    title = bounded_text(title, "title", max_chars=TITLE_CHARS)
    if not title:
        raise Invalid({"title": _("Give the round a title.")})
    budget = money(budget_fen, "budget")
    if method not in Round.Method.values:
        raise Invalid({"method": _("Choose approval or budget voting.")})
    if unit not in Round.Unit.values:
        raise Invalid({"unit": _("Choose one ballot per household or per adult resident.")})
    max_choices = whole_number(max_choices, "max_choices", minimum=0, maximum=50)
    if not proposals_open <= review_open <= voting_open <= voting_close:
        raise Invalid({"voting_close": _("The phases' dates must follow each other: proposals, review, voting.")})
    if budget > fund.received_fen - fund.committed_fen:
        raise Invalid({"budget": _("The fund has only %(left)s yuan not yet given to a round.")
                       % {"left": yuan(fund.received_fen - fund.committed_fen)}})
    body = None
    if residents_body_id:
        body = Actor.objects.filter(pk=residents_body_id, kind__in=RESIDENTS_BODIES).first()
        if body is None:
            raise Invalid({"residents_body": _("Choose a residents' committee or residents' own organisation.")})
    Fund.objects.filter(pk=fund.pk).update(committed_fen=F("committed_fen") + budget)
    round = Round.objects.create(fund=fund, title=title, budget_fen=budget, method=method, unit=unit,
                                 max_choices=max_choices, partial_funding=partial_funding, residents_body=body,
                                 proposals_open=proposals_open, review_open=review_open, voting_open=voting_open,
                                 voting_close=voting_close)
    audit.record(user=user, event=FundEvent.ROUND_CREATED, instance=round, new=audit.snapshot(round))
    return round


@serialised
def round_advance(*, user: Any, scope: Scope, round_id: int) -> Round:
    """End the current phase now (the committee's button; the dates otherwise move the round on their own)."""
    require(scope, "fund_manage")
    round = _round(scope, round_id)
    now = timezone.now()
    current = phase(round, now)
    if current == "review":
        pending = round.proposals.filter(status=Proposal.Status.SUBMITTED).count()
        if pending:
            raise Conflict(_("%(n)d proposals still await review.") % {"n": pending})
        if not round.proposals.filter(status=Proposal.Status.FEASIBLE).exists():
            raise Conflict(_("No proposal was found feasible: there is nothing to vote on."))
    field = {"upcoming": "proposals_open", "proposals": "review_open", "review": "voting_open",
             "voting": "voting_close"}.get(current)
    if field is None:
        raise Conflict(_("The vote is closed: publish the results."))
    changes = {field: now}
    # a later phase planned before now moves to now as well, so the dates stay in order
    order = ["proposals_open", "review_open", "voting_open", "voting_close"]
    for later in order[order.index(field) + 1:]:
        if getattr(round, later) < now:
            changes[later] = now
    audit.update_fields(user=user, event=FundEvent.PHASE_ADVANCED, instance=round, changes=changes)
    return round


def _resident_in(round: Round, resident_id: int, field: str) -> Resident:
    resident = Resident.objects.select_related("household").filter(pk=resident_id).first()
    if resident is None or not resident.household.place_path.startswith(round.fund.community.path):
        raise Invalid({field: _("Not a resident of this community in the registry.")})
    return resident


@serialised
def proposal_submit(*, user: Any, scope: Scope, round_id: int, title: str, description: str, cost_fen: int,
                    proposer_id: int, grid_id: int | None = None, cosigner_ids: Iterable[int] = (),
                    on_paper: bool = False) -> Proposal:
    """A resident's proposal (a resident proposes as a member of their own household; a director enters a
    paper proposal for any resident of the community), with co-signers."""
    require(scope, "fund")
    round = _round(scope, round_id)
    if on_paper:
        require(scope, "fund_manage")
    elif scope.role != "resident" and not scope.unrestricted:
        raise Invalid({"proposer": _("Staff enter a resident's proposal from paper.")})
    if phase(round) != "proposals":
        raise Conflict(_("Proposals are not open in this round."))
    title = bounded_text(title, "title", max_chars=TITLE_CHARS)
    if not title:
        raise Invalid({"title": _("Give the project a title.")})
    description = bounded_text(description, "description", max_chars=TEXT_CHARS)
    cost = money(cost_fen, "cost")
    if cost > round.budget_fen:
        raise Invalid({"cost": _("The project costs more than the round's whole budget of %(budget)s yuan.")
                       % {"budget": yuan(round.budget_fen)}})
    proposer = _resident_in(round, whole_number(proposer_id, "proposer", maximum=2**62), "proposer")
    if not on_paper and not scope.unrestricted and proposer.household_id not in scope.household_ids:
        raise Invalid({"proposer": _("Propose as a member of your own household.")})
    grid = None
    if grid_id:
        grid = Place.objects.filter(pk=grid_id, level="grid", parent=round.fund.community).first()
        if grid is None:
            raise Invalid({"grid": _("Choose a grid of this community.")})
    cosigners = [_resident_in(round, whole_number(i, "cosigners", maximum=2**62), "cosigners")
                 for i in dict.fromkeys(cosigner_ids)]
    seq = (round.proposals.aggregate(m=Max("seq"))["m"] or 0) + 1
    proposal = Proposal.objects.create(round=round, seq=seq, title=title, description=description, cost_fen=cost,
                                       grid=grid, proposer=proposer, on_paper=on_paper,
                                       entered_by=audit.acting_user(user))
    Cosign.objects.bulk_create([Cosign(proposal=proposal, resident=r) for r in cosigners if r != proposer])
    audit.record(user=user, event=FundEvent.PROPOSAL_SUBMITTED, instance=proposal,
                 new=audit.snapshot(proposal))
    return proposal


@serialised
def proposal_cosign(*, user: Any, scope: Scope, proposal_id: int, resident_id: int) -> Cosign:
    """A resident adds their name to a proposal of their community (as a member of their own household)."""
    require(scope, "fund")
    proposal = get_in_scope(Proposal.objects.select_related("round__fund__community"), scope, pk=proposal_id)
    locked(Proposal.objects.filter(pk=proposal.pk)).get()  # two signatures at once: one waits for the other
    if phase(proposal.round) not in {"proposals", "review"}:
        raise Conflict(_("Co-signing has closed in this round."))
    resident = _resident_in(proposal.round, resident_id, "resident")
    if not scope.unrestricted and resident.household_id not in scope.household_ids:
        raise Invalid({"resident": _("Co-sign as a member of your own household.")})
    if resident.pk == proposal.proposer_id or proposal.cosigns.filter(resident=resident).exists():
        raise Conflict(_("%(name)s has already signed this proposal.") % {"name": resident.name})
    cosign = Cosign.objects.create(proposal=proposal, resident=resident)
    audit.record(user=user, event=FundEvent.PROPOSAL_COSIGNED, instance=cosign,
                 new={"proposal": proposal.pk, "resident": resident.pk}, place_path=proposal.round.fund.community.path)
    return cosign


@serialised
def proposal_review(*, user: Any, scope: Scope, proposal_id: int, feasible: bool, reason: str = "",
                    cost_fen: int | None = None) -> Proposal:
    """The residents' committee's feasibility review: a rejection needs its public reason; the committee may
    correct the cost (within the round's budget)."""
    require(scope, "fund_manage")
    proposal = get_in_scope(Proposal.objects.select_related("round"), scope, pk=proposal_id)
    round = _round(scope, proposal.round_id)
    proposal = locked(Proposal.objects.filter(pk=proposal.pk)).get()
    if phase(round) not in {"proposals", "review"}:
        raise Conflict(_("Reviews are closed: voting has begun."))
    reason = bounded_text(reason, "reason")
    if not feasible and not reason:
        raise Invalid({"reason": _("Give the public reason for finding the project not feasible.")})
    changes: dict[str, Any] = {"status": Proposal.Status.FEASIBLE if feasible else Proposal.Status.REJECTED,
                               "review_reason": reason, "reviewed_at": timezone.now()}
    if cost_fen is not None:
        cost = money(cost_fen, "cost")
        if cost > round.budget_fen:
            raise Invalid({"cost": _("The project costs more than the round's whole budget of %(budget)s yuan.")
                           % {"budget": yuan(round.budget_fen)}})
        changes["cost_fen"] = cost
    audit.update_fields(user=user, event=FundEvent.PROPOSAL_REVIEWED, instance=proposal, changes=changes)
    return proposal


@serialised
def results_publish(*, user: Any, scope: Scope, round_id: int) -> Round:
    """Count the ballots, apply the published winner rule and publish, once the vote has closed."""
    require(scope, "fund_manage")
    round = _round(scope, round_id)
    if phase(round) != "counting":
        raise Conflict(_("Results are published once, after the vote has closed."))
    pending = round.paper_sheets.filter(status="pending").count()
    if pending:
        raise Conflict(_("%(n)d paper ballots were entered only once: enter them a second time first.") % {"n": pending})
    feasible = list(locked(round.proposals.filter(status=Proposal.Status.FEASIBLE)))
    votes = dict(BallotChoice.objects.filter(ballot__round=round).values("proposal").annotate(n=Count("id"))
                 .values_list("proposal", "n"))
    selection = select_winners(
        projects=[Project(id=p.pk, cost=p.cost_fen, votes=votes.get(p.pk, 0), order=p.seq) for p in feasible],
        budget=round.budget_fen, partial_funding=round.partial_funding)
    by_id = {p.pk: p for p in feasible}
    for d in selection.decisions:
        p = by_id[d.id]
        p.votes, p.rank, p.outcome, p.funded_fen = d.votes, d.rank, d.status, d.funded
    Proposal.objects.bulk_update(feasible, ["votes", "rank", "outcome", "funded_fen"])
    audit.update_fields(user=user, event=FundEvent.RESULTS_PUBLISHED, instance=round,
                        changes={"results_published_at": timezone.now()})
    audit.record_bulk(user=user, event=FundEvent.RESULTS_PUBLISHED, model=Proposal, ids=[d.id for d in selection.winners],
                      counts={"funded_fen": selection.spent},
                      place_path=round.fund.community.path, summary=round.title)
    return round


