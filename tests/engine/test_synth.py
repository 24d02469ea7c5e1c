"""Tests for civicgrid.engine.synth, the synthetic community generator.

Truth comes from outside the code under test: the 2020 census figures (typed in here from the
communiques, not read from the module), tolerances from binomial standard errors, a GB 11643-1999
check written here as a plain loop, ages recomputed from the birth dates, pandas' own CSV writer and
reader, and properties every registry must satisfy (unique codes, references that resolve).
"""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicgrid.engine import synth
from civicgrid.engine.registry_format import (
    ACTOR_KINDS,
    DISABILITY_KINDS,
    HOUSING_TYPES,
    RELATIONS,
    SECTORS,
    SEXES,
    TABLES,
)
from civicgrid.engine.synth import SynthCommunity, generate_community

AS_OF = date(2026, 1, 1)
HOUSEHOLDS = 20_000
Z = 4.0  # a correct generator fails one check in about 16,000 runs (two-sided normal tail)

# China's 7th national population census (2020): communiques no. 2, 4 and 5, tabulation 1-7, 1-9.
CENSUS_AGE_SHARES = {(60, 200): 0.1870, (65, 200): 0.1350, (0, 14): 0.1795, (80, 200): 0.0254}
CENSUS_MALE_SHARE = 105.07 / (100 + 105.07)  # sex ratio 105.07 males per 100 females = 51.24 %
CENSUS_MEAN_HOUSEHOLD_SIZE = 2.62
CENSUS_HOUSEHOLD_SIZE_SHARES = {
    1: 0.2539,
    2: 0.2968,
    3: 0.2099,
    4: 0.1317,
    5: 0.0619,
    6: 0.0458,
}  # 6: 6+
GB11643_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
GB11643_CHECK = "10X98765432"


@pytest.fixture(scope="module")
def community() -> SynthCommunity:
    return generate_community(households=HOUSEHOLDS, seed=2026, as_of=AS_OF)


def age_on(birth_date: str, as_of: date) -> int:
    born = date.fromisoformat(birth_date)
    return as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))


def assert_share(observed: float, expected: float, n: int, what: str) -> None:
    se = math.sqrt(expected * (1 - expected) / n)
    assert abs(observed - expected) <= Z * se, (
        f"{what}: {observed:.4%} vs {expected:.4%} (tolerance {Z:g} x SE = {Z * se:.4%}, n = {n})"
    )


def gb11643_check(first17: str) -> str:
    total = 0
    for digit, weight in zip(first17, GB11643_WEIGHTS, strict=True):
        total += int(digit) * weight
    return GB11643_CHECK[total % 11]


# --- determinism and input ---------------------------------------------------------------------
def test_same_seed_gives_identical_tables_and_another_seed_does_not() -> None:
    first = generate_community(households=2_000, seed=5, as_of=AS_OF)
    again = generate_community(households=2_000, seed=5, as_of=AS_OF)
    other = generate_community(households=2_000, seed=6, as_of=AS_OF)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(first, name), getattr(again, name))
    for column in ("name", "birth_date", "id_number", "phone"):
        assert not first.residents[column].equals(other.residents[column])
    assert not first.households["housing_type"].equals(other.households["housing_type"])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"households": 0}, ValueError, "households must be at least 1"),
        ({"households": 2.5}, TypeError, "households must be an integer"),
        ({"households": 10, "seed": "1"}, TypeError, "seed must be an integer"),
        ({"households": 10, "as_of": "2026-01-01"}, TypeError, "as_of must be a datetime.date"),
        ({"households": 10, "households_per_community": 0}, ValueError, "households_per_community"),
    ],
)
def test_bad_arguments_are_refused(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        generate_community(**kwargs)


def test_module_never_imports_django() -> None:
    code = (
        "import sys\n"
        "from civicgrid.engine.synth import generate_community\n"
        "generate_community(households=50, seed=1)\n"
        "loaded = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# --- population --------------------------------------------------------------------------------
def test_ages_follow_the_census_and_match_the_birth_dates(community: SynthCommunity) -> None:
    residents = community.residents
    ages = np.array([age_on(b, AS_OF) for b in residents["birth_date"]])
    np.testing.assert_array_equal(residents["age"].to_numpy(), ages)
    n = len(ages)
    for (low, high), share in CENSUS_AGE_SHARES.items():
        assert_share(float(((ages >= low) & (ages <= high)).mean()), share, n, f"aged {low}-{high}")


def test_male_share_follows_the_census(community: SynthCommunity) -> None:
    sex = community.residents["sex"]
    assert set(sex) <= set(SEXES)
    assert_share(float((sex == "M").mean()), CENSUS_MALE_SHARE, len(sex), "male")


def test_household_sizes_follow_the_census(community: SynthCommunity) -> None:
    size = community.residents.groupby("household_code").size()
    assert len(size) == HOUSEHOLDS
    n = len(size)
    tolerance = Z * float(size.std()) / math.sqrt(n)
    assert abs(size.mean() - CENSUS_MEAN_HOUSEHOLD_SIZE) <= tolerance, (size.mean(), tolerance)
    for persons, share in CENSUS_HOUSEHOLD_SIZE_SHARES.items():
        observed = float((size >= 6).mean() if persons == 6 else (size == persons).mean())
        assert_share(observed, share, n, f"{persons}-person households")


def test_lives_alone_marks_exactly_the_one_person_households(community: SynthCommunity) -> None:
    residents = community.residents
    size = residents.groupby("household_code")["code"].transform("size")
    np.testing.assert_array_equal(
        residents["lives_alone"].to_numpy(), (size == 1).astype(int).to_numpy()
    )


def test_every_household_has_exactly_one_adult_head(community: SynthCommunity) -> None:
    residents = community.residents
    heads = residents[residents["relation"] == "head"]
    assert heads["household_code"].is_unique
    assert set(heads["household_code"]) == set(community.households["code"])
    assert all(age_on(b, AS_OF) >= 18 for b in heads["birth_date"])
    assert set(residents["relation"]) <= set(RELATIONS)


def test_contact_phone_is_the_heads_phone(community: SynthCommunity) -> None:
    heads = community.residents[community.residents["relation"] == "head"].set_index(
        "household_code"
    )
    households = community.households.set_index("code")
    pd.testing.assert_series_equal(
        households["contact_phone"], heads["phone"].reindex(households.index), check_names=False
    )
    assert households["contact_phone"].str.fullmatch(r"1\d{10}").all()


def test_vulnerability_facts_take_valid_values(community: SynthCommunity) -> None:
    residents = community.residents
    disabled = residents["disability_kind"] != ""
    assert set(residents.loc[disabled, "disability_kind"]) <= set(DISABILITY_KINDS)
    assert residents.loc[disabled, "disability_grade"].between(1, 4).all()
    assert residents.loc[~disabled, "disability_grade"].isna().all()
    for flag in (
        "chronic_illness",
        "pregnant",
        "limited_mobility",
        "language_barrier",
        "mental_health_needs",
        "lives_alone",
    ):
        assert set(residents[flag]) <= {0, 1}, flag
    pregnant = residents[residents["pregnant"] == 1]
    assert (pregnant["sex"] == "F").all() and pregnant["age"].between(20, 39).all()
    assert set(community.households["housing_type"]) <= set(HOUSING_TYPES)
    young = residents["age"] < 12
    assert (residents.loc[young, "phone"] == "").all()
    assert residents.loc[~young, "phone"].str.fullmatch(r"1\d{10}").all()


def test_birth_dates_give_the_age_on_a_leap_day() -> None:
    leap_day = date(2028, 2, 29)
    residents = generate_community(households=3_000, seed=9, as_of=leap_day).residents
    ages = [age_on(b, leap_day) for b in residents["birth_date"]]
    assert residents["age"].tolist() == ages


# --- ID numbers ---------------------------------------------------------------------------------
def test_id_numbers_are_valid_unique_and_encode_birth_date_and_sex(
    community: SynthCommunity,
) -> None:
    residents = community.residents
    assert residents["id_number"].is_unique
    # Sequence numbers are unique per birth date and sex: numbers stay unique if the area changes.
    assert residents["id_number"].str.slice(6, 17).is_unique
    for number, birth, sex in zip(
        residents["id_number"], residents["birth_date"], residents["sex"], strict=True
    ):
        assert len(number) == 18 and number[:17].isdigit(), number
        assert number[17] == gb11643_check(number[:17]), number
        assert number[6:14] == birth.replace("-", ""), (number, birth)
        assert (int(number[16]) % 2 == 1) == (sex == "M"), (number, sex)


def test_public_check_digit_agrees_with_the_reference() -> None:
    first17 = ["11010519491231002", "44052419800101001", "51010420260101999", "00000000000000000"]
    digits = np.array([[int(d) for d in s] for s in first17])
    assert synth.id_number_check_digit(digits).tolist() == [gb11643_check(s) for s in first17]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**12 - 1), max_size=40), st.integers(12, 18))
def test_digit_strings_match_python_formatting(values: list[int], width: int) -> None:
    array = np.array(values, dtype=np.int64)
    got = synth._ascii_strings(synth._digits(array, width), "R")
    assert got.tolist() == [f"R{v:0{width}d}" for v in values]


def test_digit_strings_refuse_numbers_that_do_not_fit() -> None:
    with pytest.raises(ValueError, match="3 digits"):
        synth._digits(np.array([1000]), 3)


# --- registry integrity ---------------------------------------------------------------------------
def test_codes_are_unique_and_references_resolve(community: SynthCommunity) -> None:
    places, households, residents = community.places, community.households, community.residents
    actors, people, posts = community.actors, community.people, community.posts
    for name in ("places", "households", "residents", "actors", "people"):
        assert getattr(community, name)["code"].is_unique, name
    level = dict(zip(places["code"], places["level"], strict=True))
    parent_level = {
        "subdistrict": "district",
        "community": "subdistrict",
        "grid": "community",
        "building": "grid",
    }
    for code, lvl, parent in zip(
        places["code"], places["level"], places["parent_code"], strict=True
    ):
        assert (parent == "") if lvl == "district" else level.get(parent) == parent_level[lvl], code
    assert households["building_code"].map(level).eq("building").all()
    assert residents["household_code"].isin(households["code"]).all()
    assert posts["person_code"].isin(people["code"]).all()
    assert posts["actor_code"].isin(actors["code"]).all()
    assert actors["service_area_code"].isin(places["code"]).all()
    linked = people["resident_code"] != ""
    assert people.loc[linked, "resident_code"].isin(residents["code"]).all()

    grid_posts = posts[posts["role"] == "grid_member"]
    assert grid_posts["place_code"].map(level).eq("grid").all()
    grids = places.loc[places["level"] == "grid", "code"]
    assert grids.isin(grid_posts["place_code"]).all(), "a grid without a grid member"


def test_addresses_are_unique(community: SynthCommunity) -> None:
    assert community.households["address"].is_unique


def test_demo_default_layout() -> None:
    demo = generate_community(households=10_000, seed=2026)
    counts = demo.places["level"].value_counts()
    assert (counts["district"], counts["subdistrict"], counts["community"], counts["grid"]) == (
        1,
        1,
        3,
        36,
    )
    assert 380 <= counts["building"] <= 480  # ~23 households a building
    expected, sd = (
        10_000 * CENSUS_MEAN_HOUSEHOLD_SIZE,
        1.45 * math.sqrt(10_000),
    )  # sd of a size ~1.45
    assert abs(len(demo.residents) - expected) <= Z * sd


def test_households_per_community_sets_the_number_of_communities() -> None:
    places = generate_community(households=700, seed=11, households_per_community=350).places
    counts = places["level"].value_counts()
    assert (counts["community"], counts["grid"]) == (2, 24)


def test_actors_of_all_three_sectors_and_a_person_with_several_posts(
    community: SynthCommunity,
) -> None:
    actors, posts = community.actors, community.posts
    assert set(actors["sector"]) == set(SECTORS)
    assert set(actors["kind"]) <= set(ACTOR_KINDS)
    assert {
        "party_committee",
        "subdistrict_office",
        "residents_committee",
        "property_management",
        "enterprise",
        "shop",
        "social_organisation",
        "foundation",
        "volunteer_team",
        "resident_self_organisation",
    } <= set(actors["kind"])
    actors_per_person = posts.groupby("person_code")["actor_code"].nunique()
    assert (actors_per_person >= 2).any()


def test_about_two_percent_of_residents_volunteer_in_their_own_community(
    community: SynthCommunity,
) -> None:
    places, residents, people, posts = (
        community.places,
        community.residents,
        community.people,
        community.posts,
    )
    volunteers = people[people["resident_code"] != ""]
    assert abs(len(volunteers) - 0.02 * len(residents)) <= 1
    assert volunteers["resident_code"].is_unique
    by_code = residents.set_index("code")
    assert by_code.loc[volunteers["resident_code"], "age"].between(18, 70).all()

    parent = dict(zip(places["code"], places["parent_code"], strict=True))
    building = dict(
        zip(community.households["code"], community.households["building_code"], strict=True)
    )
    home = {
        r: parent[parent[building[h]]]  # building -> grid -> community
        for r, h in zip(by_code.index, by_code["household_code"], strict=True)
    }
    team_area = community.actors.set_index("code")
    volunteer_posts = posts[posts["person_code"].isin(volunteers["code"])].merge(
        volunteers, left_on="person_code", right_on="code"
    )
    assert len(volunteer_posts) == len(volunteers)
    assert (volunteer_posts["role"] == "volunteer").all()
    assert (team_area.loc[volunteer_posts["actor_code"], "kind"] == "volunteer_team").all()
    served = team_area.loc[volunteer_posts["actor_code"], "service_area_code"].to_numpy()
    assert served.tolist() == [home[r] for r in volunteer_posts["resident_code"]]


# --- CSV ----------------------------------------------------------------------------------------
def test_csv_files_have_the_format_columns_and_round_trip(
    community: SynthCommunity, tmp_path: Path
) -> None:
    written = community.write_csv(tmp_path / "out")
    assert sorted(p.name for p in written) == sorted(f"{name}.csv" for name in TABLES)
    for path in written:
        name = path.stem
        frame = getattr(community, name)
        read = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert tuple(read.columns) == TABLES[name]
        assert len(read) == len(frame)
        for column in TABLES[name]:
            expected = frame[column].astype(object).where(frame[column].notna(), "").map(str)
            assert read[column].tolist() == expected.tolist(), (name, column)


def test_csv_files_equal_what_pandas_writes(community: SynthCommunity, tmp_path: Path) -> None:
    small = generate_community(households=1_500, seed=3)
    for path in small.write_csv(tmp_path):
        reference = tmp_path / f"{path.stem}.pandas.csv"
        getattr(small, path.stem).loc[:, list(TABLES[path.stem])].to_csv(reference, index=False)
        assert path.read_bytes() == reference.read_bytes(), path.stem


def test_csv_quotes_cells_with_commas_quotes_and_line_breaks(tmp_path: Path) -> None:
    small = generate_community(households=30, seed=1)
    households = small.households.copy()
    households.loc[0, "address"] = 'No. 1, "East" Road\nUnit 2'
    households.loc[1, "contact_phone"] = None
    edited = SynthCommunity(**{**small.tables(), "households": households})
    edited.write_csv(tmp_path)
    read = pd.read_csv(tmp_path / "households.csv", dtype=str, keep_default_na=False)
    assert read.loc[0, "address"] == 'No. 1, "East" Road\nUnit 2'
    assert read.loc[1, "contact_phone"] == ""
    assert len(read) == 30


def test_csv_refuses_a_table_without_its_columns(tmp_path: Path) -> None:
    small = generate_community(households=30, seed=1)
    broken = SynthCommunity(**{**small.tables(), "posts": small.posts.drop(columns=["role"])})
    with pytest.raises(ValueError, match="'posts' lacks column"):
        broken.write_csv(tmp_path)
