"""Governance balance: how state, capital and society share a community's governance.

The model follows the two seed cases: Baibuting (Wuhan), where party committee, enterprise group
and residents' committee were fused under one management committee and society was the weakest
force, and Sichuan, where hub organisations, purchased services and self-organised teams grew the
social forces. It turns a community's actors, posts, contributions and links into

* **sector shares** of each contribution kind (resources, decisions, work) and of declared
  capacity, and a **balance score**: for each kind the normalised Shannon entropy
  ``H = -sum_s p_s ln p_s / ln 3`` of the three sector shares (0 = one sector does everything,
  1 = an even third each), averaged over the kinds that have data;
* **society strength**: society's share averaged over the same kinds (an even third is 1/3);
* **fusion**: the share of key posts held by people who also hold a post (key or not) in an actor
  of another sector, and the **actor network** (shared people, funding, command lines) with its
  Freeman degree centralisation;
* **critical-function coverage** (food supply, medicine, care for vulnerable residents,
  information release, access control, shelter) from actors' declared capacities in households;
* **stress tests**: remove actors, whole sectors or a share of volunteers and count the households
  (vulnerable ones separately) left without service. Actors tied to a removed actor by a funding
  or command link lose the link's declared ``dependence`` share of capacity (transitively); every
  actor loses ``volunteer_share * volunteer_loss`` of what remains; households are then assigned
  to providers serving their area, vulnerable households first. **Single points of failure** are
  the actors whose removal alone leaves households with no provider at all for some function.

Every figure carries a ``basis``: ``"recorded"`` (from platform records), ``"declared"`` (from
actors' own declarations or stand-in activity) or ``"mixed"``.

Examples
--------
>>> from civicgrid.engine.governance import (
...     ActorInput, Contribution, GovernanceInputs, HouseholdInput, PostInput, governance_report)
>>> inputs = GovernanceInputs(
...     community="tiny",
...     actors=[
...         ActorInput(id="pc", name="Party committee", sector="state", kind="party_committee",
...               capacities={"information_release": 2}),
...         ActorInput(id="firm", name="Firm", sector="capital", kind="enterprise",
...               capacities={"food_supply": 2, "care_vulnerable": 1}),
...         ActorInput(id="club", name="Club", sector="society", kind="volunteer_team",
...               capacities={"care_vulnerable": 1}, volunteer_share=1.0)],
...     posts=[PostInput(person_id="p1", actor_id="pc", role="secretary", is_key=True),
...            PostInput(person_id="p1", actor_id="firm", role="chair", is_key=True)],
...     contributions=[Contribution(actor_id="firm", kind="resources", amount=8, basis="declared"),
...                    Contribution(actor_id="club", kind="resources", amount=2, basis="declared")],
...     households=[HouseholdInput(id="h1", area="a", vulnerable=True),
...                 HouseholdInput(id="h2", area="a", vulnerable=False)])
>>> report = governance_report(inputs=inputs, volunteer_losses=())
>>> report.fusion.score, report.fused
(1.0, True)
>>> round(report.balance, 3), report.balance_basis
(0.455, 'declared')
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import networkx as nx

from civicgrid.engine._governance import (
    DemandGroup,
    Provider,
    availability,
    effective_capacity,
    freeman_degree_centralization,
    normalised_entropy,
    served_households,
)
from civicgrid.engine._governance_io import (
    actor_record,
    read_fixture_records,
    report_to_dict,
    report_to_json,
    report_to_text,
    rows,
)
from civicgrid.engine.registry_format import CRITICAL_FUNCTIONS, SECTORS

# One vocabulary for the whole project: the registry's exchange format defines the sectors and the
# critical functions.
CONTRIBUTION_KINDS: tuple[str, ...] = ("resources", "decisions", "work")
LINK_KINDS: tuple[str, ...] = ("funding", "command")
BASES: tuple[str, ...] = ("recorded", "declared")
# Functions whose demand is the vulnerable households only; the others serve every household.
VULNERABLE_ONLY_FUNCTIONS: frozenset[str] = frozenset({"care_vulnerable"})


def _require_text(value: object, *, what: str) -> None:
    if not isinstance(value, str) or not value:
        raise TypeError(f"{what} must be a non-empty string, got {value!r}")


def _require_choice(value: object, *, what: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}; expected one of {list(choices)}")


def _require_fraction(value: object, *, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"{what} must be a number between 0 and 1, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class ActorInput:
    """One actor as the governance model reads it (the platform builds it from a registry actor).

    ``capacities`` maps critical functions to the number of households the actor can serve in an
    emergency; ``service_area`` lists the areas it serves (empty = the whole community);
    ``volunteer_share`` is the share of its capacity delivered by volunteers (what a loss of
    volunteers takes away); ``capacity_basis`` says whether capacities are declared or recorded.
    """

    id: str
    name: str
    sector: str
    kind: str
    capacities: Mapping[str, int] = field(default_factory=dict)
    service_area: tuple[str, ...] = ()
    volunteer_share: float = 0.0
    capacity_basis: str = "declared"

    def __post_init__(self) -> None:
        _require_text(self.id, what="actor id")
        _require_choice(self.sector, what=f"sector of actor {self.id!r}", choices=SECTORS)
        _require_choice(self.capacity_basis, what=f"capacity basis of {self.id!r}", choices=BASES)
        _require_fraction(self.volunteer_share, what=f"volunteer_share of actor {self.id!r}")
        for function, capacity in self.capacities.items():
            _require_choice(
                function, what=f"function in capacities of {self.id!r}", choices=CRITICAL_FUNCTIONS
            )
            if isinstance(capacity, bool) or not isinstance(capacity, int):
                raise TypeError(
                    f"capacity {function!r} of actor {self.id!r} must be a whole "
                    f"number of households, got {capacity!r}"
                )
            if capacity < 0:
                raise ValueError(
                    f"capacity {function!r} of actor {self.id!r} is negative ({capacity})"
                )
        object.__setattr__(self, "service_area", tuple(self.service_area))


@dataclass(frozen=True, kw_only=True)
class PostInput:
    """A post held by a person in an actor, as the governance model reads it; ``is_key`` marks
    leading posts."""

    person_id: str
    actor_id: str
    role: str
    is_key: bool = False
    basis: str = "recorded"

    def __post_init__(self) -> None:
        _require_text(self.person_id, what="post person_id")
        _require_choice(self.basis, what=f"basis of post {self.role!r}", choices=BASES)


@dataclass(frozen=True, kw_only=True)
class Contribution:
    """What an actor gave: ``amount`` of ``kind`` (one unit per kind across the community)."""

    actor_id: str
    kind: str
    amount: float
    basis: str

    def __post_init__(self) -> None:
        _require_choice(self.kind, what="contribution kind", choices=CONTRIBUTION_KINDS)
        _require_choice(self.basis, what="contribution basis", choices=BASES)
        if isinstance(self.amount, bool) or not isinstance(self.amount, int | float):
            raise TypeError(f"contribution amount must be a number, got {self.amount!r}")
        if not math.isfinite(self.amount) or self.amount < 0:
            raise ValueError(
                f"contribution amount of {self.actor_id!r} must be finite and "
                f"non-negative, got {self.amount}"
            )


@dataclass(frozen=True, kw_only=True)
class Link:
    """A funding or command line from ``from_actor`` to ``to_actor``.

    ``dependence`` is the share of ``to_actor``'s capacity that stops when ``from_actor`` drops
    out (0 = the link is a tie in the network only).
    """

    from_actor: str
    to_actor: str
    kind: str
    dependence: float = 0.0
    basis: str = "recorded"

    def __post_init__(self) -> None:
        _require_choice(self.kind, what="link kind", choices=LINK_KINDS)
        _require_choice(self.basis, what="link basis", choices=BASES)
        _require_fraction(
            self.dependence, what=f"dependence of {self.to_actor!r} on {self.from_actor!r}"
        )
        if self.from_actor == self.to_actor:
            raise ValueError(f"link from actor {self.from_actor!r} to itself")


@dataclass(frozen=True, kw_only=True)
class HouseholdInput:
    """A household as the governance model reads it: its area and whether it counts as vulnerable."""

    id: str
    area: str
    vulnerable: bool = False

    def __post_init__(self) -> None:
        _require_text(self.id, what="household id")
        _require_text(self.area, what=f"area of household {self.id!r}")
        if not isinstance(self.vulnerable, bool):
            raise TypeError(f"vulnerable of household {self.id!r} must be a bool")


@dataclass(frozen=True, kw_only=True)
class GovernanceInputs:
    """Everything the governance model reads about one community, checked for consistency."""

    community: str
    actors: Sequence[ActorInput]
    households: Sequence[HouseholdInput]
    posts: Sequence[PostInput] = ()
    contributions: Sequence[Contribution] = ()
    links: Sequence[Link] = ()

    def __post_init__(self) -> None:
        for name in ("actors", "households", "posts", "contributions", "links"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        ids = [actor.id for actor in self.actors]
        if not ids:
            raise ValueError("a community needs at least one actor")
        duplicates = sorted(actor_id for actor_id, n in Counter(ids).items() if n > 1)
        if duplicates:
            raise ValueError(f"duplicate actor ids: {duplicates}")
        household_ids = [household.id for household in self.households]
        if len(set(household_ids)) != len(household_ids):
            raise ValueError("duplicate household ids")
        known = set(ids)
        for post in self.posts:
            if post.actor_id not in known:
                raise ValueError(
                    f"post {post.role!r} of {post.person_id!r} is for unknown actor "
                    f"{post.actor_id!r}"
                )
        for contribution in self.contributions:
            if contribution.actor_id not in known:
                raise ValueError(f"contribution for unknown actor {contribution.actor_id!r}")
        dependence: dict[str, float] = defaultdict(float)
        for link in self.links:
            for end in (link.from_actor, link.to_actor):
                if end not in known:
                    raise ValueError(f"{link.kind} link names unknown actor {end!r}")
            dependence[link.to_actor] += link.dependence
        for actor_id, total in dependence.items():
            if total > 1 + 1e-9:
                raise ValueError(f"dependences of actor {actor_id!r} sum to {total:g} > 1")

    @cached_property
    def household_groups(self) -> tuple[DemandGroup, ...]:
        """Households counted by (area, vulnerable); stress tests reuse it for every scenario."""
        counts: dict[tuple[str, bool], int] = defaultdict(int)
        for household in self.households:
            counts[(household.area, household.vulnerable)] += 1
        return tuple(
            DemandGroup(area=area, vulnerable=vulnerable, count=count)
            for (area, vulnerable), count in sorted(counts.items())
        )

    def actor(self, actor_id: str) -> ActorInput:
        """The actor with ``actor_id`` (``KeyError`` if there is none)."""
        for actor in self.actors:
            if actor.id == actor_id:
                return actor
        raise KeyError(actor_id)

    @classmethod
    def from_records(
        cls,
        *,
        community: str,
        actors: Any,
        households: Any,
        posts: Any = (),
        contributions: Any = (),
        links: Any = (),
    ) -> GovernanceInputs:
        """Build inputs from lists of dicts or pandas DataFrames (one row per record).

        Actor capacities may be a nested ``capacities`` mapping or one column per critical
        function (missing or NaN = no capacity); ``service_area`` may be a list or a
        ``;``-separated string. Unknown keys raise ``ValueError`` so typos do not pass silently.

        Examples
        --------
        >>> import pandas as pd
        >>> from civicgrid.engine.governance import GovernanceInputs
        >>> actors = pd.DataFrame([{"id": "shop", "name": "Shop", "sector": "capital",
        ...                         "kind": "business", "food_supply": 40}])
        >>> inputs = GovernanceInputs.from_records(community="c", actors=actors, households=[
        ...     {"id": "h1", "area": "a", "vulnerable": True}])
        >>> dict(inputs.actors[0].capacities)
        {'food_supply': 40}
        """
        return cls(
            community=community,
            actors=[
                _build(ActorInput, actor_record(r, functions=CRITICAL_FUNCTIONS), what="actor")
                for r in rows(actors, what="actors")
            ],
            households=[
                _build(HouseholdInput, r, what="household") for r in rows(households, what="households")
            ],
            posts=[_build(PostInput, r, what="post") for r in rows(posts, what="posts")],
            contributions=[
                _build(Contribution, r, what="contribution")
                for r in rows(contributions, what="contributions")
            ],
            links=[_build(Link, r, what="link") for r in rows(links, what="links")],
        )


def _build(kind: type[Any], record: Mapping[str, Any], *, what: str) -> Any:
    allowed = set(kind.__dataclass_fields__)
    unknown = set(record) - allowed
    if unknown:
        raise ValueError(f"unknown {what} field(s) {sorted(unknown)}; expected {sorted(allowed)}")
    return kind(**record)


def load_governance_fixture(path: str | Path) -> GovernanceInputs:
    """Load a governance YAML fixture (see :mod:`civicgrid.engine._governance_io`).

    Examples
    --------
    >>> import tempfile, textwrap
    >>> from pathlib import Path
    >>> from civicgrid.engine.governance import load_governance_fixture
    >>> text = textwrap.dedent('''
    ...     community: demo
    ...     actors:
    ...       - {id: rc, name: Residents' committee, sector: society, kind: residents_committee,
    ...          capacities: {information_release: 10}}
    ...     households:
    ...       - {area: north, households: 10, vulnerable: 2}
    ... ''')
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "demo.yaml"
    ...     _ = path.write_text(text, encoding="utf-8")
    ...     inputs = load_governance_fixture(path)
    >>> len(inputs.households), sum(h.vulnerable for h in inputs.households)
    (10, 2)
    """
    return GovernanceInputs.from_records(**read_fixture_records(path))


def _basis_of(bases: Iterable[str]) -> str:
    found = set(bases)
    if not found:
        return "none"
    return found.pop() if len(found) == 1 else "mixed"


@dataclass(frozen=True, kw_only=True)
class SectorShares:
    """Each sector's share of one kind of contribution, with its normalised entropy."""

    kind: str
    shares: Mapping[str, float]
    total: float
    balance: float
    basis: str


def _shares_from_totals(kind: str, totals: Mapping[str, float], basis: str) -> SectorShares:
    total = math.fsum(totals.values())
    shares = {sector: totals.get(sector, 0.0) / total for sector in SECTORS}
    return SectorShares(
        kind=kind,
        shares=shares,
        total=total,
        balance=normalised_entropy([shares[s] for s in SECTORS]),
        basis=basis,
    )


def sector_shares(*, inputs: GovernanceInputs) -> tuple[SectorShares, ...]:
    """Sector shares of each contribution kind that has a positive total.

    Examples
    --------
    >>> from civicgrid.engine.governance import (
    ...     ActorInput, Contribution, GovernanceInputs, sector_shares)
    >>> inputs = GovernanceInputs(community="c", households=[], actors=[
    ...     ActorInput(id="a", name="A", sector="state", kind="office"),
    ...     ActorInput(id="b", name="B", sector="society", kind="team")], contributions=[
    ...     Contribution(actor_id="a", kind="work", amount=3, basis="recorded"),
    ...     Contribution(actor_id="b", kind="work", amount=1, basis="declared")])
    >>> (work,) = sector_shares(inputs=inputs)
    >>> work.shares["state"], work.shares["society"], work.basis
    (0.75, 0.25, 'mixed')
    """
    sector_of = {actor.id: actor.sector for actor in inputs.actors}
    shares = []
    for kind in CONTRIBUTION_KINDS:
        totals: dict[str, float] = defaultdict(float)
        bases = []
        for contribution in inputs.contributions:
            if contribution.kind == kind:
                totals[sector_of[contribution.actor_id]] += contribution.amount
                bases.append(contribution.basis)
        if math.fsum(totals.values()) > 0:
            shares.append(_shares_from_totals(kind, totals, _basis_of(bases)))
    return tuple(shares)


def capacity_shares(*, inputs: GovernanceInputs) -> SectorShares | None:
    """Sector shares of declared capacity (households summed over functions); ``None`` if zero."""
    totals: dict[str, float] = defaultdict(float)
    for actor in inputs.actors:
        totals[actor.sector] += sum(actor.capacities.values())
    if math.fsum(totals.values()) <= 0:
        return None
    return _shares_from_totals(
        "capacity", totals, _basis_of(actor.capacity_basis for actor in inputs.actors)
    )


def balance_score(*, shares: Mapping[str, float]) -> float:
    """Normalised Shannon entropy of the three sector shares: ``-sum p ln p / ln 3``.

    1 means an even third each, 0 means one sector holds everything.

    Examples
    --------
    >>> from civicgrid.engine.governance import balance_score
    >>> round(balance_score(shares={"state": 1/3, "capital": 1/3, "society": 1/3}), 12)
    1.0
    >>> balance_score(shares={"state": 1.0, "capital": 0.0, "society": 0.0})
    0.0
    """
    unknown = set(shares) - set(SECTORS)
    if unknown:
        raise ValueError(f"unknown sector(s) {sorted(unknown)}; expected {list(SECTORS)}")
    return normalised_entropy([float(shares.get(sector, 0.0)) for sector in SECTORS])


@dataclass(frozen=True, kw_only=True)
class Fusion:
    """Key posts held by people who also hold a post in an actor of another sector."""

    score: float
    key_posts: int
    fused_key_posts: int
    fused_people: tuple[str, ...]
    basis: str


def fusion(*, inputs: GovernanceInputs) -> Fusion:
    """Share of key posts whose holder also holds a post in an actor of another sector.

    A community with no key posts scores 0 (nothing to be fused).

    Examples
    --------
    >>> from civicgrid.engine.governance import ActorInput, GovernanceInputs, PostInput, fusion
    >>> inputs = GovernanceInputs(community="c", households=[], actors=[
    ...     ActorInput(id="pc", name="PC", sector="state", kind="party_committee"),
    ...     ActorInput(id="firm", name="Firm", sector="capital", kind="enterprise"),
    ...     ActorInput(id="rc", name="RC", sector="society", kind="residents_committee")], posts=[
    ...     PostInput(person_id="x", actor_id="pc", role="secretary", is_key=True),
    ...     PostInput(person_id="x", actor_id="firm", role="board member"),
    ...     PostInput(person_id="y", actor_id="rc", role="director", is_key=True)])
    >>> fusion(inputs=inputs).score
    0.5
    """
    sector_of = {actor.id: actor.sector for actor in inputs.actors}
    sectors_of_person: dict[str, set[str]] = defaultdict(set)
    for post in inputs.posts:
        sectors_of_person[post.person_id].add(sector_of[post.actor_id])
    key_posts = [post for post in inputs.posts if post.is_key]
    fused = [
        post for post in key_posts if sectors_of_person[post.person_id] - {sector_of[post.actor_id]}
    ]
    return Fusion(
        score=len(fused) / len(key_posts) if key_posts else 0.0,
        key_posts=len(key_posts),
        fused_key_posts=len(fused),
        fused_people=tuple(sorted({post.person_id for post in fused})),
        basis=_basis_of(post.basis for post in inputs.posts),
    )


def actor_network(*, inputs: GovernanceInputs) -> nx.Graph:
    """Undirected actor network: an edge wherever actors share people, funding or command.

    Nodes carry ``name``, ``sector`` and ``kind``. Edges carry ``relations`` (sorted tuple of
    ``"shared_people"``, ``"funding"``, ``"command"``), ``shared_people`` (number of people
    with posts in both actors) and ``lines`` (the directed funding and command links as
    ``(kind, from, to, dependence)``), so a page can draw arrows.

    Examples
    --------
    >>> from civicgrid.engine.governance import ActorInput, GovernanceInputs, Link, actor_network
    >>> inputs = GovernanceInputs(community="c", households=[], actors=[
    ...     ActorInput(id="a", name="A", sector="state", kind="office"),
    ...     ActorInput(id="b", name="B", sector="society", kind="team")],
    ...     links=[Link(from_actor="a", to_actor="b", kind="funding", dependence=0.5)])
    >>> actor_network(inputs=inputs).edges["a", "b"]["relations"]
    ('funding',)
    """
    graph = nx.Graph(community=inputs.community)
    for actor in inputs.actors:
        graph.add_node(actor.id, name=actor.name, sector=actor.sector, kind=actor.kind)

    def edge(u: str, v: str) -> dict[str, Any]:
        if not graph.has_edge(u, v):
            graph.add_edge(u, v, relations=set(), shared_people=0, lines=[])
        data: dict[str, Any] = graph.edges[u, v]
        return data

    actors_of_person: dict[str, set[str]] = defaultdict(set)
    for post in inputs.posts:
        actors_of_person[post.person_id].add(post.actor_id)
    for held in actors_of_person.values():
        ordered = sorted(held)
        for i, u in enumerate(ordered):
            for v in ordered[i + 1 :]:
                data = edge(u, v)
                data["relations"].add("shared_people")
                data["shared_people"] += 1
    for link in inputs.links:
        data = edge(link.from_actor, link.to_actor)
        data["relations"].add(link.kind)
        data["lines"].append((link.kind, link.from_actor, link.to_actor, link.dependence))
    for _, _, data in graph.edges(data=True):
        data["relations"] = tuple(sorted(data["relations"]))
        data["lines"] = tuple(data["lines"])
    return graph


def degree_centralization(*, graph: nx.Graph) -> float:
    """Freeman degree centralisation: ``sum(d_max - d_i) / ((n - 1)(n - 2))``.

    1 for a star (one actor tied to all, none tied to each other), 0 when every actor has the same
    number of ties; graphs with fewer than three nodes score 0.

    Examples
    --------
    >>> import networkx as nx
    >>> from civicgrid.engine.governance import degree_centralization
    >>> degree_centralization(graph=nx.star_graph(4)), degree_centralization(graph=nx.cycle_graph(5))
    (1.0, 0.0)
    """
    return freeman_degree_centralization(graph)


@dataclass(frozen=True, kw_only=True)
class FunctionCoverage:
    """Coverage of one critical function.

    ``uncovered`` households cannot be served within the providers' capacities (vulnerable
    households are served first); ``without_provider`` households live where no provider with
    capacity left operates at all. Both count households in the function's demand.
    """

    function: str
    providers: tuple[str, ...]
    capacity: int
    demand: int
    vulnerable_demand: int
    uncovered: int
    uncovered_vulnerable: int
    without_provider: int
    without_provider_vulnerable: int
    basis: str


def _demand_groups(inputs: GovernanceInputs, function: str) -> list[DemandGroup]:
    return [
        group
        for group in inputs.household_groups
        if group.vulnerable or function not in VULNERABLE_ONLY_FUNCTIONS
    ]


def _removed_actors(
    inputs: GovernanceInputs, *, remove_actors: Iterable[str], remove_sectors: Iterable[str]
) -> tuple[str, ...]:
    known = {actor.id for actor in inputs.actors}
    removed = set()
    for actor_id in remove_actors:
        if actor_id not in known:
            raise ValueError(f"cannot remove unknown actor {actor_id!r}")
        removed.add(actor_id)
    for sector in remove_sectors:
        _require_choice(sector, what="sector to remove", choices=SECTORS)
        removed.update(actor.id for actor in inputs.actors if actor.sector == sector)
    return tuple(sorted(removed))


def function_coverage(
    *,
    inputs: GovernanceInputs,
    remove_actors: Iterable[str] = (),
    remove_sectors: Iterable[str] = (),
    volunteer_loss: float = 0.0,
) -> tuple[FunctionCoverage, ...]:
    """Coverage of every critical function, optionally after actors or volunteers drop out.

    Removed actors lose all capacity; actors depending on them through links lose the declared
    ``dependence`` share (transitively); every actor loses ``volunteer_share * volunteer_loss`` of
    what remains. Households are then assigned to providers in their area up to capacity.

    Examples
    --------
    >>> from civicgrid.engine.governance import (
    ...     ActorInput, GovernanceInputs, HouseholdInput, function_coverage)
    >>> inputs = GovernanceInputs(community="c", actors=[
    ...     ActorInput(id="shop", name="Shop", sector="capital", kind="business",
    ...           capacities={"food_supply": 1})], households=[
    ...     HouseholdInput(id="h1", area="a", vulnerable=True), HouseholdInput(id="h2", area="a")])
    >>> food = function_coverage(inputs=inputs)[0]
    >>> food.function, food.uncovered, food.uncovered_vulnerable
    ('food_supply', 1, 0)
    """
    _require_fraction(volunteer_loss, what="volunteer_loss")
    removed = _removed_actors(inputs, remove_actors=remove_actors, remove_sectors=remove_sectors)
    dependences: dict[tuple[str, str], float] = defaultdict(float)
    for link in inputs.links:
        dependences[(link.from_actor, link.to_actor)] += link.dependence
    available = availability(
        actor_ids=[actor.id for actor in inputs.actors], removed=removed, dependences=dependences
    )
    capacity_basis = _basis_of(actor.capacity_basis for actor in inputs.actors)
    coverage = []
    for function in CRITICAL_FUNCTIONS:
        providers = []
        for actor in inputs.actors:
            capacity = effective_capacity(
                capacity=actor.capacities.get(function, 0),
                available=available[actor.id],
                volunteer_share=actor.volunteer_share,
                volunteer_loss=volunteer_loss,
            )
            if capacity > 0:
                areas = frozenset(actor.service_area) if actor.service_area else None
                providers.append(Provider(actor_id=actor.id, capacity=capacity, areas=areas))
        groups = _demand_groups(inputs, function)
        served, served_vulnerable = served_households(groups=groups, providers=providers)
        unreachable = [g for g in groups if not any(p.serves(g.area) for p in providers)]
        demand = sum(g.count for g in groups)
        vulnerable_demand = sum(g.count for g in groups if g.vulnerable)
        coverage.append(
            FunctionCoverage(
                function=function,
                providers=tuple(p.actor_id for p in providers),
                capacity=sum(p.capacity for p in providers),
                demand=demand,
                vulnerable_demand=vulnerable_demand,
                uncovered=demand - served,
                uncovered_vulnerable=vulnerable_demand - served_vulnerable,
                without_provider=sum(g.count for g in unreachable),
                without_provider_vulnerable=sum(g.count for g in unreachable if g.vulnerable),
                basis=capacity_basis,
            )
        )
    return tuple(coverage)


@dataclass(frozen=True, kw_only=True)
class StressScenario:
    """Actors and sectors to remove and the share of volunteers lost (e.g. to sickness)."""

    name: str
    remove_actors: tuple[str, ...] = ()
    remove_sectors: tuple[str, ...] = ()
    volunteer_loss: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "remove_actors", tuple(self.remove_actors))
        object.__setattr__(self, "remove_sectors", tuple(self.remove_sectors))
        _require_fraction(self.volunteer_loss, what="volunteer_loss")


@dataclass(frozen=True, kw_only=True)
class StressResult:
    """Coverage after a scenario, and what it lost against the unstressed community.

    ``newly_uncovered[f]`` (and its ``_vulnerable`` twin) is the rise in uncovered households for
    function ``f``; ``max_newly_uncovered`` is its maximum over functions, a lower bound on the
    households that lose at least one critical function.
    """

    scenario: StressScenario
    removed: tuple[str, ...]
    coverage: tuple[FunctionCoverage, ...]
    functions_losing_coverage: tuple[str, ...]
    newly_uncovered: Mapping[str, int]
    newly_uncovered_vulnerable: Mapping[str, int]
    newly_without_provider: Mapping[str, int]
    newly_without_provider_vulnerable: Mapping[str, int]
    max_newly_uncovered: int
    max_newly_uncovered_vulnerable: int
    basis: str


def stress_test(
    *,
    inputs: GovernanceInputs,
    scenario: StressScenario,
    baseline: Sequence[FunctionCoverage] | None = None,
) -> StressResult:
    """Run one stress scenario against ``baseline`` (computed when not given).

    Examples
    --------
    >>> from civicgrid.engine.governance import (
    ...     ActorInput, GovernanceInputs, HouseholdInput, StressScenario, stress_test)
    >>> inputs = GovernanceInputs(community="c", actors=[
    ...     ActorInput(id="clinic", name="Clinic", sector="state", kind="health_station",
    ...           capacities={"medicine": 2})], households=[
    ...     HouseholdInput(id="h1", area="a", vulnerable=True), HouseholdInput(id="h2", area="a")])
    >>> result = stress_test(inputs=inputs,
    ...                      scenario=StressScenario(name="no clinic", remove_actors=("clinic",)))
    >>> result.functions_losing_coverage, result.max_newly_uncovered_vulnerable
    (('medicine',), 1)
    """
    if baseline is None:
        baseline = function_coverage(inputs=inputs)
    removed = _removed_actors(
        inputs, remove_actors=scenario.remove_actors, remove_sectors=scenario.remove_sectors
    )
    after = function_coverage(
        inputs=inputs, remove_actors=removed, volunteer_loss=scenario.volunteer_loss
    )
    before = {c.function: c for c in baseline}

    def rise(attribute: str) -> dict[str, int]:
        return {
            c.function: max(0, getattr(c, attribute) - getattr(before[c.function], attribute))
            for c in after
        }

    uncovered, uncovered_vulnerable = rise("uncovered"), rise("uncovered_vulnerable")
    return StressResult(
        scenario=scenario,
        removed=removed,
        coverage=after,
        functions_losing_coverage=tuple(f for f in CRITICAL_FUNCTIONS if uncovered[f] > 0),
        newly_uncovered=uncovered,
        newly_uncovered_vulnerable=uncovered_vulnerable,
        newly_without_provider=rise("without_provider"),
        newly_without_provider_vulnerable=rise("without_provider_vulnerable"),
        max_newly_uncovered=max(uncovered.values()),
        max_newly_uncovered_vulnerable=max(uncovered_vulnerable.values()),
        # The losses rest on declared or recorded capacities and on the links' dependences.
        basis=_basis_of(
            [after[0].basis] + [link.basis for link in inputs.links if link.dependence > 0]
        ),
    )


@dataclass(frozen=True, kw_only=True)
class SinglePointOfFailure:
    """An actor whose removal alone leaves households with no provider for some functions."""

    actor_id: str
    name: str
    sector: str
    functions: tuple[str, ...]
    households_without_provider: int
    vulnerable_without_provider: int


def single_points_of_failure(
    *,
    inputs: GovernanceInputs,
    baseline: Sequence[FunctionCoverage] | None = None,
    results: Sequence[StressResult] = (),
) -> tuple[SinglePointOfFailure, ...]:
    """Actors whose removal alone (with what depends on them) leaves households with no provider.

    Counts are maxima over the affected functions; capacity shortfalls without a structural gap
    are not single points of failure (they show in :func:`stress_test`). Sorted by vulnerable,
    then all households left without a provider, descending. Single-actor ``results`` already
    computed against the same ``baseline`` are reused.

    Examples
    --------
    >>> from civicgrid.engine.governance import (
    ...     ActorInput, GovernanceInputs, HouseholdInput, single_points_of_failure)
    >>> inputs = GovernanceInputs(community="c", actors=[
    ...     ActorInput(id="clinic", name="Clinic", sector="state", kind="health_station",
    ...           capacities={"medicine": 5}),
    ...     ActorInput(id="shop", name="Shop", sector="capital", kind="business",
    ...           capacities={"food_supply": 5}),
    ...     ActorInput(id="team", name="Team", sector="society", kind="volunteer_team",
    ...           capacities={"food_supply": 5})],
    ...     households=[HouseholdInput(id="h1", area="a", vulnerable=True)])
    >>> [(p.actor_id, p.functions) for p in single_points_of_failure(inputs=inputs)]
    [('clinic', ('medicine',))]
    """
    if baseline is None:
        baseline = function_coverage(inputs=inputs)
    known = {
        r.scenario.remove_actors: r
        for r in results
        if len(r.scenario.remove_actors) == 1
        and not r.scenario.remove_sectors
        and r.scenario.volunteer_loss == 0
    }
    found = []
    for actor in inputs.actors:
        result = known.get((actor.id,)) or stress_test(
            inputs=inputs,
            baseline=baseline,
            scenario=StressScenario(name=actor.id, remove_actors=(actor.id,)),
        )
        functions = tuple(f for f in CRITICAL_FUNCTIONS if result.newly_without_provider[f] > 0)
        if functions:
            found.append(
                SinglePointOfFailure(
                    actor_id=actor.id,
                    name=actor.name,
                    sector=actor.sector,
                    functions=functions,
                    households_without_provider=max(result.newly_without_provider.values()),
                    vulnerable_without_provider=max(
                        result.newly_without_provider_vulnerable.values()
                    ),
                )
            )
    return tuple(
        sorted(
            found,
            key=lambda s: (
                -s.vulnerable_without_provider,
                -s.households_without_provider,
                s.actor_id,
            ),
        )
    )


def default_scenarios(
    *, inputs: GovernanceInputs, volunteer_losses: Sequence[float] = (0.25, 0.5)
) -> tuple[StressScenario, ...]:
    """One scenario per actor, one per sector present, and one per share of volunteers lost."""
    scenarios = [
        StressScenario(name=f"without {actor.name}", remove_actors=(actor.id,))
        for actor in inputs.actors
    ]
    present = {actor.sector for actor in inputs.actors}
    scenarios += [
        StressScenario(name=f"without the {sector} sector", remove_sectors=(sector,))
        for sector in SECTORS
        if sector in present
    ]
    scenarios += [
        StressScenario(name=f"{loss:.0%} of volunteers lost", volunteer_loss=loss)
        for loss in volunteer_losses
    ]
    return tuple(scenarios)


@dataclass(frozen=True, kw_only=True)
class GovernanceReport:
    """The full governance report of one community (see the module docstring for formulas)."""

    community: str
    shares: tuple[SectorShares, ...]
    capacity_shares: SectorShares | None
    balance: float
    balance_basis: str
    society_strength: float
    fusion: Fusion
    network: nx.Graph
    centralization: float
    network_basis: str
    coverage: tuple[FunctionCoverage, ...]
    stress_tests: tuple[StressResult, ...]
    single_points_of_failure: tuple[SinglePointOfFailure, ...]
    fused: bool
    society_weak: bool
    thresholds: Mapping[str, float]
    notes: tuple[str, ...]


def governance_report(
    *,
    inputs: GovernanceInputs,
    scenarios: Sequence[StressScenario] | None = None,
    volunteer_losses: Sequence[float] = (0.25, 0.5),
    fused_threshold: float = 0.5,
    weak_society_threshold: float = 1 / 6,
) -> GovernanceReport:
    """Build the governance report of one community.

    Parameters
    ----------
    inputs : GovernanceInputs
        The community's actors, posts, contributions, links and households.
    scenarios : sequence of StressScenario, optional
        Stress tests to run; by default :func:`default_scenarios` (each actor, each sector, and
        each share in ``volunteer_losses``).
    volunteer_losses : sequence of float
        Shares of volunteers lost used by the default scenarios.
    fused_threshold : float
        The community is rated ``fused`` when the fusion score reaches this value (default: half
        of the key posts straddle sectors).
    weak_society_threshold : float
        Society is rated weak when its strength is below this value (default 1/6: half of an even
        third).

    Returns
    -------
    GovernanceReport
        Balance uses contributions where any exist; otherwise the declared capacity shares stand
        in, and ``balance_basis`` says so.

    Examples
    --------
    See the module docstring.
    """
    _require_fraction(fused_threshold, what="fused_threshold")
    _require_fraction(weak_society_threshold, what="weak_society_threshold")
    shares = sector_shares(inputs=inputs)
    capacity = capacity_shares(inputs=inputs)
    notes = []
    used: Sequence[SectorShares] = shares
    if not shares:
        if capacity is None:
            raise ValueError(
                f"community {inputs.community!r} has neither contributions nor "
                "capacities: balance cannot be computed"
            )
        used = (capacity,)
        notes.append("no contributions: balance and society strength use declared capacities")
    missing = [k for k in CONTRIBUTION_KINDS if k not in {s.kind for s in shares}]
    if shares and missing:
        notes.append(f"no contributions of kind(s) {', '.join(missing)}: left out of the balance")
    balance = math.fsum(s.balance for s in used) / len(used)
    society = math.fsum(s.shares["society"] for s in used) / len(used)
    baseline = function_coverage(inputs=inputs)
    if scenarios is None:
        scenarios = default_scenarios(inputs=inputs, volunteer_losses=volunteer_losses)
    results = tuple(stress_test(inputs=inputs, scenario=s, baseline=baseline) for s in scenarios)
    network = actor_network(inputs=inputs)
    fused = fusion(inputs=inputs)
    return GovernanceReport(
        community=inputs.community,
        shares=shares,
        capacity_shares=capacity,
        balance=balance,
        balance_basis=_basis_of(s.basis for s in used),
        society_strength=society,
        fusion=fused,
        network=network,
        centralization=degree_centralization(graph=network),
        network_basis=_basis_of([p.basis for p in inputs.posts] + [k.basis for k in inputs.links]),
        coverage=baseline,
        stress_tests=results,
        single_points_of_failure=single_points_of_failure(
            inputs=inputs, baseline=baseline, results=results
        ),
        fused=fused.score >= fused_threshold,
        society_weak=society < weak_society_threshold,
        thresholds={"fused": fused_threshold, "weak_society": weak_society_threshold},
        notes=tuple(notes),
    )


__all__ = [
    "BASES",
    "CONTRIBUTION_KINDS",
    "CRITICAL_FUNCTIONS",
    "LINK_KINDS",
    "SECTORS",
    "ActorInput",
    "Contribution",
    "Fusion",
    "FunctionCoverage",
    "GovernanceInputs",
    "GovernanceReport",
    "HouseholdInput",
    "Link",
    "PostInput",
    "SectorShares",
    "SinglePointOfFailure",
    "StressResult",
    "StressScenario",
    "actor_network",
    "balance_score",
    "capacity_shares",
    "default_scenarios",
    "degree_centralization",
    "fusion",
    "function_coverage",
    "governance_report",
    "load_governance_fixture",
    "report_to_dict",
    "report_to_json",
    "report_to_text",
    "sector_shares",
    "single_points_of_failure",
    "stress_test",
]
