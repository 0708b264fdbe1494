"""The frequentist parity suite against independent references (pyfixest = R fixest's
conventions; its own test-suite checks it against R fixest).

Tolerances: point estimates 1e-8 relative, standard errors 1e-6 relative.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from scipy import stats

from bayes_resil.estimates import to_frame
from bayes_resil.freq.event_study import event_study
from bayes_resil.freq.heterogeneity import heterogeneity
from bayes_resil.freq.instrumental import instrumental
from bayes_resil.freq.mediation import mediation
from bayes_resil.freq.placebo import placebo, placebo_draws
from bayes_resil.freq.robustness import robustness
from bayes_resil.iv import fe_iv
from bayes_resil.study import StudyData
from conftest import make_user_panel

KW = dict(level=0.95, vcov="cluster", cluster="unit", drop_singletons=True, tag="test")
CRV = {"CRV1": "unit"}


def rows_of(rows) -> pd.DataFrame:
    return to_frame(rows).set_index(["method", "outcome", "estimand"])


def check(row: pd.Series, fit, term: str) -> None:
    assert row["estimate"] == pytest.approx(float(fit.coef()[term]), rel=1e-8)
    assert row["std_error"] == pytest.approx(float(fit.se()[term]), rel=1e-6)
    assert row["n_obs"] == fit._N


def user_study(**extra_cols) -> StudyData:
    """The non-study user panel as StudyData (other units, years; no region)."""
    df = make_user_panel().rename(columns={"firm": "unit", "year": "time", "sales": "y"})
    df["cohort"] = df["first_treat"].where(df["first_treat"] > 0).astype("Int64")
    df["d"] = ((df["first_treat"] > 0) & (df["time"] >= df["first_treat"])).astype(int)
    df = df.assign(**extra_cols)
    return StudyData(panel=df, source="test", simulated=False, study=None,
                     controls=["x1", "x2"], outcome_label="sales")


def binned_event_columns(p: pd.DataFrame, lo=-5, hi=5, ref=-1) -> pd.DataFrame:
    """Independent construction of binned event-time dummies."""
    out = pd.DataFrame(index=p.index)
    for k in range(lo, hi + 1):
        if k == ref:
            continue
        e = p["time"] - p["cohort"].astype(float)
        if k == lo:
            hit = e <= lo
        elif k == hi:
            hit = e >= hi
        else:
            hit = e == k
        out[f"ev_{k + 10}"] = hit.fillna(False).astype(int)
    return out.loc[:, out.sum() > 0]


@pytest.mark.parametrize("which", ["default", "user"])
def test_event_study_and_pretrend_wald_match_pyfixest(study, which):
    data = study if which == "default" else user_study()
    window = (-5, 5) if which == "default" else (-3, 3)
    ctrl = list(data.controls)
    got = rows_of(event_study(data, {"window": list(window), "reference": -1}, ctrl, **KW))
    ev = binned_event_columns(data.panel, *window)
    frame = pd.concat([data.panel, ev], axis=1)
    fit = pf.feols(f"y ~ {' + '.join([*ev.columns, *ctrl])} | unit + time", data=frame,
                   vcov=CRV)
    for col in ev.columns:
        k = int(col[3:]) - 10
        check(got.loc[("event_study", "y", f"event[{k}]")], fit, col)
    assert got.loc[("event_study", "y", "event[-1]"), "estimate"] == 0.0
    leads = [c for c in ev.columns if int(c[3:]) - 10 < 0]
    b = fit.coef()[leads].to_numpy()
    v = fit._vcov[np.ix_([list(fit.coef().index).index(c) for c in leads],
                         [list(fit.coef().index).index(c) for c in leads])]
    f_ref = float(b @ np.linalg.solve(v, b)) / len(leads)
    wald = got.loc[("event_study", "y", "pretrend_wald")]
    assert wald["statistic"] == pytest.approx(f_ref, rel=1e-6)
    g = data.panel["unit"].nunique()
    assert wald["p_value"] == pytest.approx(stats.f.sf(f_ref, len(leads), g - 1), rel=1e-6)


def test_placebo_vectorised_equals_a_loop_of_regressions(study):
    ctrl = list(study.controls)
    # in chunks of 3 (3 + 1 permutations): the same draws as all at once, and as regressions
    actual, draws, n = placebo_draws(study, ctrl, permutations=4, seed=123, chunk=3)
    np.testing.assert_allclose(draws, placebo_draws(study, ctrl, 4, seed=123, chunk=64)[1],
                               rtol=1e-10)
    sub = study.panel.dropna(subset=["y", *ctrl])
    units = sub["unit"].unique()  # first-appearance order, as the permutation indexes units
    cohort = sub.drop_duplicates("unit").set_index("unit")["cohort"].reindex(units)
    rng = np.random.default_rng(123)
    for p in range(4):
        perm = rng.permutation(len(units))
        new = pd.Series(cohort.to_numpy()[perm], index=units)
        c = sub["unit"].map(new).astype(float)
        frame = sub.assign(dp=(sub["time"] >= c).astype(int))
        fit = pf.feols(f"y ~ dp + {' + '.join(ctrl)} | unit + time", data=frame, vcov="iid")
        assert draws[p] == pytest.approx(float(fit.coef()["dp"]), rel=1e-8)
    ref = pf.feols(f"y ~ d + {' + '.join(ctrl)} | unit + time", data=sub, vcov="iid")
    assert actual == pytest.approx(float(ref.coef()["d"]), rel=1e-8) and n == ref._N


def test_placebo_row_and_permutation_p_value(study):
    rows, table = placebo(study, {"permutations": 200, "seed": 5}, [], level=0.95, tag="t")
    r = rows[0]
    d = table["estimate"].to_numpy()
    assert r.p_value == (1 + np.sum(np.abs(d) >= abs(r.extra["actual_estimate"]))) / 201
    assert r.estimate == pytest.approx(d.mean()) and r.std_error == pytest.approx(d.std(ddof=1))
    # the simulated effect is large: no permutation comes close (p at its floor 1/201)
    assert r.p_value == pytest.approx(1 / 201)
    # placebo coefficients are centred on zero
    assert abs(d.mean()) < 3 * d.std() / np.sqrt(len(d))


@pytest.mark.parametrize("which", ["default", "user"])
def test_iv_matches_pyfixest_2sls(study, which):
    data = study if which == "default" else user_study(
        light=np.random.default_rng(1).lognormal(1, 0.5, len(make_user_panel())))
    ctrl = list(data.controls)
    got = rows_of(instrumental(data, {"instrument": "light", "post": "own"}, ctrl, **KW)[0])
    frame = data.panel.assign(z=data.panel["light"] * data.panel["d"])
    fit = pf.feols(f"y ~ {' + '.join(ctrl)} | unit + time | d ~ z", data=frame, vcov=CRV)
    check(got.loc[("iv_2sls", "y", "att")], fit, "d")
    # first stage on the 2SLS sample, and its F = t^2 with the clustered SE
    sample = frame.dropna(subset=["y", "d", "z", *ctrl])
    fs = pf.feols(f"d ~ z + {' + '.join(ctrl)} | unit + time", data=sample, vcov=CRV)
    first = got.loc[("iv_first_stage", "d", "coef[light_x_post]")]
    check(first, fs, "z")
    t = float(fs.coef()["z"] / fs.se()["z"])
    assert first["first_stage_F"] == pytest.approx(t * t, rel=1e-6)


def test_weak_instrument_is_flagged():
    rng = np.random.default_rng(0)
    data = user_study(noise=rng.normal(size=len(make_user_panel())))
    frame = data.panel.assign(z=data.panel["noise"])
    res = fe_iv(frame, "y", "d", ["z"], [], ["unit", "time"])
    assert res.first_stage_f < 10
    rows, _ = instrumental(data, {"instrument": "noise", "post": "common"}, [], **KW)
    assert "WEAK INSTRUMENT" in rows[1].note and rows[1].extra["weak_instrument"]


def test_robustness_matches_pyfixest(study):
    ctrl = list(study.controls)
    cfg = {"drop_flag": "is_capital_or_municipality", "winsorize": 0.01,
           "policies": ["bdcpz", "bci", "cftz"]}
    rows, skipped = robustness(study, cfg, ctrl, **KW)
    got = rows_of(rows)
    assert skipped == []
    p = study.panel
    rhs = " + ".join(["d", *ctrl])
    fit = pf.feols(f"y ~ {rhs} | unit + time", data=p[p["is_capital_or_municipality"] == 0],
                   vcov=CRV)
    check(got.loc[("robust_drop_capitals", "y", "att")], fit, "d")
    fit = pf.feols(f"y ~ {rhs} + bdcpz + bci + cftz | unit + time", data=p, vcov=CRV)
    check(got.loc[("robust_policies", "y", "att")], fit, "d")
    check(got.loc[("robust_policies", "y", "coef[bci]")], fit, "bci")
    sample = p.dropna(subset=["y", *ctrl]).copy()
    for c in ["y", *ctrl]:  # pandas' own quantile as the reference winsoriser
        sample[c] = sample[c].clip(sample[c].quantile(0.01), sample[c].quantile(0.99))
    fit = pf.feols(f"y ~ {rhs} | unit + time", data=sample, vcov=CRV)
    check(got.loc[("robust_winsorize", "y", "att")], fit, "d")


def test_robustness_skips_what_a_user_panel_lacks():
    rows, skipped = robustness(user_study(), {"drop_flag": "is_capital", "winsorize": 0.01,
                                              "policies": ["bci"]}, ["x1"], **KW)
    assert [r.method for r in rows if r.estimand == "att"] == ["robust_winsorize"]
    assert len(skipped) == 2 and all(": " in s for s in skipped)


def test_heterogeneity_matches_pyfixest(study):
    ctrl = list(study.controls)
    cfg = {"region": "region", "cohort_groups": {"batches=1-2": [2015, 2016]}}
    got = rows_of(heterogeneity(study, cfg, ctrl, **KW)[0])
    p = study.panel
    rhs = " + ".join(["d", *ctrl])
    fit = pf.feols(f"y ~ {rhs} | unit + time", data=p[p["region"] == "West"], vcov=CRV)
    check(got.loc[("twfe_subsample", "y", "att[West]")], fit, "d")
    sub = p[p["cohort"].isna() | p["cohort"].isin([2015, 2016])]
    fit = pf.feols(f"y ~ {rhs} | unit + time", data=sub, vcov=CRV)
    check(got.loc[("twfe_subsample", "y", "att[batches=1-2]")], fit, "d")
    frame = p.assign(dE=p["d"] * (p["region"] == "East"), dC=p["d"] * (p["region"] == "Central"),
                     dW=p["d"] * (p["region"] == "West"))
    fit = pf.feols(f"y ~ dE + dC + dW + {' + '.join(ctrl)} | unit + time", data=frame, vcov=CRV)
    check(got.loc[("twfe_interaction", "y", "att[East]")], fit, "dE")
    check(got.loc[("twfe_interaction", "y", "att[Central]")], fit, "dC")


def test_heterogeneity_without_region_is_skipped_with_a_reason():
    rows, skipped = heterogeneity(user_study(), {"region": "region",
                                                 "cohort_groups": {"early": [2004]}},
                                  [], **KW)
    assert [r.estimand for r in rows] == ["att[early]"]
    assert skipped == ["heterogeneity by region: no column 'region' in the panel"]


def test_mediation_paths_match_pyfixest_and_bootstrap_is_sane(study):
    ctrl = list(study.controls)
    cfg = {"mediators": ["ln_patents", "ln_employment"], "bootstrap": 200, "seed": 3}
    rows, _ = mediation(study, cfg, ctrl, **KW)
    got = rows_of(rows)
    p = study.panel
    rhs = " + ".join(["d", *ctrl])
    fa = pf.feols(f"ln_patents ~ {rhs} | unit + time", data=p, vcov=CRV)
    check(got.loc[("mediation_a", "ln_patents", "att")], fa, "d")
    fb = pf.feols(f"y ~ {rhs} + ln_patents | unit + time", data=p, vcov=CRV)
    check(got.loc[("mediation_b", "y", "coef[ln_patents]")], fb, "ln_patents")
    check(got.loc[("mediation_b", "y", "direct[ln_patents]")], fb, "d")
    common = p.dropna(subset=["y", "d", *ctrl, "ln_patents", "ln_employment"])
    fa_c = pf.feols(f"ln_patents ~ {rhs} | unit + time", data=common, vcov=CRV)
    fb_c = pf.feols(f"y ~ {rhs} + ln_patents | unit + time", data=common, vcov=CRV)
    ind = got.loc[("mediation_indirect", "y", "indirect[ln_patents]")]
    assert ind["estimate"] == pytest.approx(
        float(fa_c.coef()["d"] * fb_c.coef()["ln_patents"]), rel=1e-8)
    assert ind["ci_lower"] < ind["estimate"] < ind["ci_upper"]
    # the unit bootstrap's sd of a*b is close to the delta-method sd from the clustered SEs
    a, sa = float(fa_c.coef()["d"]), float(fa_c.se()["d"])
    b, sb = float(fb_c.coef()["ln_patents"]), float(fb_c.se()["ln_patents"])
    delta = np.sqrt(a * a * sb * sb + b * b * sa * sa)
    assert 0.6 < ind["std_error"] / delta < 1.6
