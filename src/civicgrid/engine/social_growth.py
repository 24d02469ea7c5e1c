"""A year of social growth for a synthetic community: the two contrasting styles of the seeds.

Seed 000 (Sichuan) describes a hub organisation that incubates many small social organisations,
government purchase of services, volunteers with recorded hours and residents who consult and decide;
seed 001 (Baibuting, Wuhan) describes one enterprise group that funds and staffs almost everything,
with few organisations of society's own and a residents' committee that answers to the enterprise.

:func:`growth_profiles` says which demo community plays which part and with what rates;
:func:`monthly_counts` draws a year of counts from a profile. Every rate below is an **assumption**
chosen to make the contrast the seeds describe visible in a demo, not a measurement: the seeds give
no numbers for them. Each platform app turns the counts into its own records (its ``demo_load``).

>>> profiles = growth_profiles(["c1", "c2", "c3"])
>>> [profiles[c].style for c in ("c1", "c2", "c3")]
['hub', 'fused', 'middle']
>>> counts = monthly_counts(profiles["c1"], residents=1000, seed=7)
>>> counts["volunteer_hours"].shape
(12,)
>>> bool((monthly_counts(profiles["c1"], residents=1000, seed=7)["care_visits"] == counts["care_visits"]).all())
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

STYLES = ("hub", "fused", "middle")


@dataclass(frozen=True)
class GrowthProfile:
    """How one community's social growth looks over a year (all rates are assumptions, see module)."""

    style: str  # "hub" (Sichuan-like), "fused" (Baibuting-like) or "middle"
    organisations: int  # society-sector organisations in the register
    incubating_share: float  # of those, share still incubating (the rest growing or independent)
    verified_share: float  # share verified (the rest applied or suspended)
    volunteers_per_100_residents: float
    hours_per_volunteer_month: float
    society_volunteer_share: float  # share of volunteers whose team is a society-sector organisation
    purchased_services: int  # contracts of government purchase of services in the year
    capital_funding_share: float  # share of money (donations, fund sources) coming from capital
    helper_coverage: float  # share of vulnerable residents with a paired helper
    visits_on_time: float  # share of scheduled care visits done on time
    training_per_volunteer: float  # trainings attended per volunteer per year
    meetings: int  # council meetings in the year
    resident_decision_share: float  # share of decisions taken by residents' own bodies
    ballot_turnout: float  # share of households voting in the participatory round
    grievance_on_time: float  # share of grievances answered within the time limit


_PROFILES = {
    "hub": GrowthProfile("hub", organisations=14, incubating_share=0.35, verified_share=0.85,
                         volunteers_per_100_residents=6.0, hours_per_volunteer_month=5.0,
                         society_volunteer_share=0.7, purchased_services=6, capital_funding_share=0.15,
                         helper_coverage=0.85, visits_on_time=0.8, training_per_volunteer=2.0, meetings=12,
                         resident_decision_share=0.6, ballot_turnout=0.42, grievance_on_time=0.9),
    "fused": GrowthProfile("fused", organisations=2, incubating_share=0.5, verified_share=0.5,
                           volunteers_per_100_residents=1.5, hours_per_volunteer_month=2.0,
                           society_volunteer_share=0.15, purchased_services=0, capital_funding_share=0.85,
                           helper_coverage=0.25, visits_on_time=0.5, training_per_volunteer=0.3, meetings=3,
                           resident_decision_share=0.1, ballot_turnout=0.08, grievance_on_time=0.45),
    "middle": GrowthProfile("middle", organisations=6, incubating_share=0.5, verified_share=0.7,
                            volunteers_per_100_residents=3.0, hours_per_volunteer_month=3.0,
                            society_volunteer_share=0.45, purchased_services=2, capital_funding_share=0.4,
                            helper_coverage=0.5, visits_on_time=0.65, training_per_volunteer=1.0, meetings=6,
                            resident_decision_share=0.35, ballot_turnout=0.2, grievance_on_time=0.7),
}


def growth_profiles(community_codes: Sequence[str]) -> dict[str, GrowthProfile]:
    """The profile of each community, in the order given (sort the codes for a stable demo).

    The first community is the Sichuan-like hub, the second the Baibuting-like fused one, any others
    sit in the middle.

    >>> sorted(growth_profiles(["b", "a"]).items())[0][1].style
    'fused'
    """
    return {code: _PROFILES[STYLES[min(i, 2)]] for i, code in enumerate(community_codes)}


def monthly_counts(profile: GrowthProfile, *, residents: int, seed: int, months: int = 12) -> dict[str, np.ndarray]:
    """Poisson counts per month drawn from ``profile`` for a community of ``residents`` people.

    Returns arrays of length ``months`` (int32): ``volunteers_active``, ``volunteer_hours``,
    ``care_visits``, ``trainings``, ``donations``. Same ``profile``, ``residents`` and ``seed``, same
    counts.

    >>> c = monthly_counts(growth_profiles(["x"])["x"], residents=500, seed=1, months=3)
    >>> sorted(c)
    ['care_visits', 'donations', 'trainings', 'volunteer_hours', 'volunteers_active']
    """
    if residents < 0 or months < 1:
        raise ValueError("residents must be >= 0 and months >= 1")
    rng = np.random.default_rng([seed, STYLES.index(profile.style)])
    volunteers = profile.volunteers_per_100_residents * residents / 100
    active = rng.poisson(volunteers * 0.8, months)
    return {
        "volunteers_active": active.astype(np.int32),
        "volunteer_hours": rng.poisson(np.maximum(active, 0) * profile.hours_per_volunteer_month).astype(np.int32),
        "care_visits": rng.poisson(volunteers * profile.helper_coverage * 2.0, months).astype(np.int32),
        "trainings": rng.poisson(volunteers * profile.training_per_volunteer / 12, months).astype(np.int32),
        "donations": rng.poisson(2 + 4 * profile.capital_funding_share, months).astype(np.int32),
    }


def profile_fields() -> list[str]:
    """The names of a profile's rates, for tables and documentation."""
    return [f.name for f in fields(GrowthProfile)]
