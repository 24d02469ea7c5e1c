"""Synthetic community generator: a whole registry, deterministic for a seed, in pure numpy/pandas.

The population follows China's 2020 census (age bands, sex ratio, household sizes) and published
disability and chronic-illness rates; every other rate is a labelled assumption. The sources and the
assumptions are listed in :mod:`civicgrid.engine._population`.

Layout: one sub-district per ten communities, one community per ~3,333 households, 12 grids per
community, ~23 households per building (buildings are numbered through their community, so every
address is unique). The default demo (10,000 households) is one sub-district, 3 communities,
36 grids, ~430 buildings and ~26,000 residents, with actors of all three sectors and about 2 % of
residents registered as volunteers.

Scale: text columns hold Python strings, so a value that repeats (building code, birth date, name,
relation, ...) is one shared object, and the unique ones (codes, ID numbers, phones, addresses) are
made from numpy byte matrices, not formatted one by one. Residents are generated a step of
households at a time, into columns allocated once, and ``write_csv`` writes in chunks, so scratch
memory stays small. ``bench/bench_synth.py``: 1,000,000 households (2.6 million residents) take
about 8 s to generate and 7 s to write, at a peak of about 1.2 GB, on the 2-core test machine.

Example
-------
>>> community = generate_community(households=500, seed=7)
>>> sorted(community.tables())
['actors', 'households', 'people', 'places', 'posts', 'residents']
>>> community.households["code"].is_unique
True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from civicgrid.engine import _population as pop
from civicgrid.engine.registry_format import TABLES

DEFAULT_AS_OF = date(2026, 1, 1)
HOUSEHOLDS_PER_COMMUNITY = 3333
COMMUNITIES_PER_SUBDISTRICT = 10
GRIDS_PER_COMMUNITY = 12
HOUSEHOLDS_PER_BUILDING = 23
_ORIGIN = (104.03, 30.62)  # lon, lat of the generated map (central Chengdu); the map is fictional
_COMMUNITY_NAMES = "幸福和平光明新华东风建设团结友谊长青锦绣桂花玉林红星春晖金桥翠苑"
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.array(list("10X98765432"))
_ID_CHECK_ASCII = np.frombuffer(b"10X98765432", dtype=np.uint8)
_RELATIONS = np.array(["head", "spouse", "grandchild", "child", "parent", "sibling"], dtype=object)
_SEXES = np.array(["F", "M"], dtype=object)
_DISABILITY_KINDS = np.array([*pop.DISABILITY_KINDS, ""], dtype=object)  # "": no disability
_DIGIT_QUADS = np.array([list(f"{i:04d}".encode()) for i in range(10_000)], dtype=np.uint8)
_CHUNK_ROWS = 65_536  # rows per step when building strings or writing CSV: bounds scratch memory
_HOUSEHOLDS_PER_STEP = 32_768  # households per step of resident generation, likewise


@dataclass(frozen=True)
class SynthCommunity:
    """A generated registry: one DataFrame per table of :data:`registry_format.TABLES`.

    ``residents`` also has an ``age`` column (whole years on ``as_of``), which is not exported.
    """

    places: pd.DataFrame
    households: pd.DataFrame
    residents: pd.DataFrame
    actors: pd.DataFrame
    people: pd.DataFrame
    posts: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in TABLES}

    def write_csv(self, out_dir: str | Path) -> list[Path]:
        """Write one UTF-8 CSV per table into ``out_dir`` (created if needed), as ``import`` reads.

        Each file has exactly the columns of :data:`registry_format.TABLES`, in that order; missing
        values are empty cells and a cell holding a comma, quote or line break is quoted, as
        ``pandas.DataFrame.to_csv`` writes them. Rows are written in chunks, so writing needs little
        memory beyond the tables themselves.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in self.tables().items():
            path = out / f"{name}.csv"
            _write_table(frame, TABLES[name], path)
            written.append(path)
        return written


def generate_community(
    *,
    households: int = 10_000,
    seed: int = 0,
    as_of: date = DEFAULT_AS_OF,
    households_per_community: int = HOUSEHOLDS_PER_COMMUNITY,
) -> SynthCommunity:
    """Generate a community registry.

    Parameters
    ----------
    households : int
        Number of households (>= 1).
    seed : int
        Seed of the random generator; the same seed gives the same registry.
    as_of : date
        Reference date for ages: birth dates are drawn so that residents have their sampled age
        on it.
    households_per_community : int
        Size of a community (>= 1); the number of communities is ``households`` divided by it,
        rounded, and at least one.

    Returns
    -------
    SynthCommunity

    Examples
    --------
    >>> community = generate_community(households=200, seed=1)
    >>> bool((community.residents["relation"] == "head").sum() == 200)
    True
    """
    n = _integer("households", households, minimum=1)
    per_community = _integer("households_per_community", households_per_community, minimum=1)
    rng = np.random.default_rng(_integer("seed", seed, minimum=0))
    if not isinstance(as_of, date):
        raise TypeError(f"as_of must be a datetime.date, got {as_of!r}")
    layout = _Layout.build(n, per_community)
    hh, building, size = _households(rng, layout, n)
    residents, head = _residents(rng, hh["code"], size, as_of)
    hh["contact_phone"] = residents["phone"][head]
    household_community = layout.building_community[building]
    households_in = np.bincount(household_community, minlength=len(layout.community_codes))
    actors, people, posts = _actors(rng, layout, residents, np.repeat(household_community, size),
                                    households_in)
    return SynthCommunity(
        places=layout.places,
        households=pd.DataFrame(hh),
        residents=pd.DataFrame(residents),
        actors=actors,
        people=people,
        posts=posts,
    )


def _integer(name: str, value: object, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


# --- places -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Layout:
    """The place hierarchy, plus the per-community and per-building arrays the other tables need."""

    places: pd.DataFrame
    community_codes: np.ndarray  # community c owns grids [12 c, 12 c + 12)
    community_names: np.ndarray
    grid_codes: np.ndarray
    building_codes: np.ndarray
    building_community: np.ndarray  # community index of each building
    building_address: np.ndarray  # "幸福社区12栋"

    @classmethod
    def build(cls, n_households: int, households_per_community: int) -> _Layout:
        n_comm = max(1, round(n_households / households_per_community))
        n_sub = -(-n_comm // COMMUNITIES_PER_SUBDISTRICT)
        rows: list[tuple[str, str, str, str, str]] = [("D01", "示范区", "district", "", "")]
        for s in range(n_sub):
            rows.append((f"D01-S{s + 1:02d}", f"青山{s + 1}街道" if n_sub > 1 else "青山街道",
                         "subdistrict", "D01", ""))
        side = int(np.ceil(np.sqrt(n_comm)))
        step = 0.01  # degrees per community square (about 1 km)
        community_codes, community_names, grid_codes = [], [], []
        for c in range(n_comm):
            sub = f"D01-S{c // COMMUNITIES_PER_SUBDISTRICT + 1:02d}"
            code, name = f"{sub}-C{c % COMMUNITIES_PER_SUBDISTRICT + 1:02d}", _community_name(c)
            community_codes.append(code)
            community_names.append(name)
            x0, y0 = _ORIGIN[0] + (c % side) * step, _ORIGIN[1] + (c // side) * step
            rows.append((code, name, "community", sub, _square(x0, y0, step)))
            for g in range(GRIDS_PER_COMMUNITY):
                gx, gy = x0 + (g % 4) * step / 4, y0 + (g // 4) * step / 3
                grid_codes.append(f"{code}-G{g + 1:02d}")
                rows.append((grid_codes[-1], f"第{g + 1}网格", "grid", code,
                             _square(gx, gy, step / 4, step / 3)))
        upper = pd.DataFrame(rows, columns=list(TABLES["places"]))

        # Households are spread evenly over grids, then ~23 to a building.
        n_grids = len(grid_codes)
        per_grid = np.bincount(np.arange(n_households) * n_grids // n_households, minlength=n_grids)
        b_per_grid = np.maximum(1, np.round(per_grid / HOUSEHOLDS_PER_BUILDING).astype(np.int64))
        b_grid = np.repeat(np.arange(n_grids), b_per_grid)
        b_community = b_grid // GRIDS_PER_COMMUNITY
        first_of_community = np.searchsorted(b_community, b_community)
        b_no = (np.arange(len(b_grid)) - first_of_community + 1).tolist()
        grid_codes_arr = np.array(grid_codes, dtype=object)
        b_codes = _object_array([f"{g}-B{no:03d}" for g, no in zip(grid_codes_arr[b_grid], b_no,
                                                                    strict=True)])
        buildings = pd.DataFrame({
            "code": b_codes,
            "name": _object_array([f"{no}栋" for no in b_no]),
            "level": "building",
            "parent_code": grid_codes_arr[b_grid],
            "geometry": "",
        })
        names = np.array(community_names, dtype=object)
        return cls(
            places=pd.concat([upper, buildings], ignore_index=True),
            community_codes=np.array(community_codes, dtype=object),
            community_names=names,
            grid_codes=grid_codes_arr,
            building_codes=b_codes,
            building_community=b_community,
            building_address=_object_array([f"{c}{no}栋" for c, no in
                                            zip(names[b_community], b_no, strict=True)]),
        )


def _community_name(index: int) -> str:
    pairs = len(_COMMUNITY_NAMES) // 2
    base = _COMMUNITY_NAMES[2 * (index % pairs) : 2 * (index % pairs) + 2]
    return f"{base}社区" if index < pairs else f"{base}{index // pairs + 1}社区"


def _square(x0: float, y0: float, dx: float, dy: float | None = None) -> str:
    dy = dx if dy is None else dy
    ring = [[x0, y0], [x0 + dx, y0], [x0 + dx, y0 + dy], [x0, y0 + dy], [x0, y0]]
    coordinates = [[[round(a, 6), round(b, 6)] for a, b in ring]]
    return json.dumps({"type": "Polygon", "coordinates": coordinates})


# --- households ---------------------------------------------------------------------------------
def _households(
    rng: np.random.Generator, layout: _Layout, n: int
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Household columns, the building index of each household and each household's size."""
    building = np.arange(n, dtype=np.int64) * len(layout.building_codes) // n
    slot = np.arange(n) - np.searchsorted(building, building)  # position within the building
    # Two flats per floor, 12 per unit: slot 0 is "1单元101室", slot 13 is "2单元102室".
    flat = _object_array([f"{s // 12 + 1}单元{s % 12 // 2 + 1}{s % 2 + 1:02d}室"
                          for s in range(int(slot.max()) + 1)])
    address = _object_array([b + f for b, f in zip(layout.building_address[building].tolist(),
                                                   flat[slot].tolist(), strict=True)])
    sizes = np.array(list(pop.HOUSEHOLD_SIZE_SHARES))
    size = sizes[_draw(rng, pop.HOUSEHOLD_SIZE_SHARES, n)]
    housing = _object_array(list(pop.HOUSING_TYPES))
    income = _object_array(list(pop.INCOME_STATUS_SHARES))
    columns = {
        "code": _numbered("H", np.arange(1, n + 1), 7),
        "building_code": layout.building_codes[building],
        "address": address,
        "housing_type": housing[_draw(rng, pop.HOUSING_TYPES, n)],
        "income_status": income[_draw(rng, pop.INCOME_STATUS_SHARES, n)],
        "contact_phone": np.full(n, "", dtype=object),
    }
    return columns, building, size


def _draw(rng: np.random.Generator, shares: Mapping[Any, float], n: int) -> np.ndarray:
    """Indices into ``shares`` drawn with its (normalised) weights."""
    p = np.array(list(shares.values()), dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


# --- residents ----------------------------------------------------------------------------------
def _residents(
    rng: np.random.Generator, household_codes: np.ndarray, size: np.ndarray, as_of: date
) -> tuple[dict[str, Any], np.ndarray]:
    """Resident columns (plus ``age``) and the row of each household's head.

    Households are generated a step at a time (residents come household by household, the head
    first), so the scratch arrays stay small however many households there are.
    """
    n = int(size.sum())
    first = np.cumsum(size) - size  # row of each household's head
    width = max(8, len(str(n)))  # of the number in a resident code
    model = _ResidentModel(as_of)
    columns: dict[str, np.ndarray] = {}
    for start in range(0, len(size), _HOUSEHOLDS_PER_STEP):
        step_size = size[start : start + _HOUSEHOLDS_PER_STEP]
        rows = slice(int(first[start]), int(first[start] + step_size.sum()))
        step = _resident_step(rng, step_size, model)
        step["code"] = _numbered("R", np.arange(rows.start + 1, rows.stop + 1), width)
        households = np.arange(start, start + len(step_size))
        step["household_code"] = household_codes[np.repeat(households, step_size)]
        for column, values in step.items():  # the whole columns are allocated once, at the start
            columns.setdefault(column, np.empty(n, dtype=values.dtype))[rows] = values
    grade = columns["disability_grade"]  # 0: none, missing in the table
    table: dict[str, Any] = {**columns, "disability_grade": pd.arrays.IntegerArray(grade, grade == 0)}
    return {c: table[c] for c in (*TABLES["residents"], "age")}, first


class _ResidentModel:
    """What every step shares: age distributions, the calendar of birth dates, the distinct names
    made so far and the ID sequence numbers given so far."""

    def __init__(self, as_of: date, *, per_area: bool = False):
        # Heads come from the adult distribution; the other members from the distribution that
        # makes the whole population follow the census marginals: q = (m p - a) / (m - 1), with m
        # the mean household size.
        p = pop.single_year_age_distribution()
        a = np.where(np.arange(len(p)) >= 18, p, 0.0)
        self.head_ages = a / a.sum()
        sizes = np.array(list(pop.HOUSEHOLD_SIZE_SHARES))
        shares = np.array(list(pop.HOUSEHOLD_SIZE_SHARES.values()))
        m = float(sizes @ shares / shares.sum())
        q = np.clip(m * p - self.head_ages, 0.0, None)
        self.member_ages = q / q.sum()
        self.calendar = _Calendar(as_of, oldest=len(p) - 1)
        self.names = _Names()
        # ID sequence numbers given so far by birth date and sex (and area code for a city: 499 numbers
        # per birth date and sex would not be enough for ten million households)
        self.areas = len(pop.AREA_CODES) if per_area else 1
        self.id_used = np.zeros(len(self.calendar.text) * 2 * self.areas, dtype=np.int64)


def _resident_step(
    rng: np.random.Generator, size: np.ndarray, model: _ResidentModel
) -> dict[str, np.ndarray]:
    """The residents of consecutive households of the given sizes."""
    n_hh, n = len(size), int(size.sum())
    first = np.cumsum(size) - size
    household = np.repeat(np.arange(n_hh), size)
    head_row = first[household]
    is_head = np.arange(n) == head_row
    age = np.empty(n, dtype=np.int64)
    age[is_head] = rng.choice(len(model.head_ages), size=n_hh, p=model.head_ages)
    age[~is_head] = rng.choice(len(model.member_ages), size=n - n_hh, p=model.member_ages)

    diff = age - age[head_row]
    spouse = (np.arange(n) == head_row + 1) & (age >= 20) & (np.abs(diff) <= 12)
    # A spouse is of the head's opposite sex; everyone else is drawn male with the probability
    # that brings the whole population to the census share.
    n_spouses = int(spouse.sum())
    p_male = (pop.SHARE_MALE * n - n_spouses) / max(1, n - 2 * n_spouses)
    male = rng.random(n) < min(1.0, max(0.0, p_male))
    male[spouse] = ~male[head_row[spouse]]
    relation = np.select([is_head, spouse, diff <= -40, diff <= -15, diff >= 15], [0, 1, 2, 3, 4],
                         default=5)
    day = model.calendar.draw(rng, age)

    disabled = rng.random(n) < pop.rate_by_age(age, pop.DISABILITY_RATE_BY_BAND)
    kind = np.where(disabled, _draw(rng, pop.DISABILITY_KINDS, n), len(_DISABILITY_KINDS) - 1)
    severe = rng.random(n) < pop.SEVERE_DISABILITY_SHARE
    grade = np.where(severe, rng.integers(1, 3, size=n), rng.integers(3, 5, size=n))
    chronic = np.where(age >= 60, pop.CHRONIC_ILLNESS_60_PLUS, pop.CHRONIC_ILLNESS_UNDER_60)
    pregnant = np.where(~male & (age >= 20) & (age <= 39), pop.PREGNANCY_RATE_WOMEN_20_39, 0.0)
    return {
        "name": model.names.draw(rng, n),
        "sex": _SEXES[male.view(np.int8)],
        "birth_date": model.calendar.text[day],
        "relation": _RELATIONS[relation],
        "id_number": _id_numbers(rng, model, day, male),
        "phone": _phones(rng, age >= 12),
        "lives_alone": (size[household] == 1).astype(np.int8),
        "disability_kind": _DISABILITY_KINDS[kind],
        "disability_grade": np.where(disabled, grade, 0).astype(np.int8),
        "chronic_illness": (rng.random(n) < chronic).astype(np.int8),
        "pregnant": (rng.random(n) < pregnant).astype(np.int8),
        "limited_mobility": _flag(rng, pop.rate_by_age(age, pop.LIMITED_MOBILITY_BY_BAND)),
        "language_barrier": _flag(rng, pop.rate_by_age(age, pop.LANGUAGE_BARRIER_BY_BAND)),
        "mental_health_needs": _flag(rng, np.full(n, pop.MENTAL_HEALTH_RATE)),
        "age": age,
    }


def _flag(rng: np.random.Generator, rate: np.ndarray) -> np.ndarray:
    return (rng.random(len(rate)) < rate).astype(np.int8)


class _Calendar:
    """The birth dates that give ages 0..oldest on ``as_of``, indexed by day from the earliest.

    Distinct dates are few (at most ~36,500), so each is formatted once and the strings are shared.
    """

    def __init__(self, as_of: date, oldest: int):
        years = np.arange(oldest + 2)
        month = np.datetime64(as_of, "M") - (12 * years).astype("timedelta64[M]")
        month_end = (month + 1).astype("datetime64[D]") - 1
        # The last birth date of someone aged y on as_of: the same day y years back (28 February
        # for 29 February); the first is the day after the last date for y + 1.
        latest = np.minimum(month.astype("datetime64[D]") + (as_of.day - 1), month_end)
        days = np.arange(latest[-1] + 1, latest[0] + 1)
        self.latest = (latest[:-1] - days[0]).astype(np.int64)  # day index, by age
        self.span = (latest[:-1] - latest[1:]).astype(np.int64)  # 365 or 366 dates, by age
        self.text = np.datetime_as_string(days).astype(object)
        year = days.astype("datetime64[Y]").astype(np.int64) + 1970
        month_no = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
        day_no = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
        self.ymd = year * 10_000 + month_no * 100 + day_no

    def draw(self, rng: np.random.Generator, age: np.ndarray) -> np.ndarray:
        """Day indices of birth dates drawn uniformly among those that give each ``age``."""
        return self.latest[age] - rng.integers(0, self.span[age])


class _Names:
    """Chinese names: a surname and one or two given characters. Each distinct name is made once."""

    def __init__(self) -> None:
        self.surnames, self.given = list(pop.SURNAMES), [*pop.GIVEN_CHARS, ""]  # "": one character
        # Zipf-like weights: the commonest surnames (Wang, Li, Zhang, ...) are far commoner.
        weights = 1.0 / np.arange(1, len(self.surnames) + 1) ** 0.9
        self.p = weights / weights.sum()
        self.table = np.empty(len(self.surnames) * len(self.given) ** 2, dtype=object)
        self.made = np.zeros(len(self.table), dtype=bool)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        g = len(self.given)
        s = rng.choice(len(self.surnames), size=n, p=self.p)
        g1 = rng.integers(0, g - 1, size=n)
        g2 = np.where(rng.random(n) < 0.7, rng.integers(0, g - 1, size=n), g - 1)
        code = (s * g + g1) * g + g2
        new = np.unique(code[~self.made[code]])
        self.table[new] = [self.surnames[c // g**2] + self.given[c // g % g] + self.given[c % g]
                           for c in new.tolist()]
        self.made[new] = True
        return self.table[code]


def id_number_check_digit(first17: np.ndarray) -> np.ndarray:
    """GB 11643-1999 check character of 17-digit arrays (shape ``(n, 17)``, integer digits)."""
    return _ID_CHECK[_id_check_index(first17)]


def _id_check_index(first17: np.ndarray) -> np.ndarray:
    return (np.asarray(first17, dtype=np.int64) @ _ID_WEIGHTS) % 11


def _id_numbers(
    rng: np.random.Generator, model: _ResidentModel, day: np.ndarray, male: np.ndarray
) -> np.ndarray:
    n = len(male)
    area = rng.integers(0, len(pop.AREA_CODES), size=n)
    # Sequence numbers, odd for men and even for women, are unique within (birth date, sex), so
    # ID numbers stay unique even if the area code is changed: number each resident after those
    # of earlier steps with the same key.
    key = day * 2 + male
    if model.areas > 1:  # numbered within the area code too (a city): unique all the same
        key = key + area * (len(model.calendar.text) * 2)
    order = np.argsort(key, kind="stable")
    starts = np.r_[0, np.flatnonzero(np.diff(key[order])) + 1]
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    rank += model.id_used[key]
    model.id_used += np.bincount(key, minlength=len(model.id_used))
    if rank.max(initial=0) >= 499:
        raise ValueError("too many residents share a birth date and sex for unique ID numbers "
                         "(499 at most: enough for several million households)")
    seq = np.where(male, 2 * rank + 1, 2 * rank + 2)
    area_num = np.array([int(c) for c in pop.AREA_CODES], dtype=np.int64)[area]
    digits = np.empty((n, 18), dtype=np.uint8)
    digits[:, :17] = _digits((area_num * 10**8 + model.calendar.ymd[day]) * 1000 + seq, 17)
    digits[:, 17] = _ID_CHECK_ASCII[_id_check_index(digits[:, :17] - ord("0"))]
    return _ascii_strings(digits)


def _phones(rng: np.random.Generator, has_phone: np.ndarray) -> np.ndarray:
    """Mobile numbers where ``has_phone``, empty strings elsewhere."""
    n = len(has_phone)
    prefixes = np.array([int(p) for p in pop.MOBILE_PREFIXES], dtype=np.int64)
    prefix = prefixes[rng.integers(0, len(prefixes), size=n)]
    number = prefix * 10**8 + rng.integers(0, 10**8, size=n)
    phone = np.full(n, "", dtype=object)
    phone[has_phone] = _ascii_strings(_digits(number[has_phone], 11))
    return phone


# --- actors, people and posts -------------------------------------------------------------------
def _actors(
    rng: np.random.Generator,
    layout: _Layout,
    residents: dict[str, np.ndarray],
    community: np.ndarray,
    households_per_community: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Actors of the three sectors, their staff (people) and posts, and the volunteers."""
    actors: list[dict[str, object]] = []
    people: list[dict[str, object]] = []
    posts: list[dict[str, object]] = []
    n_comm = len(layout.community_codes)
    name_iter = iter(_Names().draw(rng, 64 * n_comm + 256).tolist())

    def person() -> str:
        code = f"P{len(people) + 1:07d}"
        people.append({"code": code, "name": next(name_iter), "phone": "", "resident_code": ""})
        return code

    def actor(code: str, name: str, sector: str, kind: str, area: str,
              capacities: dict[str, int]) -> str:
        actors.append({"code": code, "name": name, "sector": sector, "kind": kind,
                       "service_area_code": area,
                       "capacities": json.dumps(capacities) if capacities else "",
                       "contact_phone": f"028-{8600_0000 + len(actors):08d}"})
        return code

    def post(person_code: str, actor_code: str, role: str, *, key: bool = False,
             place: str = "") -> None:
        posts.append({"person_code": person_code, "actor_code": actor_code, "role": role,
                      "is_key": int(key), "place_code": place})

    for sub in layout.places.loc[layout.places["level"] == "subdistrict"].itertuples():
        office = actor(f"{sub.code}-A01", f"{sub.name}办事处", "state", "subdistrict_office", sub.code,
                       {"information_release": 0, "shelter": 300})
        working = actor(f"{sub.code}-A02", f"{sub.name}党工委", "state", "party_committee",
                        sub.code, {})
        hub = actor(f"{sub.code}-A03", f"{sub.name}社会组织服务中心", "society", "social_organisation",
                    sub.code, {"care_vulnerable": 150})
        fund = actor(f"{sub.code}-A04", f"{sub.name}社区发展基金会", "society", "foundation", sub.code, {})
        elder = actor(f"{sub.code}-A05", f"{sub.name}为老服务协会", "society", "social_organisation",
                      sub.code, {"care_vulnerable": 200, "food_supply": 100})
        social_work = actor(f"{sub.code}-A06", f"{sub.name}社工服务站", "society", "social_organisation",
                            sub.code, {"care_vulnerable": 120})
        director = person()
        post(director, office, "director", key=True)
        post(director, working, "deputy secretary", key=True)  # a typical cross-post
        for a in (hub, fund, elder, social_work):
            post(person(), a, "director", key=True)
            post(person(), a, "staff")

    communities = zip(layout.community_codes, layout.community_names,
                      households_per_community.tolist(), strict=True)
    for c, (code, name, n_households) in enumerate(communities):
        party = actor(f"{code}-A01", f"{name}党委", "state", "party_committee", code,
                      {"information_release": n_households})
        committee = actor(f"{code}-A02", f"{name}居民委员会", "society", "residents_committee", code,
                          {"information_release": n_households, "care_vulnerable": 80,
                           "access_control": n_households // 4})
        pm = actor(f"{code}-A03", f"{name[:2]}物业服务有限公司", "capital", "property_management", code,
                   {"access_control": n_households})
        market = actor(f"{code}-A04", f"{name[:2]}生活超市", "capital", "shop", code,
                       {"food_supply": int(n_households * 0.6)})
        pharmacy = actor(f"{code}-A05", f"{name[:2]}大药房", "capital", "shop", code,
                         {"medicine": int(n_households * 0.5)})
        enterprise = actor(f"{code}-A06", f"{name[:2]}实业集团", "capital", "enterprise", code,
                           {"food_supply": int(n_households * 0.3), "shelter": 200})
        team = actor(f"{code}-A07", f"{name}志愿服务队", "society", "volunteer_team", code,
                     {"food_supply": int(n_households * 0.2), "care_vulnerable": 60})
        selforg = actor(f"{code}-A08", f"{name}楼栋自管小组", "society", "resident_self_organisation",
                        code, {"information_release": n_households // 2,
                               "access_control": n_households // 5})
        secretary = person()
        post(secretary, party, "secretary", key=True)
        post(secretary, committee, "director", key=True)  # "one shoulder carries both" (一肩挑)
        post(person(), party, "deputy secretary", key=True)
        post(person(), pm, "manager", key=True)
        post(person(), market, "manager", key=True)
        post(person(), pharmacy, "manager", key=True)
        post(person(), enterprise, "chairman", key=True)
        post(person(), team, "captain", key=True)
        post(person(), selforg, "convenor", key=True)
        for g in layout.grid_codes[c * GRIDS_PER_COMMUNITY : (c + 1) * GRIDS_PER_COMMUNITY]:
            post(person(), committee, "grid_member", place=g)

    # Volunteers: about 2 % of residents, aged 18-70, each in their own community's volunteer team.
    age, n = residents["age"], len(residents["age"])
    eligible = np.flatnonzero((age >= 18) & (age <= 70))
    n_vol = min(len(eligible), round(pop.VOLUNTEER_SHARE * n))
    chosen = np.sort(rng.choice(eligible, size=n_vol, replace=False))
    volunteers = pd.DataFrame({
        "code": _numbered("P", np.arange(len(people) + 1, len(people) + n_vol + 1), 7),
        "name": residents["name"][chosen],
        "phone": residents["phone"][chosen],
        "resident_code": residents["code"][chosen],
    })
    teams = _object_array([f"{c}-A07" for c in layout.community_codes])
    volunteer_posts = pd.DataFrame({
        "person_code": volunteers["code"].to_numpy(),
        "actor_code": teams[community[chosen]],
        "role": "volunteer",
        "is_key": np.zeros(n_vol, dtype=np.int8),
        "place_code": "",
    })
    staff_posts = pd.DataFrame(posts, columns=list(TABLES["posts"])).astype({"is_key": np.int8})
    return (pd.DataFrame(actors, columns=list(TABLES["actors"])),
            pd.concat([pd.DataFrame(people, columns=list(TABLES["people"])), volunteers],
                      ignore_index=True),
            pd.concat([staff_posts, volunteer_posts], ignore_index=True))


# --- strings at scale ---------------------------------------------------------------------------
def _object_array(values: list[str]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers as ASCII bytes, shape ``(n, width)``."""
    rest = np.asarray(values, dtype=np.int64)
    if rest.size and (rest.min() < 0 or rest.max() >= 10**width):
        raise ValueError(f"values must lie in [0, 10**{width}) to be written with {width} digits")
    out = np.empty((len(rest), width), dtype=np.uint8)
    for end in range(width, 0, -4):  # four digits per division: int64 division is the slow part
        start = max(0, end - 4)
        rest, quad = np.divmod(rest, 10_000)
        out[:, start:end] = _DIGIT_QUADS[quad, 4 - (end - start) :]
    return out


def _ascii_strings(matrix: np.ndarray, prefix: str = "") -> np.ndarray:
    """Rows of an ASCII byte matrix as Python strings (object array), each after ``prefix``.

    Decoding a block of rows joined by newlines and splitting it makes the strings in C, several
    times faster than formatting them one by one.
    """
    n, width = matrix.shape
    lead = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    out = np.empty(n, dtype=object)
    for start in range(0, n, _CHUNK_ROWS):
        rows = matrix[start : start + _CHUNK_ROWS]
        block = np.empty((len(rows), len(lead) + width + 1), dtype=np.uint8)
        block[:, : len(lead)] = lead
        block[:, len(lead) : -1] = rows
        block[:, -1] = ord("\n")
        out[start : start + len(rows)] = block.tobytes().decode("ascii").split("\n")[:-1]
    return out


def _numbered(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Codes such as ``R00000042``: prefix and zero-padded number, wider when a number needs it."""
    largest = int(numbers.max(initial=0))
    return _ascii_strings(_digits(numbers, max(width, len(str(largest)))), prefix)


# --- a city in chunks ---------------------------------------------------------------------------
BLOCK_HOUSEHOLDS = 10_000


def write_city(
    out_dir: str | Path,
    *,
    households: int,
    seed: int = 0,
    as_of: date = DEFAULT_AS_OF,
    households_per_community: int = HOUSEHOLDS_PER_COMMUNITY,
    chunk_households: int = 250_000,
    block_households: int = BLOCK_HOUSEHOLDS,
) -> dict[str, int]:
    """Write a generated city of any size (10 million households and more) as the CSV files of
    :meth:`SynthCommunity.write_csv`, a chunk of households at a time, in bounded memory.

    The population model, layout and rates are those of :func:`generate_community`; the random stream
    is laid out differently so that no step needs the whole city: households come in blocks of
    ``block_households``, each drawn from its own generator (seeded by ``seed`` and the block's
    number), volunteers are chosen within their block, and the staff of the actors comes from a
    generator of its own. The output depends on ``households``, ``seed``, ``as_of``,
    ``households_per_community`` and ``block_households``, never on ``chunk_households``, which only
    sets how many households are held at once (a test writes a city in small chunks and in one and
    compares the files). It is not the same registry as ``generate_community`` with the same seed.

    Parameters
    ----------
    out_dir : str or Path
        Folder for the six CSV files (created if needed).
    households : int
        Number of households (>= 1).
    seed : int
        Seed; the same arguments give the same files.
    as_of : date
        Reference date for ages.
    households_per_community : int
        Size of a community.
    chunk_households : int
        Households generated and written per step (rounded up to whole blocks).
    block_households : int
        Households per random block.

    Returns
    -------
    dict
        Rows written per table.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     counts = write_city(folder, households=1200, seed=4, block_households=500, chunk_households=500)
    >>> counts["households"], counts["residents"] > 1200
    (1200, True)
    """
    n = _integer("households", households, minimum=1)
    per_community = _integer("households_per_community", households_per_community, minimum=1)
    block = _integer("block_households", block_households, minimum=1)
    step = max(block, -(-_integer("chunk_households", chunk_households, minimum=1) // block) * block)
    seed = _integer("seed", seed, minimum=0)
    layout = _Layout.build(n, per_community)
    n_b = len(layout.building_codes)
    first_of_building = -(-np.arange(n_b + 1, dtype=np.int64) * n // n_b)  # household i lives in i * n_b // n
    households_in = np.bincount(layout.building_community, weights=np.diff(first_of_building),
                                minlength=len(layout.community_codes)).astype(np.int64)
    none = np.empty(0, dtype=object)
    actors, staff, staff_posts = _actors(np.random.default_rng([seed, 2]), layout,
                                         {"age": np.empty(0, dtype=np.int64), "name": none, "phone": none,
                                          "code": none}, np.empty(0, dtype=np.int64), households_in)
    model = _ResidentModel(as_of, per_area=True)
    widths = {"H": max(7, len(str(n))), "R": max(8, len(str(n * 10))), "P": max(7, len(str(len(staff) + n)))}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {name: (out / f"{name}.csv").open("w", encoding="utf-8", newline="") for name in TABLES}
    counts = dict.fromkeys(TABLES, 0)
    try:
        for name, handle in files.items():
            handle.write(",".join(_quoted(list(TABLES[name]))) + "\n")
        for name, frame in (("places", layout.places), ("actors", actors), ("people", staff),
                            ("posts", staff_posts)):
            _append_rows(frame, TABLES[name], files[name])
            counts[name] += len(frame)
        state = {"residents": 0, "people": len(staff)}
        for start in range(0, n, step):
            parts = [_city_block(seed, layout, model, first_of_building, n, b, min(n, b + block), widths, state)
                     for b in range(start, min(n, start + step), block)]
            for name in ("households", "residents", "people", "posts"):
                frame = pd.concat([p[name] for p in parts], ignore_index=True)
                _append_rows(frame, TABLES[name], files[name])
                counts[name] += len(frame)
    finally:
        for handle in files.values():
            handle.close()
    return counts


def _city_block(seed: int, layout: _Layout, model: _ResidentModel, first_of_building: np.ndarray, n: int,
                start: int, stop: int, widths: dict[str, int], state: dict[str, int]) -> dict[str, pd.DataFrame]:
    """Households ``start``..``stop - 1`` of a city, their residents and volunteers, from the block's
    own generator. ``state`` carries the running resident and person numbers."""
    rng = np.random.default_rng([seed, 1, start])
    index = np.arange(start, stop, dtype=np.int64)
    building = index * len(layout.building_codes) // n
    slot = index - first_of_building[building]
    flat = _object_array([f"{s // 12 + 1}单元{s % 12 // 2 + 1}{s % 2 + 1:02d}室"
                          for s in range(int(slot.max()) + 1)])
    sizes = np.array(list(pop.HOUSEHOLD_SIZE_SHARES))
    size = sizes[_draw(rng, pop.HOUSEHOLD_SIZE_SHARES, len(index))]
    codes = _ascii_strings(_digits(index + 1, widths["H"]), "H")
    residents = _resident_step(rng, size, model)
    first_resident = state["residents"]
    residents["code"] = _ascii_strings(_digits(np.arange(first_resident + 1, first_resident + len(residents["age"]) + 1),
                                               widths["R"]), "R")
    state["residents"] += len(residents["age"])
    residents["household_code"] = np.repeat(codes, size)
    head = np.cumsum(size) - size
    housing = _object_array(list(pop.HOUSING_TYPES))
    income = _object_array(list(pop.INCOME_STATUS_SHARES))
    households = pd.DataFrame({
        "code": codes,
        "building_code": layout.building_codes[building],
        "address": _object_array([b + f for b, f in zip(layout.building_address[building].tolist(),
                                                        flat[slot].tolist(), strict=True)]),
        "housing_type": housing[_draw(rng, pop.HOUSING_TYPES, len(index))],
        "income_status": income[_draw(rng, pop.INCOME_STATUS_SHARES, len(index))],
        "contact_phone": residents["phone"][head],
    })
    grade = residents["disability_grade"]
    table = {**residents, "disability_grade": pd.arrays.IntegerArray(grade.astype(np.int64), grade == 0)}
    # Volunteers: about 2 % of the block's residents aged 18-70, in their own community's team.
    age = residents["age"]
    eligible = np.flatnonzero((age >= 18) & (age <= 70))
    chosen = np.sort(rng.choice(eligible, size=min(len(eligible), round(pop.VOLUNTEER_SHARE * len(age))),
                                replace=False))
    first_person = state["people"]
    state["people"] += len(chosen)
    people = pd.DataFrame({
        "code": _ascii_strings(_digits(np.arange(first_person + 1, first_person + len(chosen) + 1),
                                       widths["P"]), "P"),
        "name": residents["name"][chosen], "phone": residents["phone"][chosen],
        "resident_code": residents["code"][chosen],
    })
    community = layout.building_community[np.repeat(building, size)]
    teams = _object_array([f"{c}-A07" for c in layout.community_codes])
    posts = pd.DataFrame({"person_code": people["code"].to_numpy(), "actor_code": teams[community[chosen]],
                          "role": "volunteer", "is_key": np.zeros(len(chosen), dtype=np.int8), "place_code": ""})
    return {"households": households, "residents": pd.DataFrame({c: table[c] for c in TABLES["residents"]}),
            "people": people, "posts": posts}


# --- CSV ----------------------------------------------------------------------------------------
def _write_table(frame: pd.DataFrame, columns: tuple[str, ...], path: Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"table {path.stem!r} lacks column(s) {', '.join(missing)}")
    if not all(_plain(frame[c]) for c in columns):  # floats, dates, ...: let pandas format them
        frame.loc[:, list(columns)].to_csv(path, index=False)
        return
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(_quoted(list(columns))) + "\n")
        _append_rows(frame, columns, out)


def _append_rows(frame: pd.DataFrame, columns: tuple[str, ...], out: Any) -> None:
    """The rows of ``frame`` (no header) in chunks, as :meth:`SynthCommunity.write_csv` writes them."""
    series = [frame[c] for c in columns]
    if not all(_plain(s) for s in series):
        frame.loc[:, list(columns)].to_csv(out, index=False, header=False)
        return
    for start in range(0, len(frame), _CHUNK_ROWS):
        cells = [_quoted(_cells(s.iloc[start : start + _CHUNK_ROWS])) for s in series]
        out.write("\n".join(map(",".join, zip(*cells, strict=True))) + "\n")


def _plain(column: pd.Series) -> bool:
    """Whether the chunked writer handles the column: integers or strings (with missing values)."""
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return False
    if pd.api.types.is_integer_dtype(dtype) or isinstance(dtype, pd.StringDtype):
        return True
    is_text = pd.api.types.is_object_dtype(dtype)
    return is_text and pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty")


def _cells(column: pd.Series) -> list[str]:
    if pd.api.types.is_integer_dtype(column.dtype):
        codes, distinct = pd.factorize(column)  # missing -> -1, the empty cell
        return _object_array([*map(str, distinct.tolist()), ""])[codes].tolist()
    return list(column.to_numpy(dtype=object, na_value=""))


def _quoted(cells: list[str]) -> list[str]:
    """Quote the cells that hold a comma, quote or line break (RFC 4180, as pandas does)."""
    joined = "".join(cells)
    if not any(ch in joined for ch in ',"\r\n'):
        return cells
    return ['"' + c.replace('"', '""') + '"' if any(ch in c for ch in ',"\r\n') else c
            for c in cells]
