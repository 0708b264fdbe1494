"""Sun-Abraham interaction-weighted event study: the saturated regression against pyfixest
(R fixest conventions), the cohort-share aggregation recomputed in the test, and the truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from bayes_resil.estimates import to_frame
from bayes_resil.freq.sun_abraham import sun_abraham
from bayes_resil.study import StudyData
from conftest import make_user_panel

KW = dict(level=0.95, vcov="cluster", cluster="unit", drop_singletons=True, tag="t")


def reference(p: pd.DataFrame, controls: list[str]) -> dict[int, tuple[float, float]]:
    """Independent saturated regression (pyfixest) and cohort-share aggregation."""
    p = p.dropna(subset=["y", *controls]).copy()
    e = p["time"] - p["cohort"].astype(float)
    names = {}
    for g in sorted(p["cohort"].dropna().unique()):
        for k in sorted(e[p["cohort"] == g].unique()):
            if k != -1:
                col = f"c{int(g)}e{int(k) + 100}"
                p[col] = ((p["cohort"] == g) & (e == k)).astype(int)
                names[col] = (int(g), int(k))
    fit = pf.feols(f"y ~ {' + '.join([*names, *controls])} | unit + time", data=p,
                   vcov={"CRV1": "unit"})
    coef, vcov = fit.coef(), fit._vcov
    order = list(coef.index)
    out = {}
    for k in sorted({k for _, k in names.values()}):
        cols = [c for c, (_, kk) in names.items() if kk == k]
        n = np.array([p[c].sum() for c in cols], float)
        w = np.zeros(len(order))
        w[[order.index(c) for c in cols]] = n / n.sum()
        out[k] = (float(w @ coef.to_numpy()), float(np.sqrt(w @ vcov @ w)))
    return out


@pytest.mark.parametrize("which", ["default", "user"])
def test_matches_a_saturated_pyfixest_regression(study, which):
    if which == "default":
        data, controls = study, []
    else:
        df = make_user_panel().rename(columns={"firm": "unit", "year": "time", "sales": "y"})
        df["cohort"] = df["first_treat"].where(df["first_treat"] > 0).astype("Int64")
        df["d"] = ((df["first_treat"] > 0) & (df["time"] >= df["first_treat"])).astype(int)
        data = StudyData(panel=df, source="t", simulated=False, study=None,
                         controls=["x1", "x2"], outcome_label="y")
        controls = ["x1", "x2"]
    rows, _ = sun_abraham(data, {"window": [-3, 3]}, controls, **KW)
    got = to_frame(rows).set_index("estimand")
    ref = reference(data.panel, controls)
    for k in range(-3, 4):
        if k == -1:
            assert got.loc["event[-1]", "estimate"] == 0.0
            continue
        est, se = ref[k]
        assert got.loc[f"event[{k}]", "estimate"] == pytest.approx(est, rel=1e-8)
        assert got.loc[f"event[{k}]", "std_error"] == pytest.approx(se, rel=1e-6)


def test_recovers_the_simulated_truth_and_flat_leads(study):
    rows, _ = sun_abraham(study, {"window": [-5, 5]}, [], **KW)
    got = to_frame(rows).set_index("estimand")
    truth = study.truth.query("outcome == 'y'").set_index("estimand")["true_effect"]
    for k in range(0, 5):
        r = got.loc[f"event[{k}]"]
        assert r["ci_lower"] <= truth[f"event[{k}]"] <= r["ci_upper"]
    leads = got.loc[[f"event[{k}]" for k in (-5, -4, -3, -2)]]
    assert (leads["ci_lower"] <= 0).all() and (leads["ci_upper"] >= 0).all()
    assert got.loc["att", "ci_lower"] <= truth["att"] <= got.loc["att", "ci_upper"]


def test_without_never_treated_the_last_cohort_is_the_control():
    df = make_user_panel(unbalanced=False).rename(columns={"firm": "unit", "year": "time",
                                                           "sales": "y"})
    df = df[df["first_treat"] > 0].copy()
    df["cohort"] = df["first_treat"].astype("Int64")
    df["d"] = (df["time"] >= df["first_treat"]).astype(int)
    data = StudyData(panel=df, source="t", simulated=False, study=None, controls=[],
                     outcome_label="y")
    rows, notes = sun_abraham(data, {"window": [-2, 1]}, [], **KW)
    assert notes and "cohort 2006 serves as the comparison group" in notes[0]
    got = to_frame(rows).set_index("estimand")
    assert np.isfinite(got.loc["event[0]", "estimate"])
