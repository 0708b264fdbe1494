"""Fixed-effects OLS against pyfixest (an independent implementation of R fixest).

Tolerances: point estimates 1e-8 relative, standard errors 1e-6 relative (issue #3).
pyfixest's own tests compare it with R fixest; its defaults (ssc(k_adj=True,
k_fixef='nonnested', G_adj=True), fixef_rm='singleton') are the conventions we follow.
"""

from __future__ import annotations

import numpy as np
import pyfixest as pf
import pytest

from bayes_resil.fe import demean
from bayes_resil.ols import drop_singletons, fe_ols
from conftest import make_user_panel

VCOV = {"cluster": {"CRV1": "unit"}, "hc1": "hetero", "iid": "iid"}


def _compare(df, y, x, vcov, cluster="unit"):
    ours = fe_ols(df, y, x, ["unit", "time"], cluster=cluster, vcov=vcov)
    ref_vcov = {"CRV1": cluster} if vcov == "cluster" else VCOV[vcov]
    ref = pf.feols(f"{y} ~ {' + '.join(x)} | unit + time", data=df, vcov=ref_vcov)
    np.testing.assert_allclose(ours.coef, ref.coef().loc[x].to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(ours.se, ref.se().loc[x].to_numpy(), rtol=1e-6)
    assert ours.n_obs == ref._N
    return ours, ref


@pytest.mark.parametrize("vcov", ["cluster", "hc1", "iid"])
def test_twfe_matches_pyfixest_on_default_panel(study, vcov):
    df = study.panel
    _compare(df, "y", ["d"], vcov)


def test_twfe_controls_matches_pyfixest_on_default_panel(study):
    df = study.panel
    ours, ref = _compare(df, "y", ["d", *study.controls], "cluster")
    assert ours.n_obs == int(df[["y", *study.controls]].dropna().shape[0])
    # overall R2 (with fixed effects) and within R2, as fixest's r2 / wr2
    assert ours.r2 == pytest.approx(float(ref._r2), rel=1e-8)
    assert ours.r2_within == pytest.approx(float(ref._r2_within), rel=1e-8)


@pytest.mark.parametrize("vcov", ["cluster", "hc1", "iid"])
def test_fe_ols_matches_pyfixest_on_unbalanced_user_panel(vcov):
    df = make_user_panel().rename(columns={"firm": "unit", "year": "time"})
    df["d"] = ((df["first_treat"] > 0) & (df["time"] >= df["first_treat"])).astype(int)
    _compare(df, "sales", ["d", "x1", "x2"], vcov)


def test_demean_two_way_balanced_closed_form():
    # balanced two-way: one sweep gives x - row mean - col mean + grand mean
    rng = np.random.default_rng(0)
    m = rng.normal(size=(7, 5))
    u = np.repeat(np.arange(7), 5)
    t = np.tile(np.arange(5), 7)
    got = demean(m.reshape(-1), [u, t]).reshape(7, 5)
    want = m - m.mean(1, keepdims=True) - m.mean(0, keepdims=True) + m.mean()
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_singletons_dropped_iteratively():
    unit = np.array([0, 0, 1, 2, 2])
    time = np.array([0, 1, 0, 0, 2])
    keep = drop_singletons([unit, time])
    # unit 1 and time 2 are singletons; without them unit 2 is, then times 0 and 1: all go
    assert keep.tolist() == [False, False, False, False, False]
    keep2 = drop_singletons([np.array([0, 0, 1, 1, 2]), np.array([0, 1, 0, 1, 0])])
    assert keep2.tolist() == [True, True, True, True, False]


def test_independent_columns_keeps_the_first_of_each_dependent_set():
    """Known by construction: c3 = c0 + c1, c5 = 2 c2 - c4, c6 = 0; the others random."""
    from bayes_resil.ols import independent_columns

    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 8))
    x[:, 3] = x[:, 0] + x[:, 1]
    x[:, 5] = 2 * x[:, 2] - x[:, 4]
    x[:, 6] = 0.0
    assert independent_columns(x).tolist() == [True, True, True, False, True, False, False,
                                               True]
    # nearly dependent beyond the tolerance is kept; within it, dropped
    y = x[:, [0, 1]].copy()
    y = np.column_stack([y, y[:, 0] + 1e-6 * rng.normal(size=50), y[:, 1] * (1 + 1e-13)])
    assert independent_columns(y).tolist() == [True, True, True, False]
    # more columns than rows: only as many as the rank
    assert independent_columns(rng.normal(size=(3, 5))).tolist() == [True] * 3 + [False] * 2
