"""BJS imputation estimator against pyfixest's ``did2s`` (Gardner's two-stage DID, pyfixest
0.60): the same point estimates, and the same standard errors when the BJS variance averages
the effects at the estimand's own level. did2s recovers the first-stage fixed effects by
iterative demeaning to its default tolerance, so agreement is to 1e-5 relative; an exact
dense-dummy least-squares imputation in the test checks the point estimates to 1e-10.
References: the default panel, a non-study user panel with controls, and ``df_het`` (the did2s
heterogeneous-effects panel shipped with pyfixest)."""

from __future__ import annotations

import warnings
from importlib import resources

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from bayes_resil.estimates import to_frame
from bayes_resil.freq.imputation import imputation, imputation_fit, linear_weights
from bayes_resil.study import StudyData
from conftest import make_user_panel

KW = dict(level=0.95, vcov="cluster", cluster="unit", drop_singletons=True, tag="t")


def did2s(p, second, first="~0|unit+time", y="y"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pf.did2s(p, yname=y, first_stage=first, second_stage=second, treatment="d",
                        cluster="unit")


def check_against_did2s(data: StudyData, controls: list[str]):
    rows, _ = imputation(data, {"pretrend_leads": 0}, controls, **KW)
    got = to_frame(rows).set_index("estimand")
    p = data.panel.dropna(subset=["y", *controls]).copy()
    first = "~" + (" + ".join(controls) if controls else "0") + "|unit+time"
    ref = did2s(p, "~d", first)
    assert got.loc["att", "estimate"] == pytest.approx(float(ref.coef()["d"]), rel=1e-5)
    assert got.loc["att", "std_error"] == pytest.approx(float(ref.se()["d"]), rel=1e-5)
    treated = p["d"] == 1
    # event-time and cohort effects: one dummy per level among treated observations, all
    # untreated observations in the reference category
    p["rel"] = np.where(treated, p["time"] - p["cohort"].astype(float), -1000).astype(int)
    p["coh"] = np.where(treated, p["cohort"].astype(float), -1000).astype(int)
    groups = [("rel", "event[{}]", -1000), ("coh", "att[cohort={}]", -1000)]
    if "region" in p.columns:  # region rows (the Bayesian hetero_region's comparators)
        p["reg"] = np.where(treated, p["region"].astype(str), "untreated")
        groups.append(("reg", "att[{}]", "'untreated'"))
    for var, label, ref_level in groups:
        ref = did2s(p, f"~i({var}, ref={ref_level})", first)
        for name, value in ref.coef().items():
            level = name.split("::")[1]
            row = got.loc[label.format(level if var == "reg" else int(level))]
            assert row["estimate"] == pytest.approx(value, rel=1e-5)
            assert row["std_error"] == pytest.approx(float(ref.se()[name]), rel=1e-5)
    return got


def test_point_estimates_equal_an_exact_dense_imputation(study):
    p = study.panel.dropna(subset=["y"]).reset_index(drop=True)
    units = pd.get_dummies(p["unit"]).to_numpy(float)
    times = pd.get_dummies(p["time"]).to_numpy(float)[:, 1:]
    z = np.column_stack([units, times])
    untreated = p["d"].to_numpy() == 0
    coef, *_ = np.linalg.lstsq(z[untreated], p.loc[untreated, "y"].to_numpy(), rcond=None)
    tau = (p["y"].to_numpy() - z @ coef)[~untreated]
    rows, _ = imputation(study, {"pretrend_leads": 0}, [], **KW)
    got = to_frame(rows).set_index("estimand")
    assert got.loc["att", "estimate"] == pytest.approx(tau.mean(), abs=1e-10)
    e = (p["time"] - p["cohort"].astype(float)).to_numpy()[~untreated]
    for k in (0, 3, 7):
        assert got.loc[f"event[{k}]", "estimate"] == pytest.approx(tau[e == k].mean(),
                                                                   abs=1e-10)


def test_matches_did2s_on_the_default_panel(study):
    got = check_against_did2s(study, [])
    assert {"att[East]", "att[Central]", "att[West]"} <= set(got.index)  # compared above
    # and it recovers the simulated truth where TWFE does not (truth.csv)
    truth = study.truth.query("outcome == 'y'").set_index("estimand")["true_effect"]
    assert abs(got.loc["att", "estimate"] - truth["att"]) < 0.2 * got.loc["att", "std_error"]


def test_matches_did2s_with_controls_on_a_user_panel():
    df = make_user_panel().rename(columns={"firm": "unit", "year": "time", "sales": "y"})
    df["cohort"] = df["first_treat"].where(df["first_treat"] > 0).astype("Int64")
    df["d"] = ((df["first_treat"] > 0) & (df["time"] >= df["first_treat"])).astype(int)
    data = StudyData(panel=df, source="t", simulated=False, study=None, controls=["x1", "x2"],
                     outcome_label="y")
    check_against_did2s(data, ["x1", "x2"])


def test_matches_did2s_on_df_het():
    path = resources.files("pyfixest") / "did" / "data" / "df_het.csv"
    df = pd.read_csv(path).rename(columns={"year": "time", "dep_var": "y"})
    df["unit"] = df["unit"].astype(str)
    df["cohort"] = df["g"].where(df["g"] > 0).astype("Int64")
    df["d"] = df["treat"].astype(int)
    data = StudyData(panel=df, source="df_het", simulated=False, study=None, controls=[],
                     outcome_label="y")
    got = check_against_did2s(data, [])
    # df_het's true average effect among treated observations is in its 'te' + dynamic column
    true_att = (df.loc[df["d"] == 1, "te"] + df.loc[df["d"] == 1, "te_dynamic"]).mean()
    assert abs(got.loc["att", "estimate"] - true_att) < 3 * got.loc["att", "std_error"]


def test_estimates_are_linear_in_y_with_the_imputation_weights(study):
    fit = imputation_fit(study.panel.dropna(subset=["y"]), [])
    n1 = int(fit["treated"].sum())
    rng = np.random.default_rng(0)
    w = rng.random(n1)
    v = linear_weights(fit, w)
    assert v @ fit["y"] == pytest.approx(float(w @ fit["tau"]), rel=1e-9)
    # imputation weights on untreated observations sum to minus the treated weights
    assert v[~fit["treated"]].sum() == pytest.approx(-w.sum(), rel=1e-9)


def test_pretrend_test_matches_a_lead_regression(study):
    rows, _ = imputation(study, {"pretrend_leads": 3}, [], **KW)
    wald = to_frame(rows).set_index("estimand").loc["pretrend_wald"]
    u = study.panel.dropna(subset=["y"])
    u = u[u["d"] == 0].copy()
    e = u["time"] - u["cohort"].astype(float)
    for k in (1, 2, 3):
        u[f"l{k}"] = (e == -k).fillna(False).astype(int)
    ref = pf.feols("y ~ l1 + l2 + l3 | unit + time", data=u, vcov={"CRV1": "unit"})
    b = ref.coef().to_numpy()
    f_ref = float(b @ np.linalg.solve(ref._vcov, b)) / 3
    assert wald["statistic"] == pytest.approx(f_ref, rel=1e-5)
