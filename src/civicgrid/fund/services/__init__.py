"""The fund app's writes (split by concern; callers import from here)."""

from civicgrid.fund.services.ledger import fund_open, fund_receive, spending_record
from civicgrid.fund.services.rounds import (
    phase,
    proposal_cosign,
    proposal_review,
    proposal_submit,
    results_publish,
    round_advance,
    round_create,
)
from civicgrid.fund.services.voting import (
    ballot_cast,
    ballot_lookup,
    codes_issue,
    paper_enter,
    paper_issue,
)

__all__ = ["ballot_cast", "ballot_lookup", "codes_issue", "fund_open", "fund_receive", "paper_enter", "paper_issue",
           "phase", "proposal_cosign", "proposal_review", "proposal_submit", "results_publish", "round_advance",
           "round_create", "spending_record"]
