"""The simulated population: households as a structure of arrays, and where its figures come from.

Every household is one entry of each array (``np.int16``/``np.int32``/``np.float32`` where that
suffices), never a Python object, so a million households fit in a few tens of megabytes.

Needs (one row of :data:`KINDS` each; the ``units`` of a need event depend on the household):

============ ================= ==== ===== ======== =====================================================
kind         critical function tier goods interval source or assumption
============ ================= ==== ===== ======== =====================================================
food         food_supply       1    yes   3 days   units are person-days of food (Sphere 2018 food
                                                   security standard 6.1: 2,100 kcal per person per day);
                                                   a delivery every 3 days is an assumption (the
                                                   community group-buying rhythm of the 2020 lockdowns)
medicine     medicine          1    yes   7 days   one pack per resident with a chronic illness; a
                                                   weekly refill is an assumption
insulin      medicine          0    yes   7 days   life-critical. Assumption: 8 % of residents with a
                                                   chronic illness use insulin (China: diabetes in
                                                   12.8 % of adults, Li et al., BMJ 2020; about a
                                                   quarter of treated patients on insulin)
dialysis     medicine          0    no    2 days   life-critical transport. Haemodialysis three times a
                                                   week (KDOQI 2015 guideline). Assumption: 2 % of
                                                   residents with a chronic illness (China: about
                                                   0.05 % of the population, CNRDS 2020)
elder_care   care_vulnerable   1    no    2 days   a visit to each resident aged 60+ living alone;
                                                   every second day is an assumption (seed 000, 4.2:
                                                   "paired help, care services")
psychosocial care_vulnerable   2    no    7 days   a weekly visit to each household with mental-health
                                                   needs (seed 000, 4.2: Tongmeng's "psychological
                                                   counseling"); weekly is an assumption
============ ================= ==== ===== ======== =====================================================

Goods come from the stock of the household's distribution point (one per grid, an assumption)
and reach the household when it fetches them itself or a volunteer visits; services need a visit.
A household **can fetch** when one of its residents is aged 18-69 without limited mobility or a
severe disability (assumption). Each volunteer makes :data:`VISITS_PER_VOLUNTEER_PER_DAY` visits a
day (assumption: Wuhan's 2020 volunteers reported 20-40 deliveries a day; the low end is taken).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from civicgrid.engine import _population as pop
from civicgrid.engine.governance import ActorInput, GovernanceInputs, Link

KINDS: tuple[str, ...] = ("food", "medicine", "insulin", "dialysis", "elder_care", "psychosocial")
KIND_FUNCTION: tuple[str, ...] = (
    "food_supply",
    "medicine",
    "medicine",
    "medicine",
    "care_vulnerable",
    "care_vulnerable",
)
KIND_TIER = np.array([1, 1, 0, 0, 1, 2], dtype=np.int64)
KIND_GOODS = np.array([True, True, True, False, False, False])
KIND_INTERVAL = np.array([3, 7, 7, 2, 2, 7], dtype=np.int16)
GOODS: tuple[int, ...] = tuple(int(k) for k in np.flatnonzero(KIND_GOODS))
SERVICES: tuple[int, ...] = tuple(int(k) for k in np.flatnonzero(~KIND_GOODS))
SIM_FUNCTIONS: tuple[str, ...] = ("food_supply", "medicine", "care_vulnerable")

INSULIN_SHARE_OF_CHRONIC = 0.08  # assumption, see the table above
DIALYSIS_SHARE_OF_CHRONIC = 0.02  # assumption, see the table above
CHRONIC_RATE_BY_BAND = ((0, 0.03), (15, 0.10), (60, 0.45), (80, 0.65))  # as in synth (_population)
VISITS_PER_VOLUNTEER_PER_DAY = 20
# Governance fixtures list no residents: a vulnerable household there is given the facts of a
# typical vulnerable household, drawn with these rates (assumptions, labelled).
FIXTURE_VULNERABLE_RATES = {"chronic": 0.6, "elder_alone": 0.4, "psychosocial": 0.1, "fetch": 0.3}
FIXTURE_OTHER_RATES = {"chronic": 0.15, "elder_alone": 0.0, "psychosocial": 0.01, "fetch": 0.95}
FIXTURE_VOLUNTEERS_PER_100_HOUSEHOLDS = 5  # about 2 % of residents, as in synth


@dataclass(frozen=True, eq=False)
class Population:
    """Households (one entry per household in every array) and who can serve them.

    ``units[k, i]`` is what household ``i`` needs per need event of kind ``KINDS[k]`` (0: never).
    ``area`` indexes ``areas`` (grids); the distribution point is the area. Volunteers are one
    entry each: their area and the index of their actor in ``actors``.
    """

    household_ids: npt.NDArray[np.str_] | npt.NDArray[np.object_]
    areas: tuple[str, ...]
    area: npt.NDArray[np.int32]
    size: npt.NDArray[np.int16]
    weight: npt.NDArray[np.float32]
    vulnerable: npt.NDArray[np.bool_]
    can_fetch: npt.NDArray[np.bool_]
    units: npt.NDArray[np.int16]
    actors: tuple[ActorInput, ...]
    links: tuple[Link, ...] = ()
    volunteer_area: npt.NDArray[np.int32] = field(
        default_factory=lambda: np.zeros(0, dtype=np.int32)
    )
    volunteer_actor: npt.NDArray[np.int32] = field(
        default_factory=lambda: np.zeros(0, dtype=np.int32)
    )

    @property
    def n(self) -> int:
        return int(self.area.size)

    def governance_inputs(self) -> GovernanceInputs:
        """The same community as the governance engine reads it (for coverage cross-checks)."""
        from civicgrid.engine.governance import HouseholdInput

        return GovernanceInputs(
            community="simulated",
            actors=self.actors,
            links=self.links,
            households=[
                HouseholdInput(id=str(h), area=self.areas[a], vulnerable=bool(v))
                for h, a, v in zip(
                    self.household_ids.tolist(),
                    self.area.tolist(),
                    self.vulnerable.tolist(),
                    strict=True,
                )
            ],
        )


def _units(
    *,
    size: npt.NDArray[np.int16],
    chronic: npt.NDArray[np.integer],
    insulin: npt.NDArray[np.integer],
    dialysis: npt.NDArray[np.integer],
    elder_alone: npt.NDArray[np.integer],
    psychosocial: npt.NDArray[np.integer],
) -> npt.NDArray[np.int16]:
    units = np.zeros((len(KINDS), size.size), dtype=np.int16)
    units[0] = size * KIND_INTERVAL[0]  # person-days of food per delivery
    units[1] = chronic
    units[2] = insulin
    units[3] = np.minimum(dialysis, 1)  # one trip takes the household's patients
    units[4] = np.minimum(elder_alone, 1)
    units[5] = np.minimum(psychosocial, 1)
    return units


def synthetic_population(*, households: int, seed: int, grids: int | None = None) -> Population:
    """A census-like population drawn directly as arrays (no names or codes), for scale runs.

    Household sizes follow China's 2020 census (:mod:`civicgrid.engine._population`); per
    household, the counts of residents aged 60+ (18.7 %) and with a chronic illness are binomial
    draws at the census-weighted rates; a household can fetch when it has a resident under 60 or
    an older one without limited mobility (12 %, assumption). Actors follow :func:`civicgrid.engine.synth.generate_community`'s per-community set,
    scaled to the population.

    Examples
    --------
    >>> from civicgrid.engine._simulation_model import synthetic_population
    >>> population = synthetic_population(households=1000, seed=1)
    >>> population.n, population.units.shape, population.units.dtype.name
    (1000, (6, 1000), 'int16')
    """
    rng = np.random.default_rng([seed, 0x5EED])
    n = int(households)
    n_grids = grids or max(1, round(n / 278))  # synth: 12 grids per 3,333 households
    sizes = np.array(list(pop.HOUSEHOLD_SIZE_SHARES), dtype=np.int16)
    p = np.array(list(pop.HOUSEHOLD_SIZE_SHARES.values()))
    size = sizes[rng.choice(sizes.size, size=n, p=p / p.sum())]
    n_old = rng.binomial(size, 0.187).astype(np.int16)
    chronic = rng.binomial(size, 0.10 * 0.81 + 0.45 * 0.187).astype(np.int16)
    insulin = rng.binomial(chronic, INSULIN_SHARE_OF_CHRONIC).astype(np.int16)
    dialysis = rng.binomial(chronic, DIALYSIS_SHARE_OF_CHRONIC).astype(np.int16)
    # one-person households of an older resident: the elderly living alone
    elder_alone = ((size == 1) & (n_old == 1)).astype(np.int16)
    psychosocial = rng.binomial(size, pop.MENTAL_HEALTH_RATE).astype(np.int16)
    limited = rng.binomial(n_old, 0.12)
    can_fetch = (size - n_old) > 0
    can_fetch |= (n_old - limited) > 0
    score = 0.2 * n_old + 0.3 * elder_alone + 0.1 * chronic + 0.2 * psychosocial + 0.3 * limited
    income = rng.random(n)
    score += np.where(income < 0.002, 0.5, np.where(income < 0.017, 0.4, np.where(income < 0.047, 0.2, 0)))
    area = (np.arange(n, dtype=np.int64) * n_grids // n).astype(np.int32)
    areas = tuple(f"G{g + 1:05d}" for g in range(n_grids))
    actors = _scaled_actors(n_households=n)
    team = next(i for i, a in enumerate(actors) if a.kind == "volunteer_team")
    n_vol = int(round(pop.VOLUNTEER_SHARE * float(size.sum())))
    volunteer_area = np.sort(rng.integers(0, n_grids, size=n_vol)).astype(np.int32)
    return Population(
        household_ids=np.arange(n).astype(str),
        areas=areas,
        area=area,
        size=size,
        weight=(1.0 + score).astype(np.float32),
        vulnerable=score >= 0.3,
        can_fetch=can_fetch,
        units=_units(
            size=size,
            chronic=chronic,
            insulin=insulin,
            dialysis=dialysis,
            elder_alone=elder_alone,
            psychosocial=psychosocial,
        ),
        actors=actors,
        volunteer_area=volunteer_area,
        volunteer_actor=np.full(n_vol, team, dtype=np.int32),
    )


def _scaled_actors(*, n_households: int) -> tuple[ActorInput, ...]:
    """The actor set synth gives one community, with capacities scaled to ``n_households``."""
    n = n_households
    return (
        ActorInput(id="party", name="Party committee", sector="state", kind="party_committee",
                   capacities={"information_release": n}),
        ActorInput(id="committee", name="Residents' committee", sector="society",
                   kind="residents_committee", capacities={"care_vulnerable": max(1, n * 80 // 3333)}),
        ActorInput(id="market", name="Supermarket", sector="capital", kind="shop",
                   capacities={"food_supply": int(n * 0.6)}),
        ActorInput(id="pharmacy", name="Pharmacy", sector="capital", kind="shop",
                   capacities={"medicine": int(n * 0.5)}),
        ActorInput(id="enterprise", name="Enterprise group", sector="capital", kind="enterprise",
                   capacities={"food_supply": int(n * 0.3)}),
        ActorInput(id="team", name="Volunteer team", sector="society", kind="volunteer_team",
                   volunteer_share=1.0,
                   capacities={"food_supply": int(n * 0.2), "care_vulnerable": max(1, n * 60 // 3333)}),
        ActorInput(id="elder-assoc", name="Elderly service association", sector="society",
                   kind="social_organisation",
                   capacities={"care_vulnerable": max(1, n * 200 // 3333), "food_supply": max(1, n * 100 // 3333)}),
        ActorInput(id="clinic", name="Community health station", sector="state",
                   kind="government_department", capacities={"medicine": int(n * 0.6)}),
    )


def population_from_governance(
    inputs: GovernanceInputs,
    *,
    seed: int,
    volunteers_per_100_households: float = FIXTURE_VOLUNTEERS_PER_100_HOUSEHOLDS,
) -> Population:
    """A population for a governance fixture, whose households carry only an area and a flag.

    Facts are drawn with :data:`FIXTURE_VULNERABLE_RATES` / :data:`FIXTURE_OTHER_RATES`
    (assumptions); volunteers are shared among the actors in proportion to ``volunteer_share``
    times their total capacity, and spread over the actors' areas.

    Examples
    --------
    >>> from civicgrid.engine.governance import ActorInput, GovernanceInputs, HouseholdInput
    >>> from civicgrid.engine._simulation_model import population_from_governance
    >>> inputs = GovernanceInputs(community="c", actors=[ActorInput(
    ...     id="team", name="Team", sector="society", kind="volunteer_team",
    ...     capacities={"food_supply": 4}, volunteer_share=1.0)],
    ...     households=[HouseholdInput(id=f"h{i}", area="a", vulnerable=i < 2) for i in range(4)])
    >>> population = population_from_governance(inputs, seed=0)
    >>> population.n, population.areas, int(population.vulnerable.sum())
    (4, ('a',), 2)
    """
    rng = np.random.default_rng([seed, 0xF1C5])
    households = list(inputs.households)
    n = len(households)
    areas = tuple(sorted({h.area for h in households}))
    area_index = {a: i for i, a in enumerate(areas)}
    area = np.array([area_index[h.area] for h in households], dtype=np.int32)
    vulnerable = np.array([h.vulnerable for h in households], dtype=bool)

    def rate(key: str) -> npt.NDArray[np.float64]:
        return np.where(vulnerable, FIXTURE_VULNERABLE_RATES[key], FIXTURE_OTHER_RATES[key])

    size = np.where(vulnerable, 1 + rng.binomial(2, 0.3, n), 2 + rng.binomial(3, 0.3, n)).astype(
        np.int16
    )
    chronic = (rng.random(n) < rate("chronic")).astype(np.int16)
    # every vulnerable household with a chronic illness draws the life-critical needs at the
    # population rates scaled up: the fixtures are small, so a whole community may otherwise
    # have none (assumption)
    insulin = (chronic > 0) & (rng.random(n) < 0.25)
    dialysis = (chronic > 0) & (rng.random(n) < 0.05)
    elder_alone = rng.random(n) < rate("elder_alone")
    size = np.where(elder_alone, 1, size).astype(np.int16)
    psychosocial = rng.random(n) < rate("psychosocial")
    can_fetch = rng.random(n) < rate("fetch")
    actors = tuple(inputs.actors)
    share = np.array([a.volunteer_share * sum(a.capacities.values()) for a in actors], dtype=float)
    n_vol = int(round(volunteers_per_100_households * n / 100))
    if share.sum() > 0 and n_vol > 0:
        per_actor = np.floor(share / share.sum() * n_vol + 0.5).astype(int)
    else:
        per_actor = np.zeros(len(actors), dtype=int)
    vol_actor, vol_area = [], []
    for index, (actor, count) in enumerate(zip(actors, per_actor.tolist(), strict=True)):
        served = [area_index[a] for a in actor.service_area if a in area_index] or list(
            range(len(areas))
        )
        vol_actor += [index] * count
        vol_area += [served[j % len(served)] for j in range(count)]
    return Population(
        household_ids=np.array([h.id for h in households], dtype=object),
        areas=areas,
        area=area,
        size=size,
        weight=np.where(vulnerable, 1.0 + 0.3 + 0.4 * chronic, 1.0).astype(np.float32),
        vulnerable=vulnerable,
        can_fetch=can_fetch,
        units=_units(
            size=size,
            chronic=chronic,
            insulin=insulin.astype(np.int16),
            dialysis=dialysis.astype(np.int16),
            elder_alone=elder_alone.astype(np.int16),
            psychosocial=psychosocial.astype(np.int16),
        ),
        actors=actors,
        links=tuple(inputs.links),
        volunteer_area=np.array(vol_area, dtype=np.int32),
        volunteer_actor=np.array(vol_actor, dtype=np.int32),
    )


def population_from_facts(
    *,
    household_ids: Sequence[str] | npt.NDArray[np.object_],
    area_codes: Sequence[str] | npt.NDArray[np.object_],
    size: npt.ArrayLike,
    weight: npt.ArrayLike,
    vulnerable: npt.ArrayLike,
    can_fetch: npt.ArrayLike,
    chronic: npt.ArrayLike,
    elder_alone: npt.ArrayLike,
    psychosocial: npt.ArrayLike,
    actors: Sequence[ActorInput],
    links: Sequence[Link] = (),
    volunteer_area_codes: Sequence[str] = (),
    volunteer_actor_ids: Sequence[str] = (),
    seed: int = 0,
) -> Population:
    """Build a population from per-household facts (a registry folder or the live database).

    Insulin and dialysis are not recorded in the registry: they are drawn among the residents
    with a chronic illness at :data:`INSULIN_SHARE_OF_CHRONIC` and
    :data:`DIALYSIS_SHARE_OF_CHRONIC` (assumptions), from ``seed``.

    Examples
    --------
    >>> from civicgrid.engine.governance import ActorInput
    >>> from civicgrid.engine._simulation_model import population_from_facts
    >>> population = population_from_facts(
    ...     household_ids=["h1", "h2"], area_codes=["g1", "g2"], size=[1, 3], weight=[1.5, 1.0],
    ...     vulnerable=[True, False], can_fetch=[False, True], chronic=[1, 0], elder_alone=[1, 0],
    ...     psychosocial=[0, 0], actors=[ActorInput(id="a", name="A", sector="state",
    ...     kind="party_committee", capacities={"food_supply": 2})])
    >>> population.areas, population.units[0].tolist(), population.units[4].tolist()
    (('g1', 'g2'), [3, 9], [1, 0])
    """
    rng = np.random.default_rng([seed, 0xFAC7])
    codes = np.asarray(area_codes, dtype=object)
    areas, area = np.unique(codes, return_inverse=True)
    area_index = {str(a): i for i, a in enumerate(areas.tolist())}
    chronic_arr = np.asarray(chronic, dtype=np.int16)
    actor_index = {a.id: i for i, a in enumerate(actors)}
    known = [
        (area_index[a], actor_index[b])
        for a, b in zip(volunteer_area_codes, volunteer_actor_ids, strict=True)
        if a in area_index and b in actor_index
    ]
    size_arr = np.asarray(size, dtype=np.int16)
    return Population(
        household_ids=np.asarray(household_ids, dtype=object),
        areas=tuple(str(a) for a in areas.tolist()),
        area=area.astype(np.int32),
        size=size_arr,
        weight=np.asarray(weight, dtype=np.float32),
        vulnerable=np.asarray(vulnerable, dtype=bool),
        can_fetch=np.asarray(can_fetch, dtype=bool),
        units=_units(
            size=size_arr,
            chronic=chronic_arr,
            insulin=rng.binomial(chronic_arr, INSULIN_SHARE_OF_CHRONIC).astype(np.int16),
            dialysis=rng.binomial(chronic_arr, DIALYSIS_SHARE_OF_CHRONIC).astype(np.int16),
            elder_alone=np.asarray(elder_alone, dtype=np.int16),
            psychosocial=np.asarray(psychosocial, dtype=np.int16),
        ),
        actors=tuple(actors),
        links=tuple(links),
        volunteer_area=np.array([a for a, _ in known], dtype=np.int32),
        volunteer_actor=np.array([b for _, b in known], dtype=np.int32),
    )


def area_capacity_split(
    actor: ActorInput, capacity: int, *, areas: Mapping[str, int], demand: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64] | None:
    """An actor's capacity per area when it serves a list of areas (``None``: it serves all).

    Split in proportion to the areas' demand (assumption: the governance engine solves this as
    a flow; the simulation needs one fixed share per area).
    """
    if not actor.service_area:
        return None
    index = [areas[a] for a in actor.service_area if a in areas]
    out = np.zeros(demand.size)
    if not index:
        return out
    local = demand[index].astype(float)
    total = local.sum()
    out[index] = capacity * (local / total if total > 0 else 1.0 / len(index))
    return out
