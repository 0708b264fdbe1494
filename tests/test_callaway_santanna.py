"""Callaway-Sant'Anna ATT(g,t) against an independent 2x2 computation (pyfixest regression of
the outcome change on the cohort dummy with HC0 errors - the influence-function variance of a
2x2 DID), aggregation recomputed in the test, bootstrap vs analytic SEs, and the truth."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from bayes_resil.errors import InputError
from bayes_resil.estimates import to_frame
from bayes_resil.freq.callaway_santanna import callaway_santanna
from bayes_resil.freq.decomposition import balanced_sample

KW = dict(level=0.95, vcov="cluster", cluster="unit", drop_singletons=True, tag="t")


def two_by_two(sample, g, t, base, control):
    wide = sample.pivot(index="unit", columns="time", values="y")
    cohort = sample.drop_duplicates("unit").set_index("unit")["cohort"].reindex(wide.index)
    c = cohort.astype("Float64").fillna(np.inf).astype(float)
    in_c = ~np.isfinite(c) if control == "never" else (c > max(t, base)) & (c != g)
    keep = (c == g) | in_c
    df = wide.loc[keep, [base, t]].copy()
    df["dy"] = df[t] - df[base]
    df["treat"] = (c[keep] == g).astype(int)
    fit = pf.feols("dy ~ treat", data=df.reset_index(drop=True), vcov="hetero",
                   ssc=pf.ssc(k_adj=False, G_adj=False))
    return float(fit.coef()["treat"]), float(fit.se()["treat"])


@pytest.mark.parametrize("control", ["never", "not_yet"])
def test_group_time_atts_match_2x2_regressions(study, control):
    rows, _ = callaway_santanna(study, {"control": control, "bootstrap": 99}, [], **KW)
    got = to_frame(rows).set_index("estimand")
    sample, _ = balanced_sample(study.panel)
    for g, t, base in [(2016, 2018, 2015), (2018, 2020, 2017), (2020, 2022, 2019),
                       (2019, 2017, 2016)]:
        est, se = two_by_two(sample, g, t, base, control)
        row = got.loc[f"att[{g},{t}]"]
        assert row["estimate"] == pytest.approx(est, rel=1e-10)
        assert row["std_error"] == pytest.approx(se, rel=1e-8)


def test_aggregations_and_bootstrap(study):
    rows, _ = callaway_santanna(study, {"bootstrap": 999, "seed": 1}, [], **KW)
    got = to_frame(rows).set_index("estimand")
    cells = got[got.index.str.match(r"att\[\d+,\d+\]")].copy()
    cells["g"] = [int(s[4:8]) for s in cells.index]
    cells["t"] = [int(s[9:13]) for s in cells.index]
    sample, _ = balanced_sample(study.panel)
    size = sample.drop_duplicates("unit")["cohort"].value_counts()
    post = cells[cells["t"] >= cells["g"]].copy()
    post["w"] = post["g"].map(size).astype(float)
    assert got.loc["att", "estimate"] == pytest.approx(
        float((post["w"] * post["estimate"]).sum() / post["w"].sum()), rel=1e-10)
    e3 = post[post["t"] - post["g"] == 3]
    assert got.loc["event[3]", "estimate"] == pytest.approx(
        float((e3["w"] * e3["estimate"]).sum() / e3["w"].sum()), rel=1e-10)
    g16 = post[post["g"] == 2016]
    assert got.loc["att[cohort=2016]", "estimate"] == pytest.approx(g16["estimate"].mean())
    # the multiplier bootstrap reproduces the analytic influence-function SEs where many
    # units contribute (for a 12-city cohort's single cell the IQR-based bootstrap SE of R did
    # runs up to 1.4x: the sum of few large terms is far from normal)
    pooled = ["att", "event[0]", "event[1]", "event[2]", "event[3]", "event[4]"]
    ratio = got.loc[pooled, "se_bootstrap"] / got.loc[pooled, "std_error"]
    assert ratio.between(0.85, 1.2).all(), ratio
    ev = got[got.index.str.startswith("event[") & got["uniform_critical"].notna()]
    assert (ev["uniform_critical"] > 1.96).all()  # a uniform band is wider than pointwise


def test_recovers_the_simulated_truth(study):
    rows, _ = callaway_santanna(study, {"bootstrap": 99}, [], **KW)
    got = to_frame(rows).set_index("estimand")
    truth = study.truth.query("outcome == 'y'").set_index("estimand")["true_effect"]
    for name in ["att", "event[0]", "event[2]", "event[4]", "att[cohort=2016]"]:
        r = got.loc[name]
        assert r["ci_lower"] <= truth[name] <= r["ci_upper"], name
    leads = got.loc[[f"event[{k}]" for k in range(-5, 0)]]
    assert (leads["estimate"].abs() < 3 * leads["std_error"]).all()


def test_robust_estimators_recover_the_truth_where_twfe_does_not(study, default_cfg):
    """Issue #5's claim on the simulated default panel (truth.csv): with the six controls the
    TWFE DID's CI excludes the true ATT; CS, Sun-Abraham and imputation land close to it."""
    from bayes_resil.freq.imputation import imputation
    from bayes_resil.freq.sun_abraham import sun_abraham
    from bayes_resil.ols import fe_ols

    truth = study.truth.query("outcome == 'y' and estimand == 'att'")["true_effect"].iloc[0]
    twfe = fe_ols(study.panel, "y", ["d", *study.controls], ["unit", "time"])
    lo, hi = twfe.conf_int()[0]
    assert not lo <= truth <= hi
    cs = to_frame(callaway_santanna(study, {"bootstrap": 9}, [], **KW)[0]).set_index(
        "estimand").loc["att", "estimate"]
    sa = to_frame(sun_abraham(study, {}, [], **KW)[0]).set_index("estimand").loc["att",
                                                                                   "estimate"]
    imp = to_frame(imputation(study, {"pretrend_leads": 0}, [], **KW)[0]).set_index(
        "estimand").loc["att", "estimate"]
    gap = abs(twfe.coef[0] - truth)
    for est in (cs, sa, imp):
        assert abs(est - truth) < gap / 4


# --- doubly robust with covariates -------------------------------------------------------------


def cell_data(study, g=2018, t=2020, covs=("lngdp", "population")):
    sample, _ = balanced_sample(study.panel.dropna(subset=list(covs)))
    base = g - 1
    first = sample.drop_duplicates("unit").set_index("unit")["cohort"]
    wide = sample.pivot(index="unit", columns="time", values="y")
    keep = ((first == g).fillna(False) | first.isna()).to_numpy()
    dy = (wide[t] - wide[base])[keep].to_numpy()
    d = (first[keep] == g).fillna(False).astype(float).to_numpy()
    x = np.column_stack([sample[sample["time"] == base].set_index("unit")[c].reindex(
        wide.index)[keep].to_numpy() for c in covs])
    return dy, d, x


def test_intercept_only_dr_is_the_unconditional_estimator(study):
    from bayes_resil.freq.callaway_santanna import group_time

    sample, _ = balanced_sample(study.panel)
    periods = np.sort(sample["time"].unique())
    wide = sample.pivot(index="unit", columns="time", values="y").reindex(columns=periods)
    cohort = sample.drop_duplicates("unit").set_index("unit")["cohort"].reindex(
        wide.index).astype("Float64").to_numpy(dtype=float, na_value=np.inf)
    a, psi_a = group_time(wide.to_numpy(), cohort, periods)
    b, psi_b = group_time(wide.to_numpy(), cohort, periods,
                          xwide=np.zeros((len(wide), len(periods), 0)))
    np.testing.assert_allclose(b["estimate"], a["estimate"], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(psi_b, psi_a, rtol=1e-8, atol=1e-10)


def test_dr_point_estimate_matches_statsmodels(study):
    import statsmodels.api as sm

    from bayes_resil.freq.callaway_santanna import dr_att

    dy, d, x = cell_data(study)
    xc = sm.add_constant(x)
    ps = sm.Logit(d, xc).fit(disp=0).predict(xc)
    out = xc @ sm.OLS(dy[d == 0], xc[d == 0]).fit().params
    w0 = ps * (1 - d) / (1 - ps)
    ref = np.mean(d * (dy - out)) / d.mean() - np.mean(w0 * (dy - out)) / w0.mean()
    att, psi = dr_att(dy, d, xc)
    assert att == pytest.approx(ref, rel=1e-8)
    reg, _ = dr_att(dy, d, xc, method="reg")
    assert reg == pytest.approx(np.mean(dy[d == 1] - out[d == 1]), rel=1e-10)


def test_dr_influence_function_se_matches_a_unit_bootstrap(study):
    from bayes_resil.freq.callaway_santanna import dr_att

    dy, d, x = cell_data(study)
    xc = np.column_stack([np.ones(len(dy)), x])
    att, psi = dr_att(dy, d, xc)
    se = np.sqrt((psi**2).sum()) / len(dy)
    rng = np.random.default_rng(0)
    boot = []
    for _ in range(300):
        i = rng.integers(0, len(dy), len(dy))
        if d[i].sum() >= 5:
            boot.append(dr_att(dy[i], d[i], xc[i])[0])
    assert np.std(boot, ddof=1) / se == pytest.approx(1.0, abs=0.15)


def test_group_time_atts_on_df_het_match_2x2_regressions():
    """df_het: the heterogeneous-effects panel of R did2s, shipped with pyfixest 0.60."""
    from importlib import resources

    import pandas as pd

    from bayes_resil.study import StudyData

    df = pd.read_csv(resources.files("pyfixest") / "did" / "data" / "df_het.csv")
    df = df.rename(columns={"year": "time", "dep_var": "y"})
    df["unit"] = df["unit"].astype(str)
    df["cohort"] = df["g"].where(df["g"] > 0).astype("Int64")
    df["d"] = df["treat"].astype(int)
    data = StudyData(panel=df, source="df_het", simulated=False, study=None, controls=[],
                     outcome_label="y")
    got = to_frame(callaway_santanna(data, {"bootstrap": 9}, [], **KW)[0]).set_index(
        "estimand")
    sample, _ = balanced_sample(df)
    for g, t in [(2000, 2003), (2010, 2012), (2000, 1998)]:
        base = g - 1 if t >= g else t - 1
        est, se = two_by_two(sample, g, t, base, "never")
        assert got.loc[f"att[{g},{t}]", "estimate"] == pytest.approx(est, rel=1e-10)
        assert got.loc[f"att[{g},{t}]", "std_error"] == pytest.approx(se, rel=1e-8)
    true_att = (df.loc[df["d"] == 1, "te"] + df.loc[df["d"] == 1, "te_dynamic"]).mean()
    assert abs(got.loc["att", "estimate"] - true_att) < 3 * got.loc["att", "std_error"]


def test_clustered_influence_function_se_is_the_cr0_of_the_2x2_regression(study):
    """freq.cluster=province: each ATT(g,t)'s influence-function SE summed within provinces
    equals the CR0 cluster-robust SE of its 2x2 regression (the same influence function)."""
    kw = {**KW, "cluster": "province"}
    rows, notes = callaway_santanna(study, {"control": "never", "bootstrap": 99}, [], **kw)
    got = to_frame(rows).set_index("estimand")
    sample, _ = balanced_sample(study.panel)
    wide = sample.pivot(index="unit", columns="time", values="y")
    units = sample.drop_duplicates("unit").set_index("unit").reindex(wide.index)
    c = units["cohort"].astype("Float64").fillna(np.inf).astype(float)
    for g, t, base in [(2016, 2018, 2015), (2019, 2021, 2018)]:
        keep = (c == g) | ~np.isfinite(c)
        df = pd.DataFrame({"dy": wide.loc[keep, t] - wide.loc[keep, base],
                           "treat": (c[keep] == g).astype(int),
                           "province": units.loc[keep, "province"]}).reset_index(drop=True)
        fit = pf.feols("dy ~ treat", data=df, vcov={"CRV1": "province"},
                       ssc=pf.ssc(k_adj=False, G_adj=False))
        row = got.loc[f"att[{g},{t}]"]
        assert row["std_error"] == pytest.approx(float(fit.se()["treat"]), rel=1e-8)
        assert row["vcov"] == "influence function, clustered by province"
    assert got.loc["att", "n_clusters"] == sample["province"].nunique()
    # not the unit-clustered SE any more
    unit_rows, _ = callaway_santanna(study, {"control": "never", "bootstrap": 99}, [], **KW)
    assert to_frame(unit_rows).set_index("estimand").loc["att", "std_error"] != pytest.approx(
        got.loc["att", "std_error"], rel=1e-3)


def test_vcov_that_does_not_apply_is_refused_with_a_note(study):
    rows, notes = callaway_santanna(study, {"control": "never", "bootstrap": 99}, [],
                                    **{**KW, "vcov": "hc1"})
    assert any("freq.vcov=hc1 does not apply" in n for n in notes)
    assert to_frame(rows)["vcov"].eq("influence function, clustered by unit").all()
    with pytest.raises(InputError, match="changes within"):
        p = study.panel.assign(grp=np.arange(len(study.panel)) % 3)
        callaway_santanna(dataclasses.replace(study, panel=p), {"bootstrap": 9}, [],
                          **{**KW, "cluster": "grp"})


def test_bootstrap_in_chunks_gives_the_same_draws(study, monkeypatch):
    import bayes_resil.freq.callaway_santanna as cs

    def run():
        rows, _ = callaway_santanna(study, {"control": "never", "bootstrap": 40}, [], **KW)
        return to_frame(rows)["se_bootstrap"].to_numpy()

    whole = run()
    monkeypatch.setattr(cs, "BOOT_CHUNK", 7)  # 40 draws in 6 chunks
    np.testing.assert_allclose(run(), whole, rtol=1e-12)  # same draws (sums in another order)
