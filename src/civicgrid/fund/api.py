"""The fund JSON API (mounted at /api/fund/): rounds and their published results, voting with a household's
ballot code (no account: the code is the credential) and spending against a winning project."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema

from civicgrid.accounts.roles import scope_for
from civicgrid.core.apischema import id_path, offset_query, page, requires, responses, text_field
from civicgrid.fund import selectors, services
from civicgrid.fund.models import MONEY_CEILING, Round

router = Router(tags=["fund"])


class RoundOut(Schema):
    id: int
    title: str
    community: str
    phase: str
    method: str
    unit: str
    budget_fen: int
    voting_open: datetime
    voting_close: datetime

    @staticmethod
    def resolve_community(obj: Round | dict) -> str:
        return obj["community"] if isinstance(obj, dict) else obj.fund.community.code

    @staticmethod
    def resolve_phase(obj: Round | dict) -> str:
        return obj["phase"] if isinstance(obj, dict) else services.phase(obj)


class ProposalOut(Schema):
    id: int
    seq: int
    title: str
    cost_fen: int
    status: str
    review_reason: str
    votes: int | None
    rank: int | None
    outcome: str
    funded_fen: int
    spent_fen: int


class RoundDetailOut(RoundOut):
    proposals: list[ProposalOut]
    eligible: int | None
    voted: int | None


class BallotIn(Schema):
    code: str = Field(..., min_length=8, max_length=64, description="the household's ballot code")
    choices: list[int] = Field(..., min_length=1, max_length=50, description="ids of the projects chosen")
    revision: int = Field(0, ge=0, le=2**31, description="the ballot's revision as last seen (0: none yet)")


class BallotOut(Schema):
    revision: int


class SpendingIn(Schema):
    amount_fen: int = Field(..., ge=1, le=MONEY_CEILING, description="in fen (1/100 yuan)")
    note: str = text_field()


class SpendingOut(Schema):
    seq: int
    amount_fen: int
    balance_after_fen: int


@router.get("/rounds", response=responses(list[RoundOut]), auth=requires("fund"))
def list_rounds(request: HttpRequest, offset: int = offset_query()) -> object:
    return page(selectors.rounds(scope=scope_for(request.user)), offset)


@router.get("/rounds/{round_id}", response=responses(RoundDetailOut), auth=requires("fund"))
def get_round(request: HttpRequest, round_id: int = id_path()) -> object:
    r = selectors.round(scope=scope_for(request.user), round_id=round_id)
    published = r.results_published_at is not None
    total = selectors.turnout(round=r)[2] if published else None
    proposals = [{**{k: getattr(p, k) for k in ("id", "seq", "title", "cost_fen", "status", "review_reason", "rank",
                                                 "outcome", "funded_fen", "spent_fen")},
                  "votes": p.votes if published else None} for p in selectors.proposals(round=r)]
    return {**{k: getattr(r, k) for k in ("id", "title", "method", "unit", "budget_fen", "voting_open", "voting_close")},
            "community": r.fund.community.code, "phase": services.phase(r), "proposals": proposals,
            "eligible": total.eligible if total else None, "voted": total.voted if total else None}


@router.post("/rounds/{round_id}/ballot", response=responses(BallotOut), auth=None)
def cast_ballot(request: HttpRequest, payload: BallotIn, round_id: int = id_path()) -> object:
    revision = services.ballot_cast(user=request.user, scope=scope_for(request.user), round_id=round_id,
                                    code=payload.code, proposal_ids=payload.choices, revision=payload.revision)
    return {"revision": revision}


@router.post("/proposals/{proposal_id}/spending", response=responses(SpendingOut), auth=requires("fund_manage"))
def record_spending(request: HttpRequest, payload: SpendingIn, proposal_id: int = id_path()) -> object:
    return services.spending_record(user=request.user, scope=scope_for(request.user), proposal_id=proposal_id,
                                    amount_fen=payload.amount_fen, note=payload.note)
