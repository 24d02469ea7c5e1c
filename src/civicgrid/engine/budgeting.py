"""The winner rule of a participatory budget: published, deterministic, reproducible by hand.

The rule (CONSUL Democracy's greedy rule, with its tie rule stated and partial funding as an option,
as asked in consuldemocracy/consuldemocracy PR #5429):

1. Rank the feasible projects by **votes, most first**; ties go to the **lower cost**, then to the
   **earlier proposal** (its ``order``, e.g. the time it was filed), then to the lower id.
2. Walk the ranking with the round's budget: a project whose cost still fits is **funded in full**;
   a project that no longer fits is **skipped** and the walk goes on to the next (a cheaper one may
   still fit).
3. With **partial funding**, the first project that no longer fits receives what is left instead of
   being skipped; the budget is then spent and the projects after it are *not reached*.
4. A project needs at least ``min_votes`` votes (default 1) to be funded at all.

The same projects and budget always give the same result, whatever order they are listed in.

Examples
--------
>>> from civicgrid.engine.budgeting import Project, select_winners
>>> projects = [Project(id=1, cost=60, votes=10, order=1), Project(id=2, cost=50, votes=9, order=2),
...             Project(id=3, cost=30, votes=9, order=3), Project(id=4, cost=20, votes=2, order=4)]
>>> result = select_winners(projects=projects, budget=100)
>>> [(d.id, d.status, d.funded) for d in result.decisions]
[(1, 'funded', 60), (3, 'funded', 30), (2, 'skipped', 0), (4, 'skipped', 0)]
>>> result.spent, result.left
(90, 10)
>>> partial = select_winners(projects=projects, budget=100, partial_funding=True)
>>> [(d.id, d.status, d.funded) for d in partial.decisions]
[(1, 'funded', 60), (3, 'funded', 30), (2, 'partial', 10), (4, 'not_reached', 0)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from civicgrid.engine._budgeting import (
    FUNDED,
    NO_VOTES,
    NOT_REACHED,
    PARTIAL,
    SKIPPED,
    greedy_fill,
    ranking_order,
)

__all__ = ["STATUSES", "Decision", "Project", "Selection", "select_winners", "knapsack_ballot_fits"]

STATUSES: tuple[str, ...] = (FUNDED, PARTIAL, SKIPPED, NOT_REACHED, NO_VOTES)


@dataclass(frozen=True, kw_only=True)
class Project:
    """A feasible project as the rule reads it: ``cost`` in whole units (fen), ``votes`` counted,
    ``order`` its place in the order of proposal (earlier = smaller), ``id`` unique."""

    id: int
    cost: int
    votes: int
    order: int

    def __post_init__(self) -> None:
        for name in ("id", "cost", "votes", "order"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"project {name} must be a whole number, got {value!r}")
        if self.cost < 1:
            raise ValueError(f"project {self.id} must cost at least 1, got {self.cost}")
        if self.votes < 0:
            raise ValueError(f"project {self.id} cannot have negative votes ({self.votes})")


@dataclass(frozen=True, kw_only=True)
class Decision:
    """One project's outcome: ``rank`` (1 = most votes), ``status`` (one of :data:`STATUSES`) and the
    amount ``funded`` (the cost, part of it, or 0)."""

    id: int
    rank: int
    votes: int
    cost: int
    funded: int
    status: str


@dataclass(frozen=True, kw_only=True)
class Selection:
    budget: int
    decisions: tuple[Decision, ...]  # in rank order

    @property
    def spent(self) -> int:
        return sum(d.funded for d in self.decisions)

    @property
    def left(self) -> int:
        return self.budget - self.spent

    @property
    def winners(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if d.funded > 0)


def select_winners(*, projects: Sequence[Project], budget: int, partial_funding: bool = False,
                   min_votes: int = 1) -> Selection:
    """Apply the published winner rule (see the module docstring) to ``projects`` within ``budget``.

    Parameters
    ----------
    projects
        The feasible projects with their vote counts; ids must be unique.
    budget
        What the round may spend, in the same unit as the costs (fen), at least 0.
    partial_funding
        Give the first project that no longer fits what is left (then stop), instead of skipping it.
    min_votes
        Votes a project needs to be funded at all (at least 1).

    Returns
    -------
    Selection
        Every project's decision in rank order, with ``spent`` and ``left``.

    Examples
    --------
    >>> sel = select_winners(projects=[Project(id=7, cost=5, votes=3, order=2),
    ...                                Project(id=8, cost=5, votes=3, order=1)], budget=5)
    >>> [(d.id, d.status) for d in sel.decisions]  # a tie on votes and cost: the earlier proposal wins
    [(8, 'funded'), (7, 'skipped')]
    >>> select_winners(projects=[Project(id=1, cost=9, votes=0, order=1)], budget=10).decisions[0].status
    'no_votes'
    """
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 0:
        raise ValueError(f"budget must be a whole number >= 0, got {budget!r}")
    if isinstance(min_votes, bool) or not isinstance(min_votes, int) or min_votes < 1:
        raise ValueError(f"min_votes must be a whole number >= 1, got {min_votes!r}")
    ids = [p.id for p in projects]
    if len(set(ids)) != len(ids):
        raise ValueError("project ids must be unique")
    order = ranking_order([p.votes for p in projects], [p.cost for p in projects],
                          [p.order for p in projects], ids)
    ranked = [projects[i] for i in order]
    funded, statuses = greedy_fill([p.cost for p in ranked], [p.votes for p in ranked], budget,
                                   partial_funding=partial_funding, min_votes=min_votes)
    return Selection(budget=budget, decisions=tuple(
        Decision(id=p.id, rank=rank, votes=p.votes, cost=p.cost, funded=f, status=s)
        for rank, (p, f, s) in enumerate(zip(ranked, funded, statuses, strict=True), start=1)))


def knapsack_ballot_fits(*, costs: Sequence[int], budget: int) -> bool:
    """Whether a knapsack ballot's chosen projects fit the budget together (Decidim's rule: a voter
    spends the round's budget, not more).

    >>> knapsack_ballot_fits(costs=[40, 50], budget=100), knapsack_ballot_fits(costs=[60, 50], budget=100)
    (True, False)
    """
    return sum(costs) <= budget
