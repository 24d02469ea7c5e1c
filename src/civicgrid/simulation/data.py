"""From the live database to the simulation engine's population (the same arrays a registry folder
gives, :func:`civicgrid.engine.simulation.read_registry`).

Households and their residents' facts come from the registry; the weight and the "vulnerable" flag
are the ones the registry stores (the platform's one vulnerability rule); the actors, their service
areas and capacities are the governance page's (:func:`civicgrid.analytics.governance_data.governance_inputs`),
so the two pages read one community the same way; volunteers are the ``volunteer`` posts, placed in the
grid of the resident who holds them.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from civicgrid.analytics.governance_data import community_actors, governance_inputs
from civicgrid.engine.simulation import Population, population_from_facts
from civicgrid.registry.models import Household, Place, Post, Resident, vulnerable_score


def population_for_community(*, community: Place, seed: int, as_of: date | None = None) -> Population:
    as_of = as_of or date.today()
    inputs = governance_inputs(community=community)
    rows = list(Household.objects.filter(place_path__startswith=community.path)
                .order_by("code").values_list("id", "code", "grid__code", "vulnerability_score",
                                             "vulnerability_weight"))
    if not rows:
        raise ValueError(f"community {community.code} has no households")
    index = {hid: i for i, (hid, *_rest) in enumerate(rows)}
    n = len(rows)
    size = np.zeros(n, dtype=np.int16)
    chronic = np.zeros(n, dtype=np.int16)
    able = np.zeros(n, dtype=bool)
    old_alone = np.zeros(n, dtype=bool)
    mental = np.zeros(n, dtype=bool)
    residents = Resident.objects.filter(household__place_path__startswith=community.path).values_list(
        "household_id", "birth_date", "lives_alone", "disability_grade", "chronic_illness", "limited_mobility",
        "mental_health_needs")
    for hid, born, alone, grade, ill, limited, needs in residents.iterator(chunk_size=5000):
        i = index[hid]
        age = as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
        size[i] += 1
        chronic[i] += bool(ill)
        able[i] |= 18 <= age < 70 and not limited and not (grade is not None and 1 <= grade <= 2)
        old_alone[i] |= age >= 60 and bool(alone)
        mental[i] |= bool(needs)
    threshold = vulnerable_score()
    grid_of: dict[int, str] = {hid: grid for hid, _code, grid, _s, _w in rows}
    volunteer_grid: list[str] = []
    volunteer_actor: list[str] = []
    posts = (Post.objects.filter(actor__in=community_actors(community), role="volunteer")
             .values_list("actor__code", "person__resident__household_id"))
    for actor_code, hid in posts:
        if hid in grid_of:
            volunteer_grid.append(grid_of[hid])
            volunteer_actor.append(actor_code)
    return population_from_facts(
        household_ids=[code for _hid, code, *_rest in rows],
        area_codes=[grid for _hid, _code, grid, *_rest in rows],
        size=np.maximum(size, 1),
        weight=[w for *_rest, w in rows],
        vulnerable=[s >= threshold for *_rest, s, _w in rows],
        can_fetch=able,
        chronic=chronic,
        elder_alone=old_alone,
        psychosocial=mental,
        actors=inputs.actors,
        links=inputs.links,
        volunteer_area_codes=volunteer_grid,
        volunteer_actor_ids=volunteer_actor,
        seed=seed,
    )


def population_for_community_code(*, code: str, seed: int) -> Population:
    """For ``civicgrid simulate --community CODE`` (the operator at the console: every community)."""
    community = Place.objects.filter(code=code, level="community").first()
    if community is None:
        raise ValueError(f"no community with code {code!r}")
    return population_for_community(community=community, seed=seed)
