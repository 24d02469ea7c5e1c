"""Private kernels for :mod:`civicgrid.engine.governance`.

Pure functions on plain numbers and graphs: normalised entropy, Freeman degree centralisation,
the availability of actors once others drop out, and the allocation of households to providers.
Validation of user input happens in the public module; these kernels only guard their own
mathematical preconditions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

# Slack used when turning a fractional capacity into whole households: 100 * 0.7 is
# 69.99999999999999 in floating point and must still count as 70 households.
_FLOOR_SLACK = 1e-9


def normalised_entropy(shares: Sequence[float]) -> float:
    """Shannon entropy of ``shares`` divided by ``log(len(shares))`` (0 = one holds all, 1 = even).

    ``0 * log(0)`` is taken as 0. ``shares`` must be non-negative and sum to 1.
    """
    if len(shares) < 2:
        raise ValueError("normalised entropy needs at least two shares")
    if any(share < 0 for share in shares):
        raise ValueError(f"shares must be non-negative, got {list(shares)}")
    if not math.isclose(math.fsum(shares), 1.0, abs_tol=1e-9):
        raise ValueError(f"shares must sum to 1, got {math.fsum(shares)}")
    entropy = -math.fsum(share * math.log(share) for share in shares if share > 0)
    return min(1.0, max(0.0, entropy / math.log(len(shares))))


def freeman_degree_centralization(graph: nx.Graph) -> float:
    """Freeman's degree centralisation of ``graph`` viewed as a simple undirected graph.

    ``sum(max_degree - degree_i) / ((n - 1) * (n - 2))``: the denominator is the value reached by a
    star, so a star scores 1 and any regular graph (e.g. a cycle) scores 0. Graphs with fewer than
    three nodes score 0 because no degree variation is possible in them. Parallel edges, edge
    direction and self-loops are ignored.
    """
    simple = nx.Graph()
    simple.add_nodes_from(graph.nodes)
    simple.add_edges_from((u, v) for u, v in graph.edges() if u != v)
    n = simple.number_of_nodes()
    if n < 3:
        return 0.0
    degrees = [int(degree) for _, degree in simple.degree()]
    top = max(degrees)
    return float(sum(top - degree for degree in degrees) / ((n - 1) * (n - 2)))


def availability(
    *,
    actor_ids: Iterable[str],
    removed: Iterable[str],
    dependences: Mapping[tuple[str, str], float],
    tolerance: float = 1e-12,
    max_iterations: int = 10_000,
) -> dict[str, float]:
    """Share of each actor's capacity still available after ``removed`` drop out.

    ``dependences[(source, target)]`` is the share of ``target``'s capacity that stops when
    ``source`` is unavailable (its funding or its orders stop). The availability ``a`` is the
    greatest fixed point of ``a_i = 0`` for removed actors and
    ``a_i = max(0, 1 - sum_j d_ji * (1 - a_j))`` otherwise, reached by iterating from ``a = 1``;
    the iteration is monotone, so it converges, exactly on acyclic funding chains and
    geometrically on cycles. Removing more actors never raises anyone's availability.
    """
    ids = list(actor_ids)
    gone = set(removed)
    level = {actor_id: 0.0 if actor_id in gone else 1.0 for actor_id in ids}
    incoming: dict[str, list[tuple[str, float]]] = {actor_id: [] for actor_id in ids}
    for (source, target), share in dependences.items():
        if share > 0:
            incoming[target].append((source, share))
    for _ in range(max_iterations):
        change = 0.0
        for actor_id in ids:
            if actor_id in gone:
                continue
            lost = math.fsum(share * (1.0 - level[source]) for source, share in incoming[actor_id])
            updated = max(0.0, 1.0 - lost)
            change = max(change, level[actor_id] - updated)
            level[actor_id] = updated
        if change <= tolerance:
            break
    # Values within the tolerance of zero are a geometric tail converging to zero.
    return {actor_id: 0.0 if value <= tolerance else value for actor_id, value in level.items()}


def effective_capacity(
    *, capacity: int, available: float, volunteer_share: float, volunteer_loss: float
) -> int:
    """Whole households an actor can still serve.

    ``floor(capacity * available * (1 - volunteer_share * volunteer_loss))``: the part of the
    capacity delivered by volunteers shrinks in proportion to the volunteers lost.
    """
    remaining = capacity * available * (1.0 - volunteer_share * volunteer_loss)
    return max(0, math.floor(remaining + _FLOOR_SLACK))


@dataclass(frozen=True)
class DemandGroup:
    """Households sharing an area and a vulnerability flag (served interchangeably)."""

    area: str
    vulnerable: bool
    count: int


@dataclass(frozen=True)
class Provider:
    """An actor able to serve ``capacity`` households in ``areas`` (``None`` = every area)."""

    actor_id: str
    capacity: int
    areas: frozenset[str] | None

    def serves(self, area: str) -> bool:
        return self.areas is None or area in self.areas


def max_served(*, groups: Sequence[DemandGroup], providers: Sequence[Provider]) -> int:
    """Most households in ``groups`` that ``providers`` can serve within their capacities and areas.

    A maximum flow (Dinic, :func:`scipy.sparse.csgraph.maximum_flow`) through source -> group
    (household count) -> provider if it serves the group's area (unbounded) -> sink (provider
    capacity).
    """
    active = [p for p in providers if p.capacity > 0]
    demand = sum(max(0, group.count) for group in groups)
    if demand == 0 or not active:
        return 0
    source, sink, first_group = 0, 1, 2
    first_provider = first_group + len(groups)
    tails, heads, capacities = [], [], []
    for index, group in enumerate(groups):
        tails.append(source)
        heads.append(first_group + index)
        capacities.append(max(0, group.count))
        for position, provider in enumerate(active):
            if provider.serves(group.area):
                tails.append(first_group + index)
                heads.append(first_provider + position)
                capacities.append(demand)  # never binding: "unbounded"
    for position, provider in enumerate(active):
        tails.append(first_provider + position)
        heads.append(sink)
        capacities.append(min(provider.capacity, demand))
    size = first_provider + len(active)
    network = csr_matrix(
        (np.asarray(capacities, dtype=np.int32), (tails, heads)), shape=(size, size)
    )
    return int(maximum_flow(network, source, sink, method="dinic").flow_value)


def served_households(
    *, groups: Sequence[DemandGroup], providers: Sequence[Provider]
) -> tuple[int, int]:
    """``(households served, vulnerable households served)`` with vulnerable households first.

    The sets of households that can be served together form a matroid (a transversal matroid
    with capacities), so some maximum assignment also serves as many vulnerable households as
    any assignment can: both figures are plain maximum flows, one over all groups and one over
    the vulnerable groups alone, and they are achieved by one and the same assignment.
    """
    vulnerable = [group for group in groups if group.vulnerable]
    served_vulnerable = max_served(groups=vulnerable, providers=providers)
    if len(vulnerable) == len(groups):
        return served_vulnerable, served_vulnerable
    return max_served(groups=groups, providers=providers), served_vulnerable
