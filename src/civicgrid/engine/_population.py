"""Population tables behind the synthetic community generator.

Every figure is either a published statistic (with its source) or an assumption, and says which.

Published
---------
* Age structure, China's 7th national population census (2020), communique no. 5 (National Bureau of
  Statistics, 11 May 2021): aged 0-14 17.95 %, 15-59 63.35 %, 60+ 18.70 % (65+ 13.50 %).
  Aged 80+ 2.54 % (35.80 million of 1,411.78 million, census tabulation table 1-7).
* Sex ratio 105.07 males per 100 females, i.e. 51.24 % male (communique no. 4).
* Mean family-household size 2.62 persons (communique no. 2). Household-size shares (census tabulation
  table 1-9, family households): 1 person 25.39 %, 2: 29.68 %, 3: 20.99 %, 4: 13.17 %, 5: 6.19 %,
  6 or more 4.58 %.
* Disability: 6.34 % of the population, and the shares by kind (physical 29.07 %, hearing 24.16 %,
  multiple 16.30 %, visual 14.86 %, mental 7.40 %, intellectual 6.68 %, speech 1.53 %): the Second
  China National Sample Survey on Disability (2006) communique.
* Chronic illness: about 75 % of people aged 60+ live with at least one chronic disease (National
  Health Commission press conference, 26 July 2019).

Assumptions (no single published figure fits a community-level register; change them here)
--------------------------------------------------------------------------------------------
* How the 6+ household sizes split (6: 60 %, 7: 22 %, 8: 10 %, 9: 5 %, 10: 3 %). The published
  shares and mean size 2.62 imply about 6.69 persons per 6+ household; this split has that mean,
  so the generated mean household size is the published 2.62.
* Ages are uniform within each published band; 80+ runs to 99.
* Disability rate by age band (2 %, 4.5 %, 15 %, 30 % for 0-14, 15-59, 60-79, 80+), chosen so that
  the population rate comes out at the published 6.34 %; 30 % of disabilities are grade 1-2 (severe).
* Chronic illness below 60: 15 %. Pregnancy: 5 % of women aged 20-39. Limited mobility: 1 %, 8 %, 30 %
  below 60, at 60-79 and at 80+. Language barrier (dialect only, no Putonghua): 1 % below 60, 8 % at
  60+. Mental-health needs: 1 %.
* Household income status: 1.5 % minimum-living-allowance (dibao) households, 0.2 % extreme-poverty
  support (tekun), 3 % other low-income households.
* About 2 % of residents (aged 18-70) are registered volunteers (the issue's demo target).
"""

from __future__ import annotations

import numpy as np

# --- published ------------------------------------------------------------------------------
AGE_BANDS: tuple[tuple[int, int, float], ...] = (
    # (first age, last age, share of population) -- census 2020
    (0, 14, 0.1795),
    (15, 59, 0.6335),
    (60, 64, 0.0520),  # 60+ (18.70 %) minus 65+ (13.50 %)
    (65, 79, 0.1096),  # 65+ (13.50 %) minus 80+ (2.54 %)
    (80, 99, 0.0254),
)
SHARE_MALE = 0.5124
MEAN_HOUSEHOLD_SIZE = 2.62
HOUSEHOLD_SIZE_SHARES: dict[int, float] = {
    1: 0.2539,
    2: 0.2968,
    3: 0.2099,
    4: 0.1317,
    5: 0.0619,
    # 6 or more: 4.58 %, split by assumption so that the mean size is the published 2.62
    6: 0.0458 * 0.60,
    7: 0.0458 * 0.22,
    8: 0.0458 * 0.10,
    9: 0.0458 * 0.05,
    10: 0.0458 * 0.03,
}
DISABILITY_KINDS: dict[str, float] = {
    "physical": 0.2907,
    "hearing": 0.2416,
    "multiple": 0.1630,
    "visual": 0.1486,
    "mental": 0.0740,
    "intellectual": 0.0668,
    "speech": 0.0153,
}
CHRONIC_ILLNESS_60_PLUS = 0.75

# --- assumptions ----------------------------------------------------------------------------
DISABILITY_RATE_BY_BAND = ((0, 0.02), (15, 0.045), (60, 0.15), (80, 0.30))  # (from age, rate)
SEVERE_DISABILITY_SHARE = 0.30
CHRONIC_ILLNESS_UNDER_60 = 0.15
PREGNANCY_RATE_WOMEN_20_39 = 0.05
LIMITED_MOBILITY_BY_BAND = ((0, 0.01), (60, 0.08), (80, 0.30))
LANGUAGE_BARRIER_BY_BAND = ((0, 0.01), (60, 0.08))
MENTAL_HEALTH_RATE = 0.01
INCOME_STATUS_SHARES: dict[str, float] = {
    "normal": 0.953,
    "low_income": 0.030,
    "dibao": 0.015,
    "tekun": 0.002,
}
VOLUNTEER_SHARE = 0.02

HOUSING_TYPES: dict[str, float] = {  # assumption, typical of an urban sub-district
    "commodity": 0.55,
    "old_estate": 0.25,
    "resettlement": 0.10,
    "public_rental": 0.06,
    "self_built": 0.04,
}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国志文斌波宁"
    "海峰琴云梅晨雪琳欣怡浩宇子轩俊杰涵梓思雨佳瑶博文晓东春秀成德福"
)
# Area codes (GB/T 2260) of Chengdu's central districts, for national ID numbers.
AREA_CODES = ("510104", "510105", "510106", "510107", "510108")
MOBILE_PREFIXES = (
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "182",
    "183",
    "187",
    "188",
    "130",
    "131",
    "132",
    "155",
    "156",
    "185",
    "186",
    "133",
    "153",
    "180",
    "181",
    "189",
    "177",
    "199",
)


def single_year_age_distribution() -> np.ndarray:
    """Share of the population at each single year of age 0..99 (uniform within the bands)."""
    p = np.zeros(100)
    for first, last, share in AGE_BANDS:
        p[first : last + 1] = share / (last - first + 1)
    return p / p.sum()


def rate_by_age(ages: np.ndarray, table: tuple[tuple[int, float], ...]) -> np.ndarray:
    """Look up a step function of age given as ``((from_age, rate), ...)`` in ascending order."""
    starts = np.array([a for a, _ in table])
    rates = np.array([r for _, r in table])
    return rates[np.searchsorted(starts, ages, side="right") - 1]
