"""Kernel of the participatory-budget winner rule (public API: :mod:`civicgrid.engine.budgeting`).

Plain integers only (costs in fen), so the rule is exact and the same on every machine."""

from __future__ import annotations

from collections.abc import Sequence

# statuses a project can end in, in words the platform translates
FUNDED, PARTIAL, SKIPPED, NO_VOTES = "funded", "partial", "skipped", "no_votes"
NOT_REACHED = "not_reached"  # after partial funding used up the budget


def ranking_order(votes: Sequence[int], costs: Sequence[int], orders: Sequence[int],
                  ids: Sequence[int]) -> list[int]:
    """Positions of the projects, best first: most votes, then lower cost, then earlier proposal, then
    lower id (ids are unique, so the order is total and does not depend on the input order)."""
    return sorted(range(len(ids)), key=lambda i: (-votes[i], costs[i], orders[i], ids[i]))


def greedy_fill(ranked_costs: Sequence[int], ranked_votes: Sequence[int], budget: int, *,
                partial_funding: bool, min_votes: int) -> tuple[list[int], list[str]]:
    """Walk the ranked projects: fund each one that still fits; a project that does not fit is skipped
    (or, with ``partial_funding``, given what is left, after which the budget is spent). Projects
    below ``min_votes`` are never funded. Returns the funded amounts and the statuses, in rank order."""
    remaining = budget
    funded: list[int] = []
    statuses: list[str] = []
    exhausted = False
    for cost, votes in zip(ranked_costs, ranked_votes, strict=True):
        if votes < min_votes:
            funded.append(0)
            statuses.append(NO_VOTES)
        elif exhausted:
            funded.append(0)
            statuses.append(NOT_REACHED)
        elif cost <= remaining:
            funded.append(cost)
            statuses.append(FUNDED)
            remaining -= cost
        elif partial_funding and remaining > 0:
            funded.append(remaining)
            statuses.append(PARTIAL)
            remaining = 0
            exhausted = True
        else:
            funded.append(0)
            statuses.append(SKIPPED)
    return funded, statuses
