"""Synthetic community generator: a whole registry, deterministic for a seed, in pure numpy/pandas.

The population follows China's 2020 census (age bands, sex ratio, household sizes) and published
disability and chronic-illness rates; every other rate is a labelled assumption. The sources and the
assumptions are listed in :mod:`civicgrid.engine._population`.

Layout: one sub-district per ten communities, one community per ~3,333 households, 12 grids per
community, ~23 households per building. The default demo (10,000 households) is one sub-district,
3 communities, 36 grids, ~430 buildings and ~26,000 residents, with actors of all three sectors and
about 2 % of residents registered as volunteers.

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
from dataclasses import dataclass
from datetime import date
from pathlib import Path

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


@dataclass(frozen=True)
class SynthCommunity:
    """A generated registry: one DataFrame per table of :data:`registry_format.TABLES`."""

    places: pd.DataFrame
    households: pd.DataFrame
    residents: pd.DataFrame
    actors: pd.DataFrame
    people: pd.DataFrame
    posts: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in TABLES}

    def write_csv(self, out_dir: str | Path) -> list[Path]:
        """Write one UTF-8 CSV per table into ``out_dir`` (created if needed), as ``import`` reads them."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, frame in self.tables().items():
            path = out / f"{name}.csv"
            frame.loc[:, list(TABLES[name])].to_csv(path, index=False)
            written.append(path)
        return written


def generate_community(
    *, households: int = 10_000, seed: int = 0, as_of: date = DEFAULT_AS_OF
) -> SynthCommunity:
    """Generate a community registry.

    Parameters
    ----------
    households : int
        Number of households (>= 1).
    seed : int
        Seed of the random generator; the same seed gives the same registry.
    as_of : date
        Reference date for ages (birth dates are drawn so that residents have their sampled age on it).

    Returns
    -------
    SynthCommunity
    """
    if households < 1:
        raise ValueError(f"households must be at least 1, got {households}")
    rng = np.random.default_rng(seed)
    places, building_codes, community_of_building = _places(households)
    hh, head_of = _households(rng, households, places, building_codes, community_of_building)
    residents = _residents(rng, hh, as_of)
    hh["contact_phone"] = residents["phone"].to_numpy()[head_of(residents)]
    actors, people, posts = _actors(rng, places, residents, hh)
    return SynthCommunity(
        places=places,
        households=hh.drop(columns=["size"]),
        residents=residents,
        actors=actors,
        people=people,
        posts=posts,
    )


# --- places -----------------------------------------------------------------------------------
def _places(n_households: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    n_comm = max(1, round(n_households / HOUSEHOLDS_PER_COMMUNITY))
    n_sub = -(-n_comm // COMMUNITIES_PER_SUBDISTRICT)
    rows: list[tuple[str, str, str, str, str]] = [("D01", "示范区", "district", "", "")]
    for s in range(n_sub):
        rows.append(
            (
                f"D01-S{s + 1:02d}",
                f"青山{s + 1}街道" if n_sub > 1 else "青山街道",
                "subdistrict",
                "D01",
                "",
            )
        )
    side = int(np.ceil(np.sqrt(n_comm)))
    step = 0.01  # degrees per community square (about 1 km)
    for c in range(n_comm):
        sub = f"D01-S{c // COMMUNITIES_PER_SUBDISTRICT + 1:02d}"
        code = f"{sub}-C{c % COMMUNITIES_PER_SUBDISTRICT + 1:02d}"
        x0, y0 = _ORIGIN[0] + (c % side) * step, _ORIGIN[1] + (c // side) * step
        rows.append((code, _community_name(c), "community", sub, _square(x0, y0, step)))
        for g in range(GRIDS_PER_COMMUNITY):
            gx, gy = x0 + (g % 4) * step / 4, y0 + (g // 4) * step / 3
            rows.append(
                (
                    f"{code}-G{g + 1:02d}",
                    f"第{g + 1}网格",
                    "grid",
                    code,
                    _square(gx, gy, step / 4, step / 3),
                )
            )
    upper = pd.DataFrame(rows, columns=list(TABLES["places"]))

    # Buildings, vectorised: households are spread evenly over grids, then over buildings.
    grid_codes = upper.loc[upper["level"] == "grid", "code"].to_numpy()
    n_grids = len(grid_codes)
    per_grid = np.bincount(np.arange(n_households) * n_grids // n_households, minlength=n_grids)
    b_per_grid = np.maximum(1, np.round(per_grid / HOUSEHOLDS_PER_BUILDING).astype(int))
    b_grid = np.repeat(np.arange(n_grids), b_per_grid)
    b_no = np.arange(len(b_grid)) - np.repeat(np.cumsum(b_per_grid) - b_per_grid, b_per_grid) + 1
    b_parent = grid_codes[b_grid]
    b_codes = pd.Series(b_parent).str.cat(pd.Series(b_no).map("B{:03d}".format), sep="-").to_numpy()
    community_index = b_grid // GRIDS_PER_COMMUNITY
    buildings = pd.DataFrame(
        {
            "code": b_codes,
            "name": pd.Series(b_no).astype(str).to_numpy() + "栋",
            "level": "building",
            "parent_code": b_parent,
            "geometry": "",
        }
    )
    places = pd.concat([upper, buildings], ignore_index=True)
    return places, b_codes, community_index


def _community_name(index: int) -> str:
    pairs = len(_COMMUNITY_NAMES) // 2
    base = _COMMUNITY_NAMES[2 * (index % pairs) : 2 * (index % pairs) + 2]
    return f"{base}社区" if index < pairs else f"{base}{index // pairs + 1}社区"


def _square(x0: float, y0: float, dx: float, dy: float | None = None) -> str:
    dy = dx if dy is None else dy
    ring = [[x0, y0], [x0 + dx, y0], [x0 + dx, y0 + dy], [x0, y0 + dy], [x0, y0]]
    return json.dumps(
        {"type": "Polygon", "coordinates": [[[round(a, 6), round(b, 6)] for a, b in ring]]}
    )


# --- households ---------------------------------------------------------------------------------
def _households(rng, n, places, building_codes, community_of_building):  # type: ignore[no-untyped-def]
    n_buildings = len(building_codes)
    building = np.arange(n) * n_buildings // n
    sizes = np.array(list(pop.HOUSEHOLD_SIZE_SHARES))
    shares = np.array(list(pop.HOUSEHOLD_SIZE_SHARES.values()))
    size = rng.choice(sizes, size=n, p=shares / shares.sum())
    comm_names = places.loc[places["level"] == "community", "name"].to_numpy()
    first_in_building = np.searchsorted(building, building, side="left")
    slot = np.arange(n) - first_in_building
    unit, room = slot // 12 + 1, slot % 12
    floor, door = room // 2 + 1, room % 2 + 1
    b_no = pd.Series(building_codes[building]).str.slice(-3).astype(int).astype(str)
    address = (
        pd.Series(comm_names[community_of_building[building]])
        + b_no.to_numpy()
        + "栋"
        + pd.Series(unit).astype(str)
        + "单元"
        + pd.Series(floor * 100 + door).astype(str)
        + "室"
    )
    housing_types = list(pop.HOUSING_TYPES)
    income = list(pop.INCOME_STATUS_SHARES)
    hh = pd.DataFrame(
        {
            "code": pd.Series(np.arange(1, n + 1)).map("H{:07d}".format).to_numpy(),
            "building_code": building_codes[building],
            "address": address.to_numpy(),
            "housing_type": np.array(housing_types)[
                rng.choice(len(housing_types), size=n, p=list(pop.HOUSING_TYPES.values()))
            ],
            "income_status": np.array(income)[
                rng.choice(len(income), size=n, p=list(pop.INCOME_STATUS_SHARES.values()))
            ],
            "contact_phone": "",
            "size": size,
        }
    )

    def head_of(residents: pd.DataFrame) -> np.ndarray:
        # Residents are generated household by household, the head first.
        return np.concatenate([[0], np.cumsum(size)[:-1]])

    return hh, head_of


# --- residents ----------------------------------------------------------------------------------
def _residents(rng: np.random.Generator, hh: pd.DataFrame, as_of: date) -> pd.DataFrame:
    size = hh["size"].to_numpy()
    n_hh, n = len(size), int(size.sum())
    household = np.repeat(np.arange(n_hh), size)
    member = np.arange(n) - np.repeat(np.cumsum(size) - size, size)
    is_head = member == 0

    # Heads come from the adult distribution; the other members from the distribution that makes
    # the whole population follow the census marginals: q = (m p - a) / (m - 1), m = mean size.
    p = pop.single_year_age_distribution()
    ages_all = np.arange(100)
    a = np.where(ages_all >= 18, p, 0.0)
    a /= a.sum()
    m = float(
        (
            np.array(list(pop.HOUSEHOLD_SIZE_SHARES))
            * np.array(list(pop.HOUSEHOLD_SIZE_SHARES.values()))
        ).sum()
    )
    q = np.clip(m * p - a, 0.0, None)
    q /= q.sum()
    age = np.where(is_head, rng.choice(100, size=n, p=a), rng.choice(100, size=n, p=q))

    head_idx = np.repeat(np.cumsum(size) - size, size)
    head_age = age[head_idx]
    male = rng.random(n) < pop.SHARE_MALE
    diff = age - head_age
    spouse = (member == 1) & (age >= 20) & (np.abs(diff) <= 12)
    male = np.where(spouse, ~male[head_idx], male)
    relation = np.select(
        [is_head, spouse, diff <= -40, diff <= -15, diff >= 15],
        ["head", "spouse", "grandchild", "child", "parent"],
        default="sibling",
    )

    # Birth dates that give exactly the sampled age on as_of.
    as_of64 = np.datetime64(as_of, "D")
    latest = (as_of64.astype("datetime64[Y]") - age.astype("timedelta64[Y]")).astype(
        "datetime64[D]"
    ) + (as_of64 - as_of64.astype("datetime64[Y]").astype("datetime64[D]"))
    birth = latest - rng.integers(0, 365, size=n).astype("timedelta64[D]")

    sex = np.where(male, "M", "F")
    rates = {
        "disability": pop.rate_by_age(age, pop.DISABILITY_RATE_BY_BAND),
        "limited_mobility": pop.rate_by_age(age, pop.LIMITED_MOBILITY_BY_BAND),
        "language_barrier": pop.rate_by_age(age, pop.LANGUAGE_BARRIER_BY_BAND),
        "chronic_illness": np.where(
            age >= 60, pop.CHRONIC_ILLNESS_60_PLUS, pop.CHRONIC_ILLNESS_UNDER_60
        ),
        "pregnant": np.where(
            ~male & (age >= 20) & (age <= 39), pop.PREGNANCY_RATE_WOMEN_20_39, 0.0
        ),
        "mental_health_needs": np.full(n, pop.MENTAL_HEALTH_RATE),
    }
    draws = {k: rng.random(n) < v for k, v in rates.items()}
    kinds = np.array(list(pop.DISABILITY_KINDS))
    kind_p = np.array(list(pop.DISABILITY_KINDS.values()))
    disabled = draws.pop("disability")
    kind = np.where(disabled, kinds[rng.choice(len(kinds), size=n, p=kind_p / kind_p.sum())], "")
    severe = rng.random(n) < pop.SEVERE_DISABILITY_SHARE
    grade = np.where(
        disabled, np.where(severe, rng.integers(1, 3, size=n), rng.integers(3, 5, size=n)), 0
    )

    frame = pd.DataFrame(
        {
            "code": pd.Series(np.arange(1, n + 1)).map("R{:08d}".format).to_numpy(),
            "household_code": hh["code"].to_numpy()[household],
            "name": _names(rng, n),
            "sex": sex,
            "birth_date": pd.Series(birth).dt.strftime("%Y-%m-%d").to_numpy(),
            "relation": relation,
            "id_number": _id_numbers(rng, birth, male),
            "phone": np.where(age >= 12, _phones(rng, n), ""),
            "lives_alone": (size[household] == 1).astype(int),
            "disability_kind": kind,
            "disability_grade": pd.array(np.where(disabled, grade, 0), dtype="Int64"),
            **{k: v.astype(int) for k, v in draws.items()},
        }
    )
    frame.loc[~disabled, "disability_grade"] = pd.NA
    frame["age"] = age  # not exported (derived); used by the demo and tests
    return frame


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    surnames = np.array(list(pop.SURNAMES))
    # Zipf-like weights: the commonest surnames (Wang, Li, Zhang, ...) are far commoner than the rest.
    sw = 1.0 / np.arange(1, len(surnames) + 1) ** 0.9
    given = np.array(list(pop.GIVEN_CHARS))
    s = surnames[rng.choice(len(surnames), size=n, p=sw / sw.sum())]
    g1 = given[rng.integers(0, len(given), size=n)]
    g2 = np.where(rng.random(n) < 0.7, given[rng.integers(0, len(given), size=n)], "")
    return np.char.add(np.char.add(s, g1), g2)


def id_number_check_digit(first17: np.ndarray) -> np.ndarray:
    """GB 11643-1999 check character of 17-digit arrays (shape ``(n, 17)``, integer digits)."""
    return _ID_CHECK[(first17 @ _ID_WEIGHTS) % 11]


def _id_numbers(rng: np.random.Generator, birth: np.ndarray, male: np.ndarray) -> np.ndarray:
    n = len(birth)
    area = rng.integers(0, len(pop.AREA_CODES), size=n)
    ymd = pd.Series(birth).dt.strftime("%Y%m%d").astype(int).to_numpy()
    # Sequence numbers must be unique within (area, birth date, sex): odd for men, even for women.
    key = (area.astype(np.int64) * 100_000_000 + ymd) * 2 + male
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_key)) + 1]
    rank_sorted = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = rank_sorted
    if rank.max(initial=0) >= 499:
        raise ValueError(
            "too many residents share an area, birth date and sex for unique ID numbers"
        )
    seq = np.where(male, 2 * rank + 1, 2 * rank + 2)
    area_num = np.array([int(c) for c in pop.AREA_CODES])[area]
    number = (area_num.astype(np.int64) * 10**8 + ymd) * 1000 + seq  # 17 digits
    digits = (number[:, None] // 10 ** np.arange(16, -1, -1)) % 10
    check = id_number_check_digit(digits)
    return np.char.add(number.astype(str), check)


def _phones(rng: np.random.Generator, n: int) -> np.ndarray:
    prefixes = np.array(pop.MOBILE_PREFIXES)
    rest = rng.integers(0, 10**8, size=n)
    return np.char.add(
        prefixes[rng.integers(0, len(prefixes), size=n)], np.char.zfill(rest.astype(str), 8)
    )


# --- actors, people and posts -------------------------------------------------------------------
def _actors(
    rng: np.random.Generator,
    places: pd.DataFrame,
    residents: pd.DataFrame,  # type: ignore[no-untyped-def]
    hh: pd.DataFrame,
):
    actors: list[dict[str, object]] = []
    people: list[dict[str, object]] = []
    posts: list[dict[str, object]] = []
    staff_names = _names(rng, 64 * max(1, int((places["level"] == "community").sum())) + 256)
    name_iter = iter(staff_names)

    def person(
        role_hint: str, resident_code: str = "", name: str | None = None, phone: str = ""
    ) -> str:
        code = f"P{len(people) + 1:07d}"
        people.append(
            {
                "code": code,
                "name": name or next(name_iter),
                "phone": phone,
                "resident_code": resident_code,
            }
        )
        return code

    def actor(
        code: str, name: str, sector: str, kind: str, area: str, capacities: dict[str, int]
    ) -> str:
        actors.append(
            {
                "code": code,
                "name": name,
                "sector": sector,
                "kind": kind,
                "service_area_code": area,
                "capacities": json.dumps(capacities) if capacities else "",
                "contact_phone": f"028-{8600_0000 + len(actors):08d}",
            }
        )
        return code

    def post(
        person_code: str, actor_code: str, role: str, *, key: bool = False, place: str = ""
    ) -> None:
        posts.append(
            {
                "person_code": person_code,
                "actor_code": actor_code,
                "role": role,
                "is_key": int(key),
                "place_code": place,
            }
        )

    building_counts = places.loc[places["level"] == "building"].groupby("parent_code").size()
    for sub in places.loc[places["level"] == "subdistrict"].itertuples():
        office = actor(
            f"{sub.code}-A01",
            f"{sub.name}办事处",
            "state",
            "subdistrict_office",
            sub.code,
            {"information_release": 0, "shelter": 300},
        )
        working = actor(
            f"{sub.code}-A02", f"{sub.name}党工委", "state", "party_committee", sub.code, {}
        )
        hub = actor(
            f"{sub.code}-A03",
            f"{sub.name}社会组织服务中心",
            "society",
            "social_organisation",
            sub.code,
            {"care_vulnerable": 150},
        )
        fund = actor(
            f"{sub.code}-A04", f"{sub.name}社区发展基金会", "society", "foundation", sub.code, {}
        )
        elder = actor(
            f"{sub.code}-A05",
            f"{sub.name}为老服务协会",
            "society",
            "social_organisation",
            sub.code,
            {"care_vulnerable": 200, "food_supply": 100},
        )
        social_work = actor(
            f"{sub.code}-A06",
            f"{sub.name}社工服务站",
            "society",
            "social_organisation",
            sub.code,
            {"care_vulnerable": 120},
        )
        director = person("director")
        post(director, office, "director", key=True)
        post(director, working, "deputy secretary", key=True)  # a typical cross-post
        for a in (hub, fund, elder, social_work):
            post(person("staff"), a, "director", key=True)
            post(person("staff"), a, "staff")

    communities = places.loc[places["level"] == "community"]
    for comm in communities.itertuples():
        grids = places.loc[
            (places["level"] == "grid") & (places["parent_code"] == comm.code), "code"
        ]
        n_households = int(sum(building_counts.get(g, 0) for g in grids) * HOUSEHOLDS_PER_BUILDING)
        c = comm.code
        party = actor(
            f"{c}-A01",
            f"{comm.name}党委",
            "state",
            "party_committee",
            c,
            {"information_release": n_households},
        )
        committee = actor(
            f"{c}-A02",
            f"{comm.name}居民委员会",
            "society",
            "residents_committee",
            c,
            {
                "information_release": n_households,
                "care_vulnerable": 80,
                "access_control": n_households // 4,
            },
        )
        pm = actor(
            f"{c}-A03",
            f"{comm.name[:2]}物业服务有限公司",
            "capital",
            "property_management",
            c,
            {"access_control": n_households},
        )
        market = actor(
            f"{c}-A04",
            f"{comm.name[:2]}生活超市",
            "capital",
            "shop",
            c,
            {"food_supply": int(n_households * 0.6)},
        )
        pharmacy = actor(
            f"{c}-A05",
            f"{comm.name[:2]}大药房",
            "capital",
            "shop",
            c,
            {"medicine": int(n_households * 0.5)},
        )
        enterprise = actor(
            f"{c}-A06",
            f"{comm.name[:2]}实业集团",
            "capital",
            "enterprise",
            c,
            {"food_supply": int(n_households * 0.3), "shelter": 200},
        )
        team = actor(
            f"{c}-A07",
            f"{comm.name}志愿服务队",
            "society",
            "volunteer_team",
            c,
            {"food_supply": int(n_households * 0.2), "care_vulnerable": 60},
        )
        selforg = actor(
            f"{c}-A08",
            f"{comm.name}楼栋自管小组",
            "society",
            "resident_self_organisation",
            c,
            {"information_release": n_households // 2, "access_control": n_households // 5},
        )
        secretary = person("secretary")
        post(secretary, party, "secretary", key=True)
        post(secretary, committee, "director", key=True)  # "one shoulder carries both" (一肩挑)
        post(person("deputy"), party, "deputy secretary", key=True)
        post(person("manager"), pm, "manager", key=True)
        post(person("manager"), market, "manager", key=True)
        post(person("manager"), pharmacy, "manager", key=True)
        boss = person("chairman")
        post(boss, enterprise, "chairman", key=True)
        post(person("leader"), team, "captain", key=True)
        post(person("leader"), selforg, "convenor", key=True)
        for g in grids:
            post(person("grid member"), committee, "grid_member", place=g)

    # Volunteers: about 2 % of residents aged 18-70, each in their community's volunteer team.
    eligible = np.flatnonzero(
        (residents["age"].to_numpy() >= 18) & (residents["age"].to_numpy() <= 70)
    )
    n_vol = min(len(eligible), int(round(pop.VOLUNTEER_SHARE * len(residents))))
    chosen = np.sort(rng.choice(eligible, size=n_vol, replace=False)) if n_vol else eligible[:0]
    # A building code starts with its community's code ("D01-S01-C01-G03-B007").
    community_of_household = dict(
        zip(hh["code"], hh["building_code"].str.slice(0, 11), strict=True)
    )
    picked = residents.iloc[chosen]
    for code, name, phone, household in zip(
        picked["code"], picked["name"], picked["phone"], picked["household_code"], strict=True
    ):
        person_code = person("volunteer", resident_code=code, name=name, phone=phone)
        post(person_code, f"{community_of_household[household]}-A07", "volunteer")

    return (
        pd.DataFrame(actors, columns=list(TABLES["actors"])),
        pd.DataFrame(people, columns=list(TABLES["people"])),
        pd.DataFrame(posts, columns=list(TABLES["posts"])),
    )
