"""The before/after comparison engine against independent truth: synthetic panels with a known effect
(the 95% interval covers it at the stated rate), statsmodels' own formula fits of the same model, and
the placebo and verdict rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from civicgrid.engine.comparison import (
    OutcomeWords,
    difference_in_differences,
    interrupted_time_series,
    verdict,
)

REPLICATIONS = 200
# 95% coverage over 200 replications: the count of covering intervals is Binomial(200, 0.95), sd 3.1;
# accept within 3 sd (about 0.904 to 0.996).
TOLERANCE = 3 * np.sqrt(0.95 * 0.05 / REPLICATIONS)
WEEKDAY = np.array([1.0, 1.1, 1.05, 1.0, 0.95, 0.7, 0.6])  # fewer cases at weekends


def its_series(rng: np.random.Generator, *, ratio: float, days: int = 112, event_day: int = 56) -> pd.DataFrame:
    dates = pd.date_range("2026-01-05", periods=days, freq="D")
    t = np.arange(days)
    mean = 8.0 * WEEKDAY[dates.day_of_week] * np.exp(0.002 * t) * np.where(t >= event_day, ratio, 1.0)
    return pd.DataFrame({"date": dates, "value": rng.poisson(mean)})


def test_its_interval_covers_the_known_effect_at_the_stated_rate():
    rng = np.random.default_rng(2026)
    covered = []
    for _ in range(REPLICATIONS):
        data = its_series(rng, ratio=0.7)
        effect = interrupted_time_series(data=data, event=data["date"][56], placebo=False).effect
        covered.append(effect.low <= 0.7 <= effect.high)
    coverage = float(np.mean(covered))
    print(f"ITS coverage {coverage:.3f} over {REPLICATIONS}")
    assert abs(coverage - 0.95) <= TOLERANCE


def stacked_panel(rng: np.random.Generator, *, ratios: dict[str, float], units_per_cohort: int = 6,
                  controls: int = 8, days: int = 63) -> tuple[pd.DataFrame, dict[str, pd.Timestamp]]:
    """Two adoption cohorts (day 21 and day 35) and never-treated units; unit and day effects."""
    dates = pd.date_range("2026-03-02", periods=days, freq="D")
    cohorts = {"early": dates[21], "late": dates[35]}
    rows, events = [], {}
    day_effect = np.exp(rng.normal(0, 0.1, days)) * WEEKDAY[dates.day_of_week]
    for cohort in [*cohorts, "never"]:
        for i in range(controls if cohort == "never" else units_per_cohort):
            name = f"{cohort}-{i}"
            level = np.exp(rng.normal(np.log(6), 0.3))
            effect = np.where(dates >= cohorts[cohort], ratios[cohort], 1.0) if cohort in cohorts else 1.0
            if cohort in cohorts:
                events[name] = cohorts[cohort]
            rows.append(pd.DataFrame({"unit": name, "date": dates, "value": rng.poisson(level * day_effect * effect)}))
    return pd.concat(rows, ignore_index=True), events


def test_did_interval_covers_the_known_effect_at_the_stated_rate():
    rng = np.random.default_rng(7)
    covered = []
    for _ in range(REPLICATIONS):
        data, events = stacked_panel(rng, ratios={"early": 0.8, "late": 0.8})
        effect = difference_in_differences(data=data, events=events, before=14, after=14, placebo=False,
                                           event_study=False).effect
        covered.append(effect.low <= 0.8 <= effect.high)
    coverage = float(np.mean(covered))
    print(f"stacked DiD coverage {coverage:.3f} over {REPLICATIONS}")
    assert abs(coverage - 0.95) <= TOLERANCE


def test_its_estimate_equals_statsmodels_formula_fit_on_the_same_design():
    data = its_series(np.random.default_rng(1), ratio=1.3)
    event = data["date"][56]
    ours = interrupted_time_series(data=data, event=event, placebo=False)
    frame = data.assign(trend=(data["date"] - event).dt.days / 365.25, post=(data["date"] >= event).astype(float),
                        weekday=data["date"].dt.day_of_week)
    direct = smf.glm("value ~ trend + post + C(weekday)", data=frame, family=sm.families.Poisson()).fit(scale="X2")
    low, high = np.exp(direct.conf_int().loc["post"])
    assert ours.effect.ratio == pytest.approx(np.exp(direct.params["post"]), rel=1e-9)
    assert (ours.effect.low, ours.effect.high) == pytest.approx((low, high), rel=1e-9)
    assert ours.effect.p_value == pytest.approx(direct.pvalues["post"], rel=1e-6)
    robust = interrupted_time_series(data=data, event=event, placebo=False, cov="HAC")
    hac = smf.glm("value ~ trend + post + C(weekday)", data=frame, family=sm.families.Poisson()).fit(
        cov_type="HAC", cov_kwds={"maxlags": 7})
    assert robust.effect.high == pytest.approx(np.exp(hac.conf_int().loc["post", 1]), rel=1e-9)


def test_its_gamma_with_weights_equals_statsmodels():
    rng = np.random.default_rng(4)
    dates = pd.date_range("2026-01-05", periods=90, freq="D")
    n = rng.integers(1, 9, 90)
    hours = rng.gamma(shape=2.0 * n, scale=np.where(np.arange(90) >= 45, 20.0, 30.0) / (2.0 * n))
    data = pd.DataFrame({"date": dates, "value": hours, "n": n})
    ours = interrupted_time_series(data=data, event=dates[45], family="gamma", weight="n", placebo=False,
                                   cov="nonrobust")
    frame = data.assign(trend=(dates - dates[45]).days / 365.25, post=(dates >= dates[45]).astype(float),
                        weekday=dates.day_of_week)
    direct = smf.glm("value ~ trend + post + C(weekday)", data=frame, var_weights=frame["n"],
                     family=sm.families.Gamma(link=sm.families.links.Log())).fit()
    assert ours.effect.ratio == pytest.approx(np.exp(direct.params["post"]), rel=1e-8)
    assert ours.effect.low == pytest.approx(np.exp(direct.conf_int().loc["post", 0]), rel=1e-8)


def test_did_estimate_equals_statsmodels_formula_fit_on_the_stacked_data():
    data, events = stacked_panel(np.random.default_rng(3), ratios={"early": 0.8, "late": 0.8})
    ours = difference_in_differences(data=data, events=events, before=21, after=21, placebo=False)
    rows = []
    for cohort in sorted(set(events.values())):
        treated = {u for u, d in events.items() if d == cohort}
        clean = {u for u in data["unit"].unique() if u not in events or events[u] >= cohort + pd.Timedelta(days=21)}
        window = data[(data["date"] >= cohort - pd.Timedelta(days=21)) & (data["date"] < cohort + pd.Timedelta(days=21))
                      & data["unit"].isin(treated | clean)]
        rows.append(window.assign(stack=str(cohort.date()), treated_post=window["unit"].isin(treated)
                                  * (window["date"] >= cohort)))
    stacked = pd.concat(rows, ignore_index=True)
    # each stack's first date is the reference of its date effects (the stack's unit effects carry its level)
    first = stacked.groupby("stack")["date"].transform("min")
    stacked["su"] = stacked["stack"] + stacked["unit"]
    stacked["sd"] = np.where(stacked["date"] == first, "0-reference", stacked["stack"] + stacked["date"].astype(str))
    direct = smf.glm("value ~ treated_post + C(su) + C(sd)", data=stacked.assign(treated_post=stacked["treated_post"]
                                                                               .astype(float)),
                     family=sm.families.Poisson()).fit(cov_type="cluster",
                                                       cov_kwds={"groups": pd.factorize(stacked["unit"])[0]})
    assert ours.effect.ratio == pytest.approx(np.exp(direct.params["treated_post"]), rel=1e-6)
    assert ours.effect.high == pytest.approx(np.exp(direct.conf_int().loc["treated_post", 1]), rel=1e-6)


def test_placebos_find_nothing_on_a_series_without_an_event_before_the_real_one():
    data = its_series(np.random.default_rng(8), ratio=0.6)
    result = interrupted_time_series(data=data, event=data["date"][56])
    assert [p.kind for p in result.placebos] == ["time", "time", "time"]
    assert result.placebo_alarms == 0
    assert result.effect.high < 1


def test_placebo_in_time_finds_an_earlier_shift():
    """A shift a month before the stated event: the placebo at the middle of the before-period sees it."""
    rng = np.random.default_rng(9)
    dates = pd.date_range("2026-01-05", periods=140, freq="D")
    mean = 10.0 * np.where(np.arange(140) >= 50, 0.5, 1.0)
    data = pd.DataFrame({"date": dates, "value": rng.poisson(mean)})
    result = interrupted_time_series(data=data, event=dates[100])
    assert result.placebo_alarms >= 1
    assert "placebo" in verdict(result, outcome=OutcomeWords("count", "cases reported", "上报案件"), event="x")


def test_placebo_in_place_sees_a_common_shock():
    rng = np.random.default_rng(10)
    treated = its_series(rng, ratio=0.4)
    others = pd.concat([its_series(rng, ratio=0.4).assign(unit=f"c{i}") for i in range(3)])
    result = interrupted_time_series(data=treated, event=treated["date"][56], placebo_units=others)
    assert sum(p.alarm for p in result.placebos if p.kind == "place") == 3


def test_verdict_words_follow_the_effect():
    data = its_series(np.random.default_rng(12), ratio=1.0)
    result = interrupted_time_series(data=data, event=data["date"][56])
    words = OutcomeWords("count", "cases reported", "上报案件")
    if not result.effect.significant(0.05):
        assert verdict(result, outcome=words, event="E").startswith("No clear change in cases reported after E")
        assert "没有明确变化" in verdict(result, outcome=words, event="E", language="zh")


def test_refuses_too_short_a_series():
    data = its_series(np.random.default_rng(1), ratio=1.0, days=20, event_day=10)
    with pytest.raises(ValueError, match="at least 14"):
        interrupted_time_series(data=data, event=data["date"][10])


def test_cli_on_a_panel_file_writes_estimates_and_placebos(tmp_path, capsys):
    from civicgrid.cli import main

    data, events = stacked_panel(np.random.default_rng(5), ratios={"early": 0.7, "late": 0.7})
    data.to_csv(tmp_path / "panel.csv", index=False)
    pd.DataFrame({"unit": list(events), "date": [str(d.date()) for d in events.values()]}).to_csv(
        tmp_path / "events.csv", index=False)
    code = main(["compare", "--panel", str(tmp_path / "panel.csv"), "--events", str(tmp_path / "events.csv"),
                 "--outcome-en", "cases reported", "--out", str(tmp_path / "out.csv")])
    assert code == 0
    out = pd.read_csv(tmp_path / "out.csv")
    assert {"its", "stacked_did", "stacked_did_placebo_place"} <= set(out["method"])
    did = out[out["method"] == "stacked_did"].iloc[0]
    assert did["low"] <= 0.7 <= did["high"]
    assert "Cases reported fell by" in capsys.readouterr().out
    assert main(["compare", "--panel", str(tmp_path / "panel.csv"), "--out", "-"]) == 2  # no event given
